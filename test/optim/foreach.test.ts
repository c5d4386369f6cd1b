// The SGD list path (one `_foreach_*` call per group and line of the update, the default) against
// the per-tensor path (`foreach: false`): on the CPU both must give the same bits, step after step,
// for every branch of the update (momentum's first step, dampening, Nesterov, weight decay,
// maximize, parameters that skip steps, several groups, float32 and float64). PyTorch itself is
// checked against both paths in optimizers.test.ts ('SGD … per tensor' / '… list ops').
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { memoryStats, optim, scope, type Tensor } from '../../src/index.js';
import { fromWire, Rng, values, type FloatDType } from './harness.js';

const SHAPES = [[4, 3], [5], [2, 3, 2], [1]];
const STEPS = 12;

/** Parameter 1 has no gradient at step 4, parameter 2 none before step 3 (its momentum starts late). */
const hasGrad = (step: number, param: number) => !((param === 1 && step === 4) || (param === 2 && step < 3));

function trajectory(options: Partial<optim.SGDOptions>, foreach: boolean, dtype: FloatDType, twoGroups: boolean): number[][][] {
  const rng = new Rng(7);
  return scope(() => {
    const params = SHAPES.map((s) => fromWire(rng.wire(s, dtype)).requiresGrad_());
    const grads = Array.from({ length: STEPS }, (_, step) => SHAPES.map((s, i) => (hasGrad(step, i) ? rng.wire(s, dtype, 0.5) : null)));
    const groups = twoGroups
      ? [{ params: params.slice(0, 2) }, { params: params.slice(2), lr: 0.02, momentum: 0.5, weightDecay: 0.1 }]
      : [{ params }];
    const opt = new optim.SGD(groups, { lr: 0.1, ...options, foreach });
    const out: number[][][] = [];
    for (let step = 0; step < STEPS; step++) {
      scope(() => params.forEach((p, i) => (p.grad = grads[step]?.[i] ? fromWire(grads[step]?.[i] as never) : null)));
      opt.step();
      out.push(params.map(values));
    }
    opt.dispose();
    return out;
  });
}

const CASES: [string, Partial<optim.SGDOptions>][] = [
  ['plain', {}],
  ['momentum', { momentum: 0.9 }],
  ['momentum + dampening', { momentum: 0.9, dampening: 0.3 }],
  ['Nesterov + weight decay', { momentum: 0.9, nesterov: true, weightDecay: 5e-4 }],
  ['weight decay + maximize', { momentum: 0.8, weightDecay: 0.01, maximize: true }],
];

describe('SGD: the list path (foreach) gives the per-tensor path\'s bits', () => {
  for (const [name, options] of CASES)
    for (const dtype of ['float32', 'float64'] as const)
      for (const twoGroups of [false, true])
        it(`${name}, ${dtype}${twoGroups ? ', two groups' : ''}`, () => {
          const perTensor = trajectory(options, false, dtype, twoGroups);
          const list = trajectory(options, true, dtype, twoGroups);
          assert.deepEqual(list, perTensor);
          // The update really moved the parameters (a no-op would also be "equal").
          assert.notDeepEqual(list.at(-1), list[0]);
        });

  it('a group none of whose parameters has a gradient is left alone', () => {
    scope(() => {
      const p = fromWire(new Rng(1).wire([3], 'float32')).requiresGrad_();
      const before = values(p);
      const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
      opt.step();
      assert.deepEqual(values(p), before);
      opt.dispose();
    });
  });

  it('keeps no tensor beyond its momentum buffers', () => {
    const live = () => memoryStats().liveTensors;
    scope(() => {
      const params: Tensor[] = SHAPES.map((s) => fromWire(new Rng(2).wire(s, 'float32')).requiresGrad_());
      const opt = new optim.SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
      const step = () => {
        scope(() => params.forEach((p) => (p.grad = p.detach().mul(0.5))));
        opt.step();
      };
      step(); // creates the buffers
      const start = live();
      for (let i = 0; i < 5; i++) step();
      assert.equal(live(), start);
      opt.dispose();
    });
  });
});
