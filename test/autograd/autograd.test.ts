import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  autograd, enableGrad, isGradEnabled, noGrad, noGradGuard, ones, scope, tensor, type Tensor,
} from '../../src/index.js';
import { assertClose } from '../helpers.js';

describe('autograd', () => {
  it('backward fills .grad of leaves (d/dx sum(x^2 * 3) = 6x)', () => {
    scope(() => {
      const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
      x.pow(2).mul(3).sum().backward();
      assertClose(x.grad as Tensor, [6, 12, 18]);
      assert.equal(x.isLeaf, true);
      assert.equal(x.pow(2).isLeaf, false);
      assert.equal(x.pow(2).gradFn, 'PowBackward0');
    });
  });

  it('backward takes an explicit gradient for non-scalar outputs, and accumulates', () => {
    scope(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const y = x.mul(x);
      y.backward(tensor([1, 10], { dtype: 'float64' }), { retainGraph: true });
      assertClose(x.grad as Tensor, [2, 40]);
      y.backward(tensor([1, 1], { dtype: 'float64' }));
      assertClose(x.grad as Tensor, [4, 44]);
      x.grad = null;
      assert.equal(x.grad, null);
    });
  });

  it('detach cuts the graph', () => {
    scope(() => {
      const x = tensor([2], { dtype: 'float32', requiresGrad: true });
      const y = x.mul(x.detach());
      y.sum().backward();
      assertClose(x.grad as Tensor, [2]); // only the non-detached factor contributes
      assert.equal(x.detach().requiresGrad, false);
    });
  });

  it('autograd.grad with createGraph supports double backward (gradient penalty)', () => {
    scope(() => {
      const x = tensor([1.5, -2], { dtype: 'float64', requiresGrad: true });
      const y = x.pow(3).sum();
      const [g] = autograd.grad(y, x, { createGraph: true }); // 3x^2
      assertClose(g as Tensor, [6.75, 12]);
      const penalty = (g as Tensor).pow(2).sum(); // sum 9x^4 → d/dx = 36x^3
      const [gg] = autograd.grad(penalty, x);
      assertClose(gg as Tensor, [36 * 1.5 ** 3, 36 * -8]);
      assert.equal(x.grad, null, 'autograd.grad does not touch .grad');
    });
  });

  it('autograd.grad reports unused inputs as null only when allowed', () => {
    scope(() => {
      const a = tensor([1], { dtype: 'float32', requiresGrad: true });
      const b = tensor([1], { dtype: 'float32', requiresGrad: true });
      const y = a.mul(2).sum();
      assert.throws(() => autograd.grad(y, [a, b], { retainGraph: true }), /not have been used in the graph/);
      const [ga, gb] = autograd.grad(y, [a, b], { allowUnused: true });
      assertClose(ga as Tensor, [2]);
      assert.equal(gb, null);
    });
  });

  it('noGrad and enableGrad restore the previous mode, also when the body throws', () => {
    assert.equal(isGradEnabled(), true);
    scope(() => {
      const x = ones([2]).requiresGrad_();
      const y = noGrad(() => x.mul(2));
      assert.equal(y.requiresGrad, false);
      assert.equal(isGradEnabled(), true);
      assert.throws(() => noGrad(() => {
        throw new Error('boom');
      }), /boom/);
      assert.equal(isGradEnabled(), true);
      noGrad(() => {
        const z = enableGrad(() => x.mul(2));
        assert.equal(z.requiresGrad, true);
        assert.equal(isGradEnabled(), false);
      });
      assert.equal(isGradEnabled(), true);
    });
  });

  it('noGradGuard works with `using`', () => {
    {
      using _guard = noGradGuard();
      assert.equal(isGradEnabled(), false);
    }
    assert.equal(isGradEnabled(), true);
  });

  it('refuses async bodies for noGrad (grad mode is thread-global)', () => {
    assert.throws(() => noGrad(async () => 1), /synchronous function/);
    assert.equal(isGradEnabled(), true);
  });
});
