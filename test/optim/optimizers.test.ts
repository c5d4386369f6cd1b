// Optimizer parity with PyTorch 1.13: the same initial parameters and the same 20 synthetic
// gradients (some parameters skip some steps) go through Tessera and through torch.optim
// (reference.py, one Python process for every case); the trajectories must agree to 1e-6 relative
// in float32 and 1e-12 in float64. State dicts: ours saved after 10 steps and loaded into a fresh
// optimizer continue bit-identically; PyTorch's, loaded into ours, continue PyTorch's trajectory;
// and ours has PyTorch's layout (same state keys per parameter index, same group keys and values).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { optim, scope, Tensor } from '../../src/index.js';
import { camelOptions, Deviation, fromWire, Rng, runReference, toleranceFor, values, wireValues, type FloatDType, type WireTensor } from './harness.js';

type OptimizerName = 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad' | 'Lion';
type Options = Record<string, number | boolean | number[]>;

interface OptimCase {
  name: string;
  optimizer: OptimizerName;
  /** Constructor options under PyTorch's names (translated to camelCase for Tessera). */
  options: Options;
  /** Two groups (parameters 0, 1 and parameter 2) with these overrides; one group if absent. */
  groups?: [Options, Options];
  dtype?: FloatDType;
}

const TWO_GROUPS: [Options, Options] = [{ lr: 0.05 }, { lr: 0.005 }];

const CASES: OptimCase[] = [
  { name: 'SGD plain', optimizer: 'SGD', options: { lr: 0.1 } },
  { name: 'SGD momentum', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9 } },
  { name: 'SGD momentum+dampening', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9, dampening: 0.25 } },
  { name: 'SGD nesterov', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true } },
  { name: 'SGD weight decay+maximize', optimizer: 'SGD', options: { lr: 0.05, momentum: 0.8, weight_decay: 0.01, maximize: true } },
  { name: 'SGD two groups', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9 }, groups: [{ lr: 0.1 }, { lr: 0.01, momentum: 0.5, weight_decay: 0.1 }] },
  // Both update paths of Tessera against both of PyTorch's (the default above is the list path).
  { name: 'SGD nesterov+wd, per tensor (foreach false)', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3, foreach: false } },
  { name: 'SGD nesterov+wd, list ops (foreach true)', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3, foreach: true } },
  { name: 'SGD nesterov+wd float64', optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3 }, dtype: 'float64' },
  { name: 'Adam', optimizer: 'Adam', options: { lr: 0.01 } },
  { name: 'Adam amsgrad', optimizer: 'Adam', options: { lr: 0.01, amsgrad: true } },
  { name: 'Adam weight decay', optimizer: 'Adam', options: { lr: 0.01, weight_decay: 0.05 } },
  { name: 'Adam maximize+betas+eps', optimizer: 'Adam', options: { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, maximize: true } },
  { name: 'Adam two groups', optimizer: 'Adam', options: { lr: 0.01 }, groups: [{ lr: 0.03, amsgrad: true }, { lr: 0.001, weight_decay: 0.1 }] },
  { name: 'Adam amsgrad+wd float64', optimizer: 'Adam', options: { lr: 0.01, amsgrad: true, weight_decay: 0.01 }, dtype: 'float64' },
  { name: 'AdamW', optimizer: 'AdamW', options: { lr: 0.01 } },
  { name: 'AdamW amsgrad', optimizer: 'AdamW', options: { lr: 0.01, amsgrad: true, weight_decay: 0.1 } },
  { name: 'AdamW maximize', optimizer: 'AdamW', options: { lr: 0.01, weight_decay: 0.3, maximize: true } },
  { name: 'AdamW two groups', optimizer: 'AdamW', options: { lr: 0.01 }, groups: [{ weight_decay: 0.1 }, { weight_decay: 0, lr: 0.02 }] },
  { name: 'AdamW float64', optimizer: 'AdamW', options: { lr: 0.01, amsgrad: true }, dtype: 'float64' },
  { name: 'RMSprop', optimizer: 'RMSprop', options: { lr: 0.01 } },
  { name: 'RMSprop centered', optimizer: 'RMSprop', options: { lr: 0.01, centered: true } },
  { name: 'RMSprop momentum', optimizer: 'RMSprop', options: { lr: 0.01, momentum: 0.9 } },
  { name: 'RMSprop centered+momentum+wd', optimizer: 'RMSprop', options: { lr: 0.01, centered: true, momentum: 0.5, weight_decay: 0.01 } },
  { name: 'RMSprop alpha+eps+maximize', optimizer: 'RMSprop', options: { lr: 0.01, alpha: 0.9, eps: 1e-6, maximize: true } },
  { name: 'RMSprop two groups', optimizer: 'RMSprop', options: { lr: 0.01 }, groups: [{ centered: true }, { momentum: 0.9, lr: 0.001 }] },
  { name: 'RMSprop centered+momentum float64', optimizer: 'RMSprop', options: { lr: 0.01, centered: true, momentum: 0.9 }, dtype: 'float64' },
  { name: 'Adagrad', optimizer: 'Adagrad', options: { lr: 0.1 } },
  { name: 'Adagrad lr_decay', optimizer: 'Adagrad', options: { lr: 0.1, lr_decay: 0.05 } },
  { name: 'Adagrad initial accumulator+wd', optimizer: 'Adagrad', options: { lr: 0.1, initial_accumulator_value: 0.1, weight_decay: 0.01 } },
  { name: 'Adagrad maximize+eps', optimizer: 'Adagrad', options: { lr: 0.1, eps: 1e-6, maximize: true } },
  { name: 'Adagrad two groups', optimizer: 'Adagrad', options: { lr: 0.1 }, groups: TWO_GROUPS },
  { name: 'Adagrad float64', optimizer: 'Adagrad', options: { lr: 0.1, lr_decay: 0.01 }, dtype: 'float64' },
  { name: 'Lion', optimizer: 'Lion', options: { lr: 1e-3 } },
  { name: 'Lion weight decay', optimizer: 'Lion', options: { lr: 1e-3, weight_decay: 0.5 } },
  { name: 'Lion betas+maximize', optimizer: 'Lion', options: { lr: 1e-3, betas: [0.95, 0.98], maximize: true } },
  { name: 'Lion two groups', optimizer: 'Lion', options: { lr: 1e-3 }, groups: [{ lr: 3e-3, weight_decay: 0.1 }, { lr: 1e-4 }] },
  { name: 'Lion float64', optimizer: 'Lion', options: { lr: 1e-3, weight_decay: 0.1 }, dtype: 'float64' },
];

const STEPS = 20;
const SAVE_AFTER = 10;
const SHAPES = [[4, 3], [5], [2, 3, 2]];

/** Which gradients are missing: parameter 1 at step 6, parameter 2 for the first two steps. */
function hasGrad(step: number, param: number): boolean {
  return !((param === 1 && step === 6) || (param === 2 && step < 2));
}

interface Wire {
  optimizer: OptimizerName;
  options: Options;
  groups: (Options & { params: number[] })[];
  params: WireTensor[];
  grads: (WireTensor | null)[][];
  saveAfter: number;
}

function wireCase(c: OptimCase, seed: number): Wire {
  const dtype = c.dtype ?? 'float32';
  const rng = new Rng(seed);
  const params = SHAPES.map((s) => rng.wire(s, dtype));
  const grads = Array.from({ length: STEPS }, (_, step) => SHAPES.map((s, i) => (hasGrad(step, i) ? rng.wire(s, dtype, 0.5) : null)));
  const groups = c.groups ? [{ ...c.groups[0], params: [0, 1] }, { ...c.groups[1], params: [2] }] : [{ params: [0, 1, 2] }];
  return { optimizer: c.optimizer, options: c.options, groups, params, grads, saveAfter: SAVE_AFTER };
}

type Saved = number | null | { tensor: WireTensor } | Saved[];
interface PyResult {
  trajectory: WireTensor[][];
  stateDict: { state: Record<string, Record<string, Saved>>; param_groups: Record<string, Saved>[] } | null;
}

function makeOptimizer(w: Wire, params: Tensor[]): optim.Optimizer {
  const groups = w.groups.map(({ params: ids, ...o }) => ({ ...camelOptions(o), params: ids.map((i) => params[i] as Tensor) }));
  const options = camelOptions(w.options);
  switch (w.optimizer) {
    case 'SGD': return new optim.SGD(groups as never, options as never);
    case 'Adam': return new optim.Adam(groups as never, options);
    case 'AdamW': return new optim.AdamW(groups as never, options);
    case 'RMSprop': return new optim.RMSprop(groups as never, options);
    case 'Adagrad': return new optim.Adagrad(groups as never, options);
    case 'Lion': return new optim.Lion(groups as never, options);
  }
}

/** Steps `opt` over gradients [from, to), recording the parameters after each step. */
function run(opt: optim.Optimizer, params: Tensor[], w: Wire, from: number, to: number): number[][][] {
  const out: number[][][] = [];
  for (let step = from; step < to; step++) {
    scope(() => {
      params.forEach((p, i) => {
        const g = w.grads[step]?.[i];
        p.grad = g ? fromWire(g) : null;
      });
    });
    opt.step();
    out.push(params.map(values));
  }
  return out;
}

function freshParams(ws: WireTensor[] | number[][], dtype: FloatDType): Tensor[] {
  return ws.map((w, i) => {
    const wire: WireTensor = Array.isArray(w) ? { dtype, shape: SHAPES[i] as number[], values: w } : w;
    return fromWire(wire).requiresGrad_();
  });
}

/** PyTorch's state_dict (as reference.py sends it) as a Tessera OptimizerStateDict. */
function decodeStateDict(sd: NonNullable<PyResult['stateDict']>): optim.OptimizerStateDict {
  const decode = (v: Saved): unknown => (Array.isArray(v) ? v.map(decode) : v !== null && typeof v === 'object' ? fromWire(v.tensor) : v);
  const state = new Map<number, Record<string, Tensor | number | null>>();
  for (const [k, s] of Object.entries(sd.state))
    state.set(Number(k), Object.fromEntries(Object.entries(s).map(([n, v]) => [n, decode(v)])) as Record<string, Tensor | number | null>);
  const param_groups = sd.param_groups.map((g) => Object.fromEntries(Object.entries(g).map(([n, v]) => [n, decode(v)])) as { params: number[] });
  return { state, param_groups };
}

describe('optimizers match PyTorch 1.13 (single-tensor paths)', () => {
  const wires = CASES.map((c, i) => wireCase(c, 1000 + i));
  let reference: PyResult[] = [];
  before(() => {
    reference = runReference<PyResult>('optim', wires);
  });

  CASES.forEach((c, ci) => {
    const w = wires[ci] as Wire;
    const dtype = c.dtype ?? 'float32';
    const tol = toleranceFor(dtype);

    it(`${c.name}: ${STEPS}-step trajectory and state-dict round trips`, (t) => {
      const py = reference[ci] as PyResult;
      scope(() => {
        // 1. The trajectory.
        const params = freshParams(w.params, dtype);
        const opt = makeOptimizer(w, params);
        const ours = run(opt, params, w, 0, STEPS);
        opt.dispose();
        const dev = new Deviation();
        ours.forEach((step, s) => step.forEach((p, i) => dev.check(p, wireValues(py.trajectory[s]?.[i] as WireTensor), tol, `step ${s + 1} param ${i}`)));
        t.diagnostic(`trajectory vs PyTorch: ${dev.toString()}`);

        // 2. Ours saved after 10 steps, loaded into a fresh optimizer: the rest is bit-identical.
        const a = freshParams(w.params, dtype);
        const optA = makeOptimizer(w, a);
        run(optA, a, w, 0, SAVE_AFTER);
        const sd = optA.stateDict();
        const b = freshParams(a.map(values), dtype);
        const optB = makeOptimizer(w, b);
        optB.loadStateDict(sd);
        if (py.stateDict) checkLayout(sd, py.stateDict, tol);
        optA.dispose();
        assert.deepEqual(run(optB, b, w, SAVE_AFTER, STEPS), ours.slice(SAVE_AFTER), 'resumed trajectory differs from the uninterrupted one');
        optB.dispose();

        // 3. PyTorch's state dict loaded into ours continues PyTorch's trajectory.
        if (py.stateDict) {
          const p = freshParams(py.trajectory[SAVE_AFTER - 1] as WireTensor[], dtype);
          const optP = makeOptimizer(w, p);
          optP.loadStateDict(decodeStateDict(py.stateDict));
          const resumed = run(optP, p, w, SAVE_AFTER, STEPS);
          optP.dispose();
          const devP = new Deviation();
          resumed.forEach((step, s) => step.forEach((v, i) => devP.check(v, wireValues(py.trajectory[SAVE_AFTER + s]?.[i] as WireTensor), tol, `resumed step ${SAVE_AFTER + s + 1} param ${i}`)));
        }
      });
    });
  });
});

/** Our state dict has PyTorch's layout: same parameter indices and state keys, group keys PyTorch also has, equal values. */
function checkLayout(ours: optim.OptimizerStateDict, py: NonNullable<PyResult['stateDict']>, tol: { rtol: number; atol: number }): void {
  assert.deepEqual([...ours.state.keys()].sort(), Object.keys(py.state).map(Number).sort(), 'state indices');
  const dev = new Deviation();
  for (const [k, s] of ours.state) {
    const theirs = py.state[String(k)] as Record<string, Saved>;
    assert.deepEqual(Object.keys(s).sort(), Object.keys(theirs).sort(), `state keys of parameter ${k}`);
    for (const [n, v] of Object.entries(s)) {
      const e = theirs[n] as Saved;
      if (v instanceof Tensor) dev.check(values(v), wireValues((e as { tensor: WireTensor }).tensor), tol, `state ${k}.${n}`);
      else if (e !== null && typeof e === 'object' && 'tensor' in e) assert.equal(v, wireValues(e.tensor)[0], `state ${k}.${n}`); // step tensor
      else assert.equal(v, e, `state ${k}.${n}`);
    }
  }
  ours.param_groups.forEach((g, i) => {
    const theirs = py.param_groups[i] as Record<string, Saved>;
    for (const [k, v] of Object.entries(g)) assert.deepEqual(v, theirs[k], `param_groups[${i}].${k}`);
  });
}
