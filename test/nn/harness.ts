// The layer harness (in the spirit of Keras' run_layer_test and tinygrad's helper_test_op): every
// layer and loss test is a row of LayerCase, run the same way against PyTorch.
//
// For each (case, dtype): build the module in Tessera under manualSeed(seed) and in PyTorch under
// torch.manual_seed(seed) (reference.py, ONE Python process per test file), then check
//   - the description: toString() === repr();
//   - the default init: the same state dict keys, in the same order, with identical values;
//   - for each step (train / eval): outputs, the gradients of sum_k sum(out_k * w_k) (fixed w) with
//     respect to the inputs and to every parameter, and the state dict afterwards (running stats);
//   - loadStateDict: a module built under another seed, loaded from this one, has the same state
//     and gives the same eval output;
//   - no leak: every tensor made by the case is freed once its scope ends and the modules are disposed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { getNumThreads, manualSeed, memoryStats, scope, setNumThreads, type DType, type nn, type Tensor } from '../../src/index.js';
import { hashString, makeRng, normal, type Gen } from '../conformance/spec.js';
import { errorText, flattenOutput, makeTensor, weightValues, type WireTensor } from '../conformance/values.js';
import { compareTensors, type Tol } from './compare.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'nn', 'reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export type Mode = 'train' | 'eval';

export interface Input {
  shape: readonly number[];
  /** Fixed dtype (int64 targets and indices); default: the case dtype. */
  dtype?: DType;
  /** Values; default normal(0, 1) (integers in [-5, 5] for int64: give a generator). */
  gen?: Gen;
  /** Check the gradient w.r.t. this input (floating inputs only). Default true for floating inputs. */
  grad?: boolean;
}

export interface LayerCase {
  /** Unique within the file. */
  name: string;
  /** Builds the Tessera module (called under manualSeed(seed)). */
  ts: () => nn.Module;
  /** The PyTorch constructor, with torch, nn, F, math (and reference.py's helpers) in scope. */
  py: string;
  /** Positional forward inputs. None: the module is only built (init, repr, state dict). */
  inputs?: readonly Input[];
  /** A non-default call: Tessera side and the Python expression (with m and the list x in scope). */
  call?: { ts: (m: nn.Module, x: Tensor[]) => unknown; py: string };
  /** Default ['train', 'eval']. Each step gets fresh inputs. */
  steps?: readonly Mode[];
  /** Default ['float32', 'float64']. */
  dtypes?: readonly DType[];
  seed?: number;
  /** Tolerance per dtype override (gradients get 10x). */
  tol?: Partial<Tol>;
  /** An error case: both sides must throw, Tessera with a `Name: message` matching this. */
  throws?: RegExp;
  /** A deliberately wrong case (harness self-check): it must fail with a problem matching this. */
  expectProblem?: RegExp;
}

const DEFAULT_TOL: Record<string, Tol> = { float32: { rtol: 1e-5, atol: 1e-6 }, float64: { rtol: 1e-10, atol: 1e-12 } };

type Wire = WireTensor;
interface StepRecord {
  out: Wire[];
  outGrad: boolean[];
  inputGrads: (Wire | null)[];
  paramGrads: [string, Wire | null][];
  state: [string, Wire][];
}
interface SideRecord {
  repr?: string;
  init?: [string, Wire][];
  steps?: StepRecord[];
  error?: string;
}
interface StepInput {
  mode: Mode;
  inputs: [Wire, boolean][];
  weights: [number, Wire][];
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

function wire(t: Tensor): Wire {
  const d = t.data();
  const values = Array.from(d as ArrayLike<number | bigint>, (v) => {
    const n = Number(v);
    return Number.isNaN(n) ? 'nan' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : n;
  });
  return { dtype: t.dtype, shape: t.shape, values };
}

/** Inputs of step `i`: a pure function of (case, dtype, step, position). */
function stepInputs(c: LayerCase, dtype: DType, step: number): { values: number[]; dtype: DType; shape: number[]; grad: boolean }[] {
  return (c.inputs ?? []).map((spec, k) => {
    const d = spec.dtype ?? dtype;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const raw = (spec.gen ?? normal())(n, makeRng(hashString(`${c.name}/${step}/${k}`)), d);
    const values = raw.map((v) => (d === 'float32' ? Math.fround(v) : isFloat(d) ? v : Math.round(v)));
    return { values, dtype: d, shape: [...spec.shape], grad: isFloat(d) && spec.grad !== false };
  });
}

function callOf(c: LayerCase): (m: nn.Module, x: Tensor[]) => unknown {
  return c.call?.ts ?? ((m, x) => (m as unknown as { forward(...a: Tensor[]): unknown }).forward(...x));
}

function build(c: LayerCase, dtype: DType, seed: number): nn.Module {
  manualSeed(seed);
  const m = c.ts();
  return dtype === 'float32' ? m : m.to(dtype);
}

/** One case in Tessera; problems found on this side alone (round trip, leaks) are returned too. */
function runTessera(c: LayerCase, dtype: DType): { record: SideRecord; steps: StepInput[]; problems: string[] } {
  const seed = c.seed ?? 0;
  const modes = c.inputs ? (c.steps ?? ['train', 'eval']) : [];
  const steps: StepInput[] = [];
  const problems: string[] = [];
  const record: SideRecord = {};
  const live = memoryStats().liveTensors;
  let m: nn.Module | undefined;
  let copy: nn.Module | undefined;
  try {
    scope(() => {
      m = build(c, dtype, seed);
      record.repr = m.toString();
      record.init = [...m.stateDict()].map(([k, t]) => [k, wire(t)]);
      record.steps = [];
      const call = callOf(c);
      modes.forEach((mode, i) => {
        const module = m as nn.Module;
        module.train(mode === 'train');
        const inputs = stepInputs(c, dtype, i);
        const step: StepInput = { mode, inputs: inputs.map((x) => [{ dtype: x.dtype, shape: x.shape, values: x.values }, x.grad]), weights: [] };
        steps.push(step); // before running: a step that throws here must be asked of PyTorch too
        scope(() => {
          const x = inputs.map((spec) => makeTensor(spec, spec.grad));
          manualSeed(seed + 1 + i);
          const outs = flattenOutput(call(module, x) as Tensor);
          let loss: Tensor | undefined;
          outs.forEach((o, k) => {
            if (!o.requiresGrad) return;
            const w = { dtype: o.dtype, shape: o.shape, values: weightValues(o.numel(), k) };
            step.weights.push([k, w]);
            const term = o.mul(makeTensor(w, false)).sum();
            loss = loss ? loss.add(term) : term;
          });
          (loss as Tensor | undefined)?.backward();
          record.steps?.push({
            out: outs.map(wire),
            outGrad: outs.map((o) => o.requiresGrad),
            inputGrads: x.map((t) => (t.grad ? wire(t.grad) : null)),
            paramGrads: [...module.namedParameters()].map(([n, p]) => [n, p.grad ? wire(p.grad) : null]),
            state: [...module.stateDict()].map(([k, t]) => [k, wire(t)]),
          });
        });
        module.zeroGrad();
      });
      copy = build(c, dtype, seed + 1000);
      problems.push(...roundTrip(c, m, copy, dtype, seed));
    });
  } catch (e) {
    record.error = errorText(e);
  } finally {
    m?.dispose();
    copy?.dispose();
  }
  const leaked = memoryStats().liveTensors - live;
  if (leaked !== 0) problems.push(`leak: ${leaked} tensor(s) still alive after the case`);
  return { record, steps, problems };
}

/** loadStateDict from `m` into `copy`: same state, and the same eval output on the step-0 inputs. */
function roundTrip(c: LayerCase, m: nn.Module, copy: nn.Module, dtype: DType, seed: number): string[] {
  copy.loadStateDict(m.stateDict());
  const problems: string[] = [];
  const mine = m.stateDict();
  for (const [k, t] of copy.stateDict()) {
    const o = mine.get(k);
    if (!o) problems.push(`round trip: key ${k} missing`);
    else problems.push(...compareTensors(`round trip ${k}`, wire(t), wire(o), { rtol: 0, atol: 0 }));
  }
  if (!c.inputs) return problems;
  const outputs = [m, copy].map((mod) =>
    scope(() => {
      mod.eval();
      const x = stepInputs(c, dtype, 0).map((spec) => makeTensor(spec, false));
      manualSeed(seed + 1);
      return flattenOutput(callOf(c)(mod, x) as Tensor).map(wire);
    }),
  );
  const [a, b] = outputs as [Wire[], Wire[]];
  a.forEach((w, k) => problems.push(...compareTensors(`round trip eval output ${k}`, b[k] as Wire, w, { rtol: 0, atol: 0 })));
  return problems;
}

function compareSides(ts: SideRecord, py: SideRecord, tol: Tol, throws: RegExp | undefined): string[] {
  if (throws) {
    if (ts.error === undefined || py.error === undefined) return [`expected both sides to throw; Tessera: ${ts.error ?? 'ok'}; PyTorch: ${py.error ?? 'ok'}`];
    return throws.test(ts.error) ? [] : [`Tessera threw '${ts.error}', expected ${throws}`];
  }
  if (ts.error !== undefined || py.error !== undefined) return [`Tessera: ${ts.error ?? 'ok'}; PyTorch: ${py.error ?? 'ok'}`];
  const p: string[] = [];
  if (ts.repr !== py.repr) p.push(`repr: Tessera\n${ts.repr}\nPyTorch\n${py.repr}`);
  const keys = (s: [string, Wire][] | undefined) => (s ?? []).map(([k]) => k).join(', ');
  const compareState = (what: string, a: [string, Wire][] | undefined, b: [string, Wire][] | undefined, t: Tol) => {
    if (keys(a) !== keys(b)) return void p.push(`${what} keys: Tessera [${keys(a)}] vs PyTorch [${keys(b)}]`);
    (a ?? []).forEach(([k, w], i) => p.push(...compareTensors(`${what} ${k}`, w, (b?.[i] as [string, Wire])[1], t)));
  };
  compareState('init', ts.init, py.init, { rtol: 0, atol: 0 });
  const grad = { rtol: tol.rtol * 10, atol: tol.atol * 10 };
  (ts.steps ?? []).forEach((s, i) => {
    const r = py.steps?.[i];
    if (!r) return void p.push(`step ${i}: no PyTorch result`);
    if (s.out.length !== r.out.length) p.push(`step ${i}: ${s.out.length} outputs vs ${r.out.length}`);
    s.out.forEach((o, k) => p.push(...compareTensors(`step ${i} output ${k}`, o, r.out[k] as Wire, tol)));
    if (s.outGrad.join() !== r.outGrad.join()) p.push(`step ${i} requires_grad of outputs: [${s.outGrad.join()}] vs [${r.outGrad.join()}]`);
    s.inputGrads.forEach((g, k) => {
      const h = r.inputGrads[k] ?? null;
      if ((g === null) !== (h === null)) p.push(`step ${i} input ${k} grad: Tessera ${g ? 'has' : 'has none'}, PyTorch ${h ? 'has' : 'has none'}`);
      else if (g && h) p.push(...compareTensors(`step ${i} input ${k} grad`, g, h, grad));
    });
    const names = (x: [string, Wire | null][]) => x.map(([n]) => n).join(', ');
    if (names(s.paramGrads) !== names(r.paramGrads)) p.push(`step ${i} parameter names: [${names(s.paramGrads)}] vs [${names(r.paramGrads)}]`);
    else s.paramGrads.forEach(([n, g], k) => {
      const h = (r.paramGrads[k] as [string, Wire | null])[1];
      if ((g === null) !== (h === null)) p.push(`step ${i} grad of ${n}: Tessera ${g ? 'has' : 'has none'}, PyTorch ${h ? 'has' : 'has none'}`);
      else if (g && h) p.push(...compareTensors(`step ${i} grad of ${n}`, g, h, grad));
    });
    compareState(`step ${i} state`, s.state, r.state, tol);
  });
  return p;
}

/** Declares one test per (case, dtype), all run against ONE Python process in `before`. */
export function layerSuite(title: string, cases: readonly LayerCase[]): void {
  const outcomes = new Map<string, string[]>();
  const threads = getNumThreads();
  describe(title, () => {
    before(() => {
      // One intra-op thread, like the reference: reductions then sum in the same order.
      setNumThreads(1);
      const requests: object[] = [];
      const mine = new Map<string, { c: LayerCase; record: SideRecord; problems: string[]; tol: Tol }>();
      for (const c of cases) {
        for (const dtype of c.dtypes ?? ['float32', 'float64']) {
          const id = `${c.name} [${dtype}]`;
          const { record, steps, problems } = runTessera(c, dtype);
          mine.set(id, { c, record, problems, tol: { ...(DEFAULT_TOL[dtype] ?? { rtol: 1e-5, atol: 1e-6 }), ...c.tol } });
          requests.push({ id, py: c.py, call: c.call?.py ?? 'm(*x)', dtype, seed: c.seed ?? 0, steps });
        }
      }
      const proc = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify({ cases: requests }), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
      const failure = proc.error ? proc.error.message : proc.status !== 0 ? `exit ${proc.status}: ${proc.stderr.slice(-3000)}` : undefined;
      const results = failure ? {} : (JSON.parse(proc.stdout) as { results: Record<string, SideRecord> }).results;
      for (const [id, { c, record, problems, tol }] of mine) {
        const ref = results[id] ?? { error: failure ?? 'no result' };
        outcomes.set(id, [...compareSides(record, ref, tol, c.throws), ...problems]);
      }
    });
    after(() => setNumThreads(threads));
    for (const c of cases) {
      for (const dtype of c.dtypes ?? ['float32', 'float64']) {
        const id = `${c.name} [${dtype}]`;
        it(id, () => {
          const problems = outcomes.get(id);
          assert.ok(problems, 'the case did not run');
          if (c.expectProblem) {
            const re = c.expectProblem;
            assert.ok(problems.some((x) => re.test(x)), `self-check: expected a problem matching ${re}, got:\n${problems.join('\n') || '(none)'}`);
          } else if (problems.length) {
            assert.fail(problems.slice(0, 12).join('\n'));
          }
        });
      }
    }
  });
}


