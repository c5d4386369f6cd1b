// Parity with PyTorch: Linear and the convolutions (init, repr, state dict, forward, gradients).
import { manualSeed, nn } from '../../src/index.js';
import { layerSuite, type LayerCase } from './harness.js';

const CASES: LayerCase[] = [
  { name: 'Linear', ts: () => new nn.Linear(5, 3), py: 'nn.Linear(5, 3)', inputs: [{ shape: [4, 5] }] },
  { name: 'Linear no bias 3-D input', ts: () => new nn.Linear(4, 2, { bias: false }), py: 'nn.Linear(4, 2, bias=False)', inputs: [{ shape: [2, 3, 4] }], seed: 3 },
  { name: 'Conv1d', ts: () => new nn.Conv1d(3, 4, 3), py: 'nn.Conv1d(3, 4, 3)', inputs: [{ shape: [2, 3, 9] }] },
  { name: 'Conv1d stride padding dilation groups', ts: () => new nn.Conv1d(4, 6, 2, { stride: 2, padding: 1, dilation: 2, groups: 2 }), py: 'nn.Conv1d(4, 6, 2, stride=2, padding=1, dilation=2, groups=2)', inputs: [{ shape: [2, 4, 11] }], seed: 5 },
  { name: 'Conv1d same', ts: () => new nn.Conv1d(2, 3, 4, { padding: 'same' }), py: "nn.Conv1d(2, 3, 4, padding='same')", inputs: [{ shape: [1, 2, 7] }] },
  { name: 'Conv2d', ts: () => new nn.Conv2d(3, 8, 3), py: 'nn.Conv2d(3, 8, 3)', inputs: [{ shape: [2, 3, 6, 6] }] },
  { name: 'Conv2d padding stride', ts: () => new nn.Conv2d(2, 4, [3, 2], { stride: [2, 1], padding: [1, 0] }), py: 'nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0))', inputs: [{ shape: [2, 2, 7, 5] }], seed: 1 },
  { name: 'Conv2d same dilated no bias', ts: () => new nn.Conv2d(2, 3, 3, { padding: 'same', dilation: 2, bias: false }), py: "nn.Conv2d(2, 3, 3, padding='same', dilation=2, bias=False)", inputs: [{ shape: [1, 2, 8, 7] }] },
  { name: 'Conv2d same even kernel', ts: () => new nn.Conv2d(1, 2, 4, { padding: 'same' }), py: "nn.Conv2d(1, 2, 4, padding='same')", inputs: [{ shape: [2, 1, 5, 6] }] },
  { name: 'Conv2d valid', ts: () => new nn.Conv2d(2, 2, 3, { padding: 'valid' }), py: "nn.Conv2d(2, 2, 3, padding='valid')", inputs: [{ shape: [1, 2, 5, 5] }] },
  { name: 'Conv2d groups depthwise', ts: () => new nn.Conv2d(4, 8, 3, { groups: 4, padding: 1 }), py: 'nn.Conv2d(4, 8, 3, groups=4, padding=1)', inputs: [{ shape: [2, 4, 5, 5] }], seed: 9 },
  { name: 'ConvTranspose2d', ts: () => new nn.ConvTranspose2d(4, 2, 3), py: 'nn.ConvTranspose2d(4, 2, 3)', inputs: [{ shape: [2, 4, 3, 3] }] },
  {
    name: 'ConvTranspose2d stride output_padding groups',
    ts: () => new nn.ConvTranspose2d(4, 6, [3, 2], { stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: [1, 2] }),
    py: 'nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2))',
    inputs: [{ shape: [2, 4, 3, 4] }],
    seed: 2,
  },
  {
    name: 'ConvTranspose2d output_size',
    ts: () => new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, bias: false }),
    py: 'nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, bias=False)',
    inputs: [{ shape: [1, 2, 4, 4] }],
    call: { ts: (m, [x]) => (m as nn.ConvTranspose2d).forward(x!, [8, 8]), py: 'm(x[0], output_size=[8, 8])' },
  },
  // Self-check: a Conv2d built with a different seed must be caught by the init comparison.
  { name: 'self-check: wrong init is caught', ts: () => (manualSeed(5), new nn.Conv2d(1, 2, 3)), py: 'nn.Conv2d(1, 2, 3)', seed: 4, dtypes: ['float32'], expectProblem: /^init weight/ },
];

layerSuite('nn conv layers vs PyTorch', CASES);
