// nn.functional against torch.nn.functional: the functional forms applied to a layer's own
// parameters give that layer's (and PyTorch's) results, the hand-written forms match PyTorch, and a
// name means one function (a functional form named like a top-level op is that very op).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as T from '../../src/index.js';
import { nn, randn, scope, type Tensor } from '../../src/index.js';
import { ints, uniform } from '../conformance/spec.js';
import { layerSuite, type LayerCase } from './harness.js';

const F = nn.functional;

/** A functional call on the parameters of module `ts` (PyTorch: `py`), inputs x. */
const call = (name: string, ts: () => nn.Module, py: string, inputs: LayerCase['inputs'], fn: (m: nn.Module, x: Tensor[]) => unknown, pyCall: string, steps: LayerCase['steps'] = ['train']): LayerCase =>
  ({ name, ts, py, inputs, call: { ts: fn, py: pyCall }, steps });
/** A stateless functional form: no parameters (an Identity module carries nothing). */
const stateless = (name: string, inputs: LayerCase['inputs'], fn: (x: Tensor[]) => unknown, pyCall: string): LayerCase =>
  call(name, () => new nn.Identity(), 'nn.Identity()', inputs, (_, x) => fn(x), pyCall);

const x4 = (shape: number[]) => [{ shape }];
const logProbs = { shape: [2, 3, 4], gen: uniform(-3, -0.1) };

const CASES: LayerCase[] = [
  call('linear', () => new nn.Linear(4, 3), 'nn.Linear(4, 3)', x4([2, 4]), (m, x) => F.linear(x[0]!, (m as nn.Linear).weight, (m as nn.Linear).bias), 'F.linear(x[0], m.weight, m.bias)'),
  call('conv2d same', () => new nn.Conv2d(2, 3, 3, { bias: false }), 'nn.Conv2d(2, 3, 3, bias=False)', x4([1, 2, 5, 5]),
    (m, x) => F.conv2d(x[0]!, (m as nn.Conv2d).weight, null, 1, 'same'), "F.conv2d(x[0], m.weight, None, 1, 'same')"),
  call('convTranspose2d', () => new nn.ConvTranspose2d(2, 3, 3), 'nn.ConvTranspose2d(2, 3, 3)', x4([1, 2, 4, 4]),
    (m, x) => F.convTranspose2d(x[0]!, (m as nn.ConvTranspose2d).weight, (m as nn.ConvTranspose2d).bias, { stride: 2, outputPadding: 1 }), 'F.conv_transpose2d(x[0], m.weight, m.bias, stride=2, output_padding=1)'),
  // ATen's argument order (weight and bias first), PyTorch's F.batch_norm order on the other side.
  call('batchNorm', () => new nn.BatchNorm2d(3), 'nn.BatchNorm2d(3)', x4([2, 3, 2, 2]), (m, x) => {
    const b = m as nn.BatchNorm2d;
    return F.batchNorm(x[0]!, b.weight, b.bias, b.runningMean, b.runningVar, b.training, 0.1, 1e-5, false);
  }, 'F.batch_norm(x[0], m.running_mean, m.running_var, m.weight, m.bias, m.training, 0.1, 1e-5)', ['train', 'eval']),
  call('layerNorm', () => new nn.LayerNorm(4), 'nn.LayerNorm(4)', x4([3, 4]), (m, x) => F.layerNorm(x[0]!, [4], (m as nn.LayerNorm).weight, (m as nn.LayerNorm).bias), 'F.layer_norm(x[0], [4], m.weight, m.bias)'),
  call('embedding', () => new nn.Embedding(6, 2), 'nn.Embedding(6, 2)', [{ shape: [2, 3], dtype: 'int64', gen: ints(0, 5) }],
    (m, x) => F.embedding((m as nn.Embedding).weight, x[0]!), 'F.embedding(x[0], m.weight)'),
  call('prelu', () => new nn.PReLU(3), 'nn.PReLU(3)', x4([2, 3, 2]), (m, x) => F.prelu(x[0]!, (m as nn.PReLU).weight), 'F.prelu(x[0], m.weight)'),
  stateless('dropout train', x4([4, 6]), (x) => F.dropout(x[0]!, 0.3, true), 'F.dropout(x[0], 0.3, True)'),
  stateless('featureDropout (dropout2d)', x4([2, 4, 3, 3]), (x) => F.featureDropout(x[0]!, 0.5, true), 'F.dropout2d(x[0], 0.5, True)'),
  stateless('maxPool2d', x4([1, 2, 4, 4]), (x) => F.maxPool2d(x[0]!, 2), 'F.max_pool2d(x[0], 2)'),
  stateless('softsign', x4([3, 4]), (x) => F.softsign(x[0]!), 'F.softsign(x[0])'),
  stateless('tanhshrink', x4([3, 4]), (x) => F.tanhshrink(x[0]!), 'F.tanhshrink(x[0])'),
  stateless('gelu tanh', x4([3, 4]), (x) => F.gelu(x[0]!, { approximate: 'tanh' }), "F.gelu(x[0], approximate='tanh')"),
  stateless('interpolate bilinear', x4([1, 2, 3, 4]), (x) => F.interpolate(x[0]!, { scaleFactor: 1.5, mode: 'bilinear' }), "F.interpolate(x[0], scale_factor=1.5, mode='bilinear')"),
  stateless('interpolate nearest size', x4([1, 2, 3, 4]), (x) => F.interpolate(x[0]!, { size: [5, 2] }), 'F.interpolate(x[0], size=(5, 2))'),
  stateless('crossEntropy label smoothing', [{ shape: [4, 3] }, { shape: [4], dtype: 'int64', gen: ints(0, 2) }],
    (x) => F.crossEntropy(x[0]!, x[1]!, { labelSmoothing: 0.1 }), 'F.cross_entropy(x[0], x[1], label_smoothing=0.1)'),
  stateless('nllLossNd 3-D none', [logProbs, { shape: [2, 4], dtype: 'int64', gen: ints(0, 2) }],
    (x) => F.nllLossNd(x[0]!, x[1]!, { reduction: 'none' }), "F.nll_loss(x[0], x[1], reduction='none')"),
  stateless('nllLossNd 5-D', [{ shape: [2, 3, 2, 2, 2], gen: uniform(-3, -0.1) }, { shape: [2, 2, 2, 2], dtype: 'int64', gen: ints(0, 2) }],
    (x) => F.nllLossNd(x[0]!, x[1]!), 'F.nll_loss(x[0], x[1])'),
  stateless('klDivLoss batchmean', [{ shape: [4, 3], gen: uniform(-3, -0.1) }, { shape: [4, 3], gen: uniform(0.05, 1), grad: false }],
    (x) => F.klDivLoss(x[0]!, x[1]!, { reduction: 'batchmean' }), "F.kl_div(x[0], x[1], reduction='batchmean')"),
  stateless('binaryCrossEntropy weight broadcast', [{ shape: [4, 3], gen: uniform(0.05, 0.95) }, { shape: [4, 3], gen: uniform(0, 1), grad: false }],
    (x) => F.binaryCrossEntropy(x[0]!, x[1]!, { weight: T.tensor([0.2, 1, 0.7], { dtype: x[0]!.dtype }) }), 'F.binary_cross_entropy(x[0], x[1], weight=torch.tensor([0.2, 1.0, 0.7], dtype=x[0].dtype))'),
];

layerSuite('nn.functional vs torch.nn.functional', CASES);

describe('nn.functional', () => {
  it('a name means one function: a functional form named like a top-level op is that op', () => {
    const top = T as unknown as Record<string, unknown>;
    const shared = Object.entries(F).filter(([name]) => name in top);
    assert.ok(shared.length > 40, `expected the ops the layers call to be re-exported, found ${shared.length}`);
    for (const [name, fn] of shared) assert.equal(fn, top[name], `nn.functional.${name} is not tessera.${name}`);
    // The hand-written forms have names of their own.
    for (const name of ['interpolate', 'softsign', 'tanhshrink', 'crossEntropy', 'nllLossNd', 'klDivLoss', 'focalLoss', 'sigmoidFocalLoss']) assert.ok(!(name in top), name);
  });

  it('every layer computes its functional form on its own parameters', () => {
    scope(() => {
      const x = randn([2, 3, 6, 6]);
      const conv = new nn.Conv2d(3, 4, 3, { padding: 1 });
      assert.ok(conv.forward(x).equal(F.conv2d(x, conv.weight, conv.bias, 1, 1)));
      const up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true });
      assert.ok(up.forward(x).equal(F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true })));
      const gn = new nn.GroupNorm(3, 3);
      assert.ok(gn.forward(x).equal(F.groupNorm(x, 3, gn.weight, gn.bias)));
      for (const m of [conv, up, gn]) m.dispose();
    });
  });

  it('interpolate refuses what PyTorch refuses, naming the option', () => {
    scope(() => {
      const x = randn([1, 1, 2, 2]);
      assert.throws(() => F.interpolate(x, { size: 4, scaleFactor: 2 }), /give exactly one of size and scaleFactor/);
      assert.throws(() => F.interpolate(x, {}), /give exactly one of size and scaleFactor/);
      assert.throws(() => F.interpolate(x, { size: 4, alignCorners: true }), /align_corners option can only be set with the interpolating modes/);
      assert.throws(() => F.interpolate(randn([2, 2]), { size: 4 }), /interpolate\(mode=nearest\) supports 4-D input \(N, C, H, W\), got 2-D/);
      assert.throws(() => F.interpolate(x, { size: [1, 2, 3] as unknown as [number, number] }), /size must be an int or a tuple of 2 ints, got \[1, 2, 3\]/);
    });
  });
});
