// The Optimizer base's bookkeeping: argument checks, groups and their defaults, zeroGrad, step
// with a closure, and loadStateDict's validation (a rejected dict changes nothing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { noGrad, optim, scope, tensor, type Tensor } from '../../src/index.js';

const param = (values: number[]) => tensor(values, { dtype: 'float32' }).requiresGrad_();

describe('Optimizer bookkeeping', () => {
  it('checks its arguments as PyTorch does', () => {
    scope(() => {
      const a = param([1, 2]);
      assert.throws(() => new optim.SGD([], { lr: 0.1 }), /empty parameter list/);
      assert.throws(() => new optim.SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 }), /more than one parameter group/);
      assert.throws(() => new optim.SGD([a.mul(2)], { lr: 0.1 }), /non-leaf/);
      assert.throws(() => new optim.SGD([a], { lr: 0.1, nesterov: true }), /Nesterov/);
      assert.throws(() => new optim.Adam([a], { betas: [1.0, 0.999] }), /beta parameter at index 0/);
      assert.throws(() => new optim.SGD([a], { lr: -1 }), /learning rate/);
    });
  });

  it('fills each group from the defaults, and addParamGroup adds one', () => {
    scope(() => {
      const [a, b, c] = [param([1]), param([2]), param([3])];
      const opt = new optim.Adam([{ params: [a] }, { params: [b], lr: 0.5, weightDecay: undefined }], { lr: 0.01, weightDecay: 0.1 });
      assert.deepEqual(opt.paramGroups.map((g) => [g.lr, g.weightDecay, g.betas]), [[0.01, 0.1, [0.9, 0.999]], [0.5, 0.1, [0.9, 0.999]]]);
      opt.addParamGroup({ params: [c], amsgrad: true });
      assert.equal(opt.paramGroups[2]?.amsgrad, true);
      assert.equal(opt.paramGroups[2]?.lr, 0.01);
      (opt.paramGroups[0]?.betas as number[])[0] = 0.5; // groups own their copies of array options
      assert.equal(opt.paramGroups[1]?.betas[0], 0.9);
      const sd = opt.stateDict();
      assert.deepEqual(sd.param_groups.map((g) => g.params), [[0], [1], [2]]);
      assert.ok('weight_decay' in (sd.param_groups[0] as object), 'PyTorch names in the state dict');
    });
  });

  it('zeroGrad sets gradients to none, or zeroes them in place', () => {
    scope(() => {
      const a = param([1, 2]);
      const opt = new optim.SGD([a], { lr: 0.1 });
      a.grad = tensor([3, 4], { dtype: 'float32' });
      const before = a.grad as Tensor;
      opt.zeroGrad(false);
      assert.deepEqual(Array.from(before.data() as Float32Array), [0, 0], 'same storage, zeroed');
      opt.zeroGrad();
      assert.equal(a.grad, null);
    });
  });

  it('step(closure) evaluates the closure with gradients on and returns its result', () => {
    scope(() => {
      const a = param([1, 2]);
      const opt = new optim.SGD([a], { lr: 0.5 });
      const loss = noGrad(() =>
        opt.step(() => {
          const l = a.pow(2).sum(); // ∂/∂a = 2a
          l.backward();
          return l.item();
        }),
      );
      assert.equal(loss, 5);
      assert.deepEqual(Array.from(a.data() as Float32Array), [0, 0]); // a − 0.5·2a
    });
  });

  it('loadStateDict rejects a mismatched dict without changing anything', () => {
    scope(() => {
      const [a, b] = [param([1, 2]), param([3])];
      const opt = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
      a.grad = tensor([1, 1], { dtype: 'float32' });
      b.grad = tensor([1], { dtype: 'float32' });
      opt.step();
      const good = opt.stateDict();
      const other = new optim.SGD([{ params: [a] }, { params: [b] }], { lr: 0.1 });
      assert.throws(() => other.loadStateDict(good), /parameter groups saved/);
      const bad = { state: good.state, param_groups: [{ ...good.param_groups[0], params: [0, 1], momentum: -1 }] };
      assert.throws(() => opt.loadStateDict(bad), /invalid momentum/);
      assert.equal(opt.paramGroups[0]?.momentum, 0.9);
      assert.ok(opt.state.get(a)?.momentum_buffer, 'state kept');
      opt.dispose();
      assert.equal(opt.state.size, 0);
    });
  });
});
