// The conformance harness: runs every (row, dtype) case of the op table in Tessera, asks PyTorch
// (reference.py, one Python process for all cases) for the same computation, and compares values,
// shapes, dtypes, requires_grad and the gradients of sum_k sum(out_k * w_k) (compare.ts). A float64
// finite-difference check (gradcheck) covers the differentiable rows that ask for it.
//
// A crash (segfault) in an op kills the whole test process without naming the op: run with
// TESSERA_CONFORMANCE_PROGRESS=1 to have each case named on stderr before it runs.
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { autograd, manualSeed, noGrad, scope, Tensor, type DType } from '../../src/index.js';
import { native } from '../../src/tensor/native.js';
import { compareCase } from './compare.js';
import type { OpOutput, OpRow } from './spec.js';
import {
  encodeOutput, errorText, flattenOutput, fromWire, generateInputs, gradInputs, makeTensor, tensorValue, toWire, weightValues,
  type GeneratedInput, type SideResult, type TesseraResult, type Value, type WireTensor, type WireValue,
} from './values.js';

export { knownIssueFor } from './compare.js';
export { generateInputs, type Value } from './values.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const REFERENCE_SCRIPT = join(ROOT, 'test', 'conformance', 'reference.py');
export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export interface CaseOutcome {
  row: OpRow;
  dtype: DType;
  problems: string[];
  /** The reference failed: the row itself is wrong (a known issue cannot excuse that). */
  referenceFailed: boolean;
  calls: string[] | null;
}

// ---- tracing (see trace-addon.cts) ----

interface Trace {
  start(): void;
  stop(): string[];
}

const trace = (native as unknown as Record<symbol, Trace | undefined>)[Symbol.for('tessera.conformance.trace')];

/** Whether this process loaded the recording addon stand-in (import './trace-env.js' first). */
export function tracingActive(): boolean {
  return trace !== undefined;
}

// ---- running Tessera ----


/** Runs one case in Tessera: forward (traced), then the gradients of sum_k sum(out_k * w_k). */
export function runTessera(row: OpRow, dtype: DType, inputs: GeneratedInput[]): TesseraResult {
  const result: TesseraResult = { calls: null, weights: [] };
  const diff = new Set(gradInputs(row, dtype, inputs).map((i) => i.name));
  scope(() => {
    const x: Record<string, Tensor> = {};
    for (const input of inputs) x[input.name] = makeTensor(input, diff.has(input.name));
    let out: OpOutput;
    try {
      if (row.seed !== undefined) manualSeed(row.seed);
      trace?.start();
      try {
        out = row.ts(x, dtype);
      } finally {
        result.calls = trace ? trace.stop() : null;
      }
      result.out = encodeOutput(out);
    } catch (e) {
      result.error = errorText(e);
      return;
    }
    if (diff.size === 0) return;
    try {
      const outs = flattenOutput(out);
      let loss: Tensor | undefined;
      outs.forEach((o, k) => {
        if (!o.requiresGrad) return;
        const w = { dtype: o.dtype, shape: o.shape, values: weightValues(o.numel(), k) };
        result.weights.push([k, toWire(w)]);
        const term = o.mul(makeTensor(w, false)).sum();
        loss = loss === undefined ? term : loss.add(term);
      });
      if (loss === undefined) throw new Error('the row asks for gradients, but no output requires grad');
      const names = [...diff];
      const grads = autograd.grad(loss, names.map((n) => x[n] as Tensor), { allowUnused: true });
      result.grads = Object.fromEntries(names.map((n, i) => [n, grads[i] ? tensorValue(grads[i] as Tensor) : null]));
    } catch (e) {
      result.error = `gradient: ${errorText(e)}`;
    }
  });
  return result;
}

// ---- the reference ----

interface ReferenceCase {
  id: string;
  expr: string;
  dtype: DType;
  seed: number | null;
  inputs: [string, WireTensor][];
  grad: string[];
  weights: [number, WireTensor][];
}

interface ReferenceResponse {
  torch: string;
  results: Record<string, { out?: WireValue; grads?: Record<string, WireValue | null>; error?: string; gradError?: string }>;
}

/** Calls reference.py once for all cases. Throws with Python's stderr if it cannot run. */
export function runReference(cases: ReferenceCase[]): { torch: string; results: Map<string, SideResult> } {
  const proc = spawnSync(PYTHON, [REFERENCE_SCRIPT], {
    input: JSON.stringify({ cases }),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (proc.error) throw new Error(`cannot run ${PYTHON} ${REFERENCE_SCRIPT}: ${proc.error.message} (the reference needs python3-torch)`);
  if (proc.status !== 0) throw new Error(`${REFERENCE_SCRIPT} exited with ${proc.status ?? proc.signal}:\n${proc.stderr.slice(-4000)}`);
  const response = JSON.parse(proc.stdout) as ReferenceResponse;
  const results = new Map<string, SideResult>();
  for (const [id, r] of Object.entries(response.results)) {
    const side: SideResult = {};
    if (r.error !== undefined) side.error = r.error;
    if (r.gradError !== undefined) side.gradError = r.gradError;
    if (r.out !== undefined) side.out = fromWire(r.out);
    if (r.grads !== undefined) side.grads = Object.fromEntries(Object.entries(r.grads).map(([n, g]) => [n, g === null ? null : fromWire(g)]));
    results.set(id, side);
  }
  return { torch: response.torch, results };
}

// ---- the whole run ----

export function caseId(row: OpRow, dtype: DType): string {
  return `${row.name} [${dtype}]`;
}

export interface ConformanceRun {
  torch: string;
  outcomes: Map<string, CaseOutcome>;
  seconds: { tessera: number; reference: number };
  /** Cases whose gradients were compared. */
  gradCases: number;
}

/** Runs every case of `rows` in Tessera, then all of them at once in PyTorch, and compares. */
export function runConformance(rows: readonly OpRow[]): ConformanceRun {
  const t0 = performance.now();
  const pending: { row: OpRow; dtype: DType; ts: TesseraResult; grad: string[] }[] = [];
  const cases: ReferenceCase[] = [];
  const progress = process.env.TESSERA_CONFORMANCE_PROGRESS === '1';
  for (const row of rows) {
    for (const dtype of row.dtypes) {
      if (progress) writeSync(2, `conformance: ${caseId(row, dtype)}\n`);
      const inputs = generateInputs(row, dtype);
      const grad = gradInputs(row, dtype, inputs).map((i) => i.name);
      const ts = runTessera(row, dtype, inputs);
      pending.push({ row, dtype, ts, grad });
      cases.push({
        id: caseId(row, dtype),
        expr: row.py,
        dtype,
        seed: row.seed ?? null,
        inputs: inputs.map((i) => [i.name, toWire(i)]),
        grad,
        weights: ts.weights,
      });
    }
  }
  const t1 = performance.now();
  let reference: { torch: string; results: Map<string, SideResult> };
  try {
    reference = runReference(cases);
  } catch (e) {
    const message = errorText(e);
    reference = { torch: 'unavailable', results: new Map(cases.map((c) => [c.id, { error: message }])) };
  }
  const t2 = performance.now();
  const outcomes = new Map<string, CaseOutcome>();
  let gradCases = 0;
  for (const { row, dtype, ts, grad } of pending) {
    const id = caseId(row, dtype);
    const ref = reference.results.get(id) ?? { error: 'no result from the reference' };
    const referenceFailed = row.throws ? ref.error === undefined : ref.error !== undefined;
    outcomes.set(id, { row, dtype, problems: compareCase(row, ts, ref, grad), referenceFailed, calls: ts.calls });
    if (grad.length && ts.grads && ref.grads) gradCases++;
  }
  return { torch: reference.torch, outcomes, seconds: { tessera: (t1 - t0) / 1000, reference: (t2 - t1) / 1000 }, gradCases };
}

// ---- gradcheck: Tessera's analytic gradients against central differences, in float64 ----

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Perturbed elements per input (spread evenly over the input). */
  points?: number;
}

/** The scalar sum_k sum(out_k * w_k) over the weighted outputs `ks`, computed in JS from the forward outputs. */
function weightedSum(row: OpRow, inputs: GeneratedInput[], ks: ReadonlySet<number>): number {
  return noGrad(() =>
    scope(() => {
      const x: Record<string, Tensor> = {};
      for (const input of inputs) x[input.name] = makeTensor(input, false);
      if (row.seed !== undefined) manualSeed(row.seed);
      const outs = flattenOutput(row.ts(x, 'float64'));
      let total = 0;
      outs.forEach((o, k) => {
        if (!ks.has(k)) return; // outputs that do not require grad (running stats) are not differentiated
        const w = weightValues(o.numel(), k);
        const d = o.data() as Float64Array;
        for (let i = 0; i < d.length; i++) total += (d[i] as number) * (w[i] as number);
      });
      return total;
    }),
  );
}

/** Returns problems (empty: the analytic gradients match finite differences). */
export function gradcheck(row: OpRow, options: GradcheckOptions = {}): string[] {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const points = options.points ?? 6;
  const inputs = generateInputs(row, 'float64');
  const analytic = runTessera({ ...row, grad: true }, 'float64', inputs);
  if (analytic.error !== undefined) return [`Tessera threw: ${analytic.error}`];
  const ks = new Set(analytic.weights.map(([k]) => k));
  const problems: string[] = [];
  for (const input of gradInputs({ ...row, grad: true }, 'float64', inputs)) {
    const g = analytic.grads?.[input.name] ?? null;
    const n = input.values.length;
    const picks = n <= points ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: points }, (_, j) => Math.floor(((j + 0.5) * n) / points));
    for (const i of picks) {
      const at = (delta: number): number => {
        const values = input.values.slice();
        values[i] = (values[i] as number) + delta;
        return weightedSum(row, inputs.map((x) => (x === input ? { ...x, values } : x)), ks);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const exact = g === null ? 0 : Number((g as Extract<Value, { kind: 'tensor' }>).values[i]);
      if (!(Math.abs(numeric - exact) <= atol + rtol * Math.abs(numeric)))
        problems.push(`d/d${input.name}[${i}]: analytic ${exact}, numeric ${numeric}`);
    }
  }
  return problems;
}
