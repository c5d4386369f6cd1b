// clipGradNorm_ / clipGradValue_ against torch.nn.utils.clip_grad_norm_ / clip_grad_value_:
// the returned total norm and the clipped gradients, for several norm types (∞ included), norms
// above and below the limit, a parameter without a gradient, float32 and float64, and non-finite
// gradients (which PyTorch turns into nan without error_if_nonfinite).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { optim, scope, Tensor } from '../../src/index.js';
import { Deviation, fromWire, Rng, runReference, toleranceFor, values, wireValues, type FloatDType, type WireTensor } from './harness.js';

interface ClipCase {
  name: string;
  mode: 'norm' | 'value';
  maxNorm?: number;
  normType?: number;
  clipValue?: number;
  dtype?: FloatDType;
  /** Put this value at element 0 of the first gradient. */
  poison?: number;
}

const CASES: ClipCase[] = [
  { name: 'L2, clipped', mode: 'norm', maxNorm: 1.0, normType: 2 },
  { name: 'L2, under the limit', mode: 'norm', maxNorm: 100.0, normType: 2 },
  { name: 'L1', mode: 'norm', maxNorm: 2.0, normType: 1 },
  { name: 'L∞', mode: 'norm', maxNorm: 0.5, normType: Infinity },
  { name: 'L3.5', mode: 'norm', maxNorm: 0.7, normType: 3.5 },
  { name: 'L2 float64', mode: 'norm', maxNorm: 1.0, normType: 2, dtype: 'float64' },
  { name: 'L∞ float64', mode: 'norm', maxNorm: 0.1, normType: Infinity, dtype: 'float64' },
  { name: 'L2 with an inf gradient', mode: 'norm', maxNorm: 1.0, normType: 2, poison: Infinity },
  { name: 'L2 with a nan gradient', mode: 'norm', maxNorm: 1.0, normType: 2, poison: NaN },
  { name: 'value', mode: 'value', clipValue: 0.3 },
  { name: 'value float64', mode: 'value', clipValue: 1, dtype: 'float64' },
];

const SHAPES = [[4, 3], [5], [2, 3, 2], [7]];

function wireCase(c: ClipCase, seed: number) {
  const dtype = c.dtype ?? 'float32';
  const rng = new Rng(seed);
  const params = SHAPES.map((s) => rng.wire(s, dtype));
  // Parameter 2 has no gradient; the others are large enough that clipping matters.
  const grads: (WireTensor | null)[] = SHAPES.map((s, i) => (i === 2 ? null : rng.wire(s, dtype, 1.5)));
  if (c.poison !== undefined) (grads[0] as WireTensor).values[0] = Number.isNaN(c.poison) ? 'nan' : 'inf';
  return { ...c, normType: c.normType === Infinity ? 'inf' : c.normType, params, grads };
}

type Wire = ReturnType<typeof wireCase>;

describe('gradient clipping matches torch.nn.utils', () => {
  const wires = CASES.map((c, i) => wireCase(c, 2000 + i));
  let reference: { total: WireTensor | null; grads: (WireTensor | null)[] }[] = [];
  before(() => {
    reference = runReference('clip', wires);
  });

  CASES.forEach((c, ci) => {
    it(c.name, (t) => {
      const w = wires[ci] as Wire;
      const py = reference[ci] as (typeof reference)[number];
      const tol = toleranceFor(c.dtype ?? 'float32');
      const dev = new Deviation();
      scope(() => {
        const params = w.params.map((p) => fromWire(p).requiresGrad_());
        params.forEach((p, i) => {
          const g = w.grads[i];
          p.grad = g ? fromWire(g) : null;
        });
        if (c.mode === 'value') {
          optim.clipGradValue_(params, c.clipValue as number);
        } else {
          const total = optim.clipGradNorm_(params, c.maxNorm as number, c.normType);
          assert.deepEqual(total.shape, []);
          dev.check(values(total), wireValues(py.total as WireTensor), tol, 'total norm');
        }
        params.forEach((p, i) => {
          const g = p.grad;
          const e = py.grads[i];
          assert.equal(g === null, e === null, `gradient ${i} presence`);
          if (g && e) dev.check(values(g), wireValues(e), tol, `gradient ${i}`);
        });
      });
      t.diagnostic(`vs PyTorch: ${dev.toString()}`);
    });
  });

  it('errorIfNonfinite throws on an inf gradient and leaves the gradients alone', () => {
    scope(() => {
      const p = fromWire({ dtype: 'float32', shape: [3], values: [1, 2, 3] }).requiresGrad_();
      p.grad = fromWire({ dtype: 'float32', shape: [3], values: [1, 'inf', 3] });
      assert.throws(() => optim.clipGradNorm_([p], 1.0, 2, { errorIfNonfinite: true }), /non-finite/);
      assert.deepEqual(values(p.grad as Tensor), [1, Infinity, 3]);
    });
  });

  it('returns a zero norm when no parameter has a gradient', () => {
    scope(() => {
      const p = fromWire({ dtype: 'float32', shape: [3], values: [1, 2, 3] }).requiresGrad_();
      assert.equal(optim.clipGradNorm_(p, 1.0).item(), 0);
    });
  });
});
