// ResNet matches torchvision: same state_dict keys, the same weights under the same seed, and
// the same outputs and gradients for the same input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { manualSeed, models, scope, setNumThreads, getNumThreads, tensor, type Tensor } from '../../src/index.js';

function torchvision(script: string): string {
  const r = spawnSync('/usr/bin/python3', ['-c', `import torch, torchvision, json, sys\ntorch.set_num_threads(1)\n${script}`], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('ResNet vs torchvision', () => {
  it('resnet18: identical keys and identical initial weights under the same seed', () => {
    manualSeed(0);
    const model = models.resnet18({ numClasses: 10 });
    const ref = JSON.parse(
      torchvision(`
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=10)
sd = m.state_dict()
print(json.dumps({k: [list(v.shape), float(v.double().sum()), float(v.double().abs().sum())] for k, v in sd.items()}))`),
    ) as Record<string, [number[], number, number]>;
    const sd = model.stateDict();
    assert.deepEqual([...sd.keys()], Object.keys(ref));
    for (const [k, t] of sd) {
      const [shape, sum, abs] = ref[k] as [number[], number, number];
      assert.deepEqual(t.shape, shape, k);
      scope(() => {
        const s = t.double().sum().item() as number;
        const a = t.double().abs().sum().item() as number;
        assert.ok(Math.abs(s - sum) <= 1e-9 * Math.max(1, Math.abs(sum)) && Math.abs(a - abs) <= 1e-9 * Math.max(1, abs), `${k}: ${s}/${a} vs ${sum}/${abs}`);
      });
    }
    model.dispose();
  });

  it('resnet18 (small stem): same forward output and input gradient as PyTorch with the same weights', () => {
    const threads = getNumThreads();
    setNumThreads(1);
    manualSeed(1);
    const model = models.resnet18({ numClasses: 10, stem: 'small' });
    const out = torchvision(`
import torch.nn as nn
torch.manual_seed(1)
m = torchvision.models.resnet18(num_classes=10)
m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False); m.maxpool = nn.Identity()
torch.manual_seed(2)
x = torch.randn(2, 3, 32, 32, requires_grad=True)
y = m(x); y.sum().backward()
print(json.dumps({'sd': {k: v.flatten().tolist() for k, v in m.state_dict().items()}, 'x': x.detach().flatten().tolist(), 'y': y.detach().flatten().tolist(), 'gx': x.grad.flatten().tolist()}))`);
    const ref = JSON.parse(out) as { sd: Record<string, number[]>; x: number[]; y: number[]; gx: number[] };
    const sd = new Map(Object.entries(ref.sd).map(([k, v]) => [k, tensor(v, { dtype: k.endsWith('num_batches_tracked') ? 'int64' : 'float32' })]));
    const shaped = new Map([...model.stateDict()].map(([k, t]) => [k, (sd.get(k) as Tensor).reshape(t.shape)]));
    model.loadStateDict(shaped);
    scope(() => {
      const x = tensor(ref.x, { dtype: 'float32' }).reshape([2, 3, 32, 32]).requiresGrad_();
      const y = model.forward(x);
      y.sum().backward();
      const close = (a: ArrayLike<number>, b: number[], what: string) =>
        b.forEach((v, i) => assert.ok(Math.abs((a[i] as number) - v) <= 1e-4 * Math.max(1, Math.abs(v)), `${what}[${i}]: ${a[i]} vs ${v}`));
      close(y.data() as Float32Array, ref.y, 'output');
      close((x.grad as Tensor).data() as Float32Array, ref.gx, 'input grad');
    });
    for (const t of [...sd.values(), ...shaped.values()]) t.dispose();
    model.dispose();
    setNumThreads(threads);
  });
});

describe('ResNet stem option', () => {
  it("createModel picks the small stem at ≤ 64 px only when none is given; the stem is the model's data", () => {
    const cases: [models.CreateModelOptions, models.ResNetStem, number][] = [
      [{}, 'imagenet', 7],
      [{ imageSize: 64 }, 'small', 3],
      [{ imageSize: 65 }, 'imagenet', 7],
      [{ imageSize: 32, stem: 'imagenet' }, 'imagenet', 7],
      [{ imageSize: 224, stem: 'small' }, 'small', 3],
    ];
    for (const [o, stem, k] of cases) {
      const m = models.createModel('resnet18', { classes: 2, ...o }) as models.ResNet;
      assert.equal(m.stem, stem, JSON.stringify(o));
      assert.deepEqual(m.conv1.weight.shape, [64, 3, k, k]);
      assert.equal(m.maxpool.constructor.name, stem === 'small' ? 'Identity' : 'MaxPool2d');
      assert.equal(models.resnetStemOf(m.stateDict()), stem);
      m.dispose();
    }
  });

  it('resnetStemOf: null without conv1.weight or for another kernel; a bad stem is refused by name', () => {
    scope(() => {
      assert.equal(models.resnetStemOf(new Map([['fc.weight', tensor([[1]])]])), null);
      assert.equal(models.resnetStemOf(new Map([['conv1.weight', tensor([0]).expand([64, 3, 5, 5])]])), null);
      assert.equal(models.resnetStemOf(new Map([['conv1.weight', { shape: [64, 1, 7, 7] }]])), 'imagenet');
    });
    assert.throws(() => models.resnet18({ stem: 'cifar' as models.ResNetStem }), /ResNet: stem must be 'imagenet' or 'small', got 'cifar'/);
    assert.throws(() => models.resnet18({ stem: 'toString' as models.ResNetStem }), /stem must be 'imagenet' or 'small'/);
  });
});
