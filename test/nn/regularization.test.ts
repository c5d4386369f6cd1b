// Penalties and the weight-decay split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { nn, scope, tensor, type Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

class Block extends nn.Module {
  readonly embed = this.registerModule('embed', new nn.Embedding(10, 4));
  readonly conv = this.registerModule('conv', new nn.Conv1d(4, 4, 3, { padding: 1 }));
  readonly bn = this.registerModule('bn', new nn.BatchNorm1d(4));
  readonly rnn = this.registerModule('rnn', new nn.GRU(4, 3, { bias: true }));
  readonly ln = this.registerModule('ln', new nn.LayerNorm(3));
  readonly gn = this.registerModule('gn', new nn.GroupNorm(1, 3));
  readonly head = this.registerModule('head', new nn.Linear(3, 2, { bias: false }));

  forward(x: Tensor): Tensor {
    return x;
  }
}

describe('penalties', () => {
  it('l1Penalty = Σ|p| and l2Penalty = Σp², both differentiable', () => {
    scope(() => {
      const a = tensor([1, -2, 3], { dtype: 'float32' }).requiresGrad_(true);
      const b = tensor([[-0.5, 0.5]]).requiresGrad_(true);
      assertClose(nn.l1Penalty([a, b]), [7]);
      assertClose(nn.l2Penalty([a, b]), [14.5]);
      nn.l2Penalty([a, b]).add(nn.l1Penalty([a, b])).backward();
      assertClose(a.grad as Tensor, [3, -5, 7]); // 2p + sign(p)
      assertClose(b.grad as Tensor, [-2, 2]);
    });
  });

  it('takes a module (all its parameters)', () => {
    const m = new nn.Linear(3, 2);
    scope(() => {
      let expected = 0;
      for (const p of m.parameters()) for (const v of p.data() as Float32Array) expected += v * v;
      assertClose(nn.l2Penalty(m), [expected]);
    });
    m.dispose();
  });
});

describe('weight decay split', () => {
  it('excludes norm layers and biases (LSTM/GRU bias_* too), lists each parameter once', () => {
    const m = new Block();
    const s = nn.splitDecayParameters(m);
    assert.deepEqual(s.decayNames, ['embed.weight', 'conv.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'head.weight']);
    assert.deepEqual(s.noDecayNames, ['conv.bias', 'bn.weight', 'bn.bias', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'ln.weight', 'ln.bias', 'gn.weight', 'gn.bias']);
    assert.equal(s.decay.length + s.noDecay.length, m.parameters().length);
    assert.equal(s.decay[0], m.embed.weight);
    m.dispose();
  });

  it('skips frozen parameters and honours exclude; weightDecayGroups makes optimizer groups', () => {
    const m = new Block();
    m.conv.requiresGrad_(false);
    const s = nn.splitDecayParameters(m, { exclude: (name) => name.startsWith('embed.') });
    assert.ok(!s.decayNames.includes('conv.weight') && !s.noDecayNames.includes('conv.bias'));
    assert.ok(s.noDecayNames.includes('embed.weight'));
    const groups = nn.weightDecayGroups(m, 0.05);
    assert.deepEqual(groups.map((g) => [g.params.length, g.weightDecay]), [[4, 0.05], [8, 0]]);
    m.dispose();
  });
});
