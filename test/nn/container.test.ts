// Parity with PyTorch: containers and a small model built from them (keys like `features.0.weight`).
import { nn, type Tensor } from '../../src/index.js';
import { layerSuite, type LayerCase } from './harness.js';

/** A small CNN with nested containers: the state dict paths and the init order must match PyTorch's. */
class SmallNet extends nn.Module {
  readonly features = this.registerModule('features', new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.AdaptiveAvgPool2d(1),
  ));
  readonly head = this.registerModule('head', new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.25), new nn.Linear(8, 3)));

  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x)); // (N, 1, H, W) → (N, 8, 1, 1) → (N, 3)
  }
}

const SMALL_NET_PY = `(lambda: type('SmallNet', (nn.Module,), {
  '__init__': lambda self: (nn.Module.__init__(self),
    setattr(self, 'features', nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))),
    setattr(self, 'head', nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(8, 3))))[0],
  'forward': lambda self, x: self.head(self.features(x)),
})())()`;

const CASES: LayerCase[] = [
  { name: 'Sequential', ts: () => new nn.Sequential(new nn.Linear(4, 5), new nn.Tanh(), new nn.Linear(5, 2)), py: 'nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))', inputs: [{ shape: [3, 4] }] },
  {
    name: 'Sequential named',
    ts: () => new nn.Sequential({ conv: new nn.Conv1d(2, 3, 3), norm: new nn.BatchNorm1d(3), act: new nn.GELU() }),
    py: "nn.Sequential(OrderedDict([('conv', nn.Conv1d(2, 3, 3)), ('norm', nn.BatchNorm1d(3)), ('act', nn.GELU())]))",
    inputs: [{ shape: [4, 2, 6] }],
    steps: ['train', 'eval'],
  },
  { name: 'Sequential empty', ts: () => new nn.Sequential(), py: 'nn.Sequential()', inputs: [{ shape: [2, 3] }] },
  { name: 'Sequential nested', ts: () => new nn.Sequential(new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU()), new nn.Linear(3, 1)), py: 'nn.Sequential(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), nn.Linear(3, 1))', inputs: [{ shape: [2, 3] }] },
  { name: 'ModuleList', ts: () => new nn.ModuleList([new nn.Linear(2, 3), new nn.LayerNorm(3), new nn.Embedding(4, 2)]), py: 'nn.ModuleList([nn.Linear(2, 3), nn.LayerNorm(3), nn.Embedding(4, 2)])' },
  { name: 'ModuleList empty', ts: () => new nn.ModuleList(), py: 'nn.ModuleList()' },
  { name: 'ModuleDict', ts: () => new nn.ModuleDict({ enc: new nn.Linear(3, 2), dec: new nn.Linear(2, 3), bn: new nn.BatchNorm1d(2) }), py: "nn.ModuleDict({'enc': nn.Linear(3, 2), 'dec': nn.Linear(2, 3), 'bn': nn.BatchNorm1d(2)})" },
  { name: 'small CNN', ts: () => new SmallNet(), py: SMALL_NET_PY, inputs: [{ shape: [4, 1, 6, 6] }], steps: ['train', 'train', 'eval'], seed: 11 },
];

layerSuite('nn containers and a small model vs PyTorch', CASES);
