// Comparing one case: Tessera's result against PyTorch's, value by value (dtype-scaled tolerances,
// NaN equal to NaN, int64 exact), plus shapes, dtypes, requires_grad, gradients, the native entry
// points the row claims to cover, and the errors that error rows expect.
import type { DType } from '../../src/index.js';
import { NATIVE_OP_NAMES } from '../../src/tensor/generated/native-names.js';
import type { OpRow, Tolerance } from './spec.js';
import type { SideResult, TesseraResult, Value } from './values.js';

// ---- comparing ----

const OP_NAMES = new Set<string>(NATIVE_OP_NAMES);

const DEFAULT_TOL: Record<string, Tolerance> = {
  float32: { rtol: 1e-6, atol: 1e-7 },
  float64: { rtol: 1e-10, atol: 1e-12 },
  float16: { rtol: 1e-3, atol: 1e-3 },
  bfloat16: { rtol: 8e-3, atol: 8e-3 },
};

function toleranceFor(row: OpRow, dtype: string, scale: number): Tolerance {
  if (row.seed !== undefined && row.tol === undefined) return { rtol: 0, atol: 0 };
  const base = DEFAULT_TOL[dtype] ?? { rtol: 0, atol: 0 };
  return { rtol: (row.tol?.rtol ?? base.rtol) * scale, atol: (row.tol?.atol ?? base.atol) * scale };
}

export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'tensor':
      return `tensor ${v.dtype}[${v.shape.join(', ')}]`;
    case 'list':
      return `list of ${v.items.length}`;
    case 'none':
      return 'None';
    default:
      return `${v.kind} ${String(v.value)}`;
  }
}

function close(a: number, b: number, tol: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
}

function compareTensors(a: Extract<Value, { kind: 'tensor' }>, e: Extract<Value, { kind: 'tensor' }>, row: OpRow, path: string, scale: number, problems: string[]): void {
  if (a.dtype !== e.dtype) problems.push(`${path}: dtype ${a.dtype}, PyTorch ${e.dtype}`);
  if (a.shape.join(',') !== e.shape.join(',')) {
    problems.push(`${path}: shape [${a.shape.join(', ')}], PyTorch [${e.shape.join(', ')}]`);
    return;
  }
  if (a.requiresGrad !== undefined && e.requiresGrad !== undefined && a.requiresGrad !== e.requiresGrad)
    problems.push(`${path}: requiresGrad ${a.requiresGrad}, PyTorch ${e.requiresGrad}`);
  if (row.metaOnly) return;
  const tol = toleranceFor(row, e.dtype, scale);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < e.values.length; i++) {
    const x = a.values[i] as number | bigint;
    const y = e.values[i] as number | bigint;
    const ok = typeof x === 'bigint' || typeof y === 'bigint' ? BigInt(x) === BigInt(y) : close(x, y, tol);
    if (!ok) {
      count++;
      if (bad.length < 4) bad.push(`[${i}] ${String(x)} vs ${String(y)}`);
    }
  }
  if (count > 0) problems.push(`${path}: ${count} of ${e.values.length} values differ (rtol ${tol.rtol}, atol ${tol.atol}): ${bad.join(', ')}`);
}

function compareValues(a: Value, e: Value, row: OpRow, path: string, scale: number, problems: string[]): void {
  if (a.kind !== e.kind) {
    problems.push(`${path}: Tessera gave ${describeValue(a)}, PyTorch ${describeValue(e)}`);
    return;
  }
  if (a.kind === 'tensor' && e.kind === 'tensor') return compareTensors(a, e, row, path, scale, problems);
  if (a.kind === 'list' && e.kind === 'list') {
    if (a.items.length !== e.items.length) {
      problems.push(`${path}: ${a.items.length} items, PyTorch ${e.items.length}`);
      return;
    }
    a.items.forEach((x, i) => compareValues(x, e.items[i] as Value, row, `${path}[${i}]`, scale, problems));
    return;
  }
  if (a.kind === 'number' && e.kind === 'number') {
    if (!close(a.value, e.value, toleranceFor(row, 'float64', scale))) problems.push(`${path}: ${a.value}, PyTorch ${e.value}`);
    return;
  }
  if ('value' in a && 'value' in e && a.value !== e.value) problems.push(`${path}: ${String(a.value)}, PyTorch ${String(e.value)}`);
}

/** The covered entry points the row's callable did not call (checked only when tracing is on). */
function missingCalls(row: OpRow, ts: TesseraResult): string[] {
  if (!ts.calls) return [];
  const missing = row.covers.filter((c) => !ts.calls?.includes(c));
  if (!missing.length) return [];
  return [`did not call ${missing.join(', ')} (it covers them); called: ${ts.calls.filter((c) => OP_NAMES.has(c)).join(', ') || 'no generated op'}`];
}

function isAllZero(v: Value): boolean {
  return v.kind === 'tensor' && v.values.every((x) => Number(x) === 0);
}

function compareError(row: OpRow & { throws: RegExp }, ts: TesseraResult, ref: SideResult): string[] {
  const problems: string[] = [];
  if (ts.error === undefined) problems.push(`Tessera did not throw (expected ${row.throws}); it gave ${ts.out ? describeValue(ts.out) : 'nothing'}`);
  else if (!row.throws.test(ts.error)) problems.push(`Tessera threw "${ts.error}", expected ${row.throws}`);
  if (ref.error === undefined) problems.push('PyTorch did not raise: the row is wrong');
  return problems;
}

export function compareCase(row: OpRow, ts: TesseraResult, ref: SideResult, gradNames: string[]): string[] {
  if (row.throws) return [...compareError({ ...row, throws: row.throws }, ts, ref), ...missingCalls(row, ts)];
  const problems: string[] = [];
  if (ref.error !== undefined) problems.push(`PyTorch reference failed: ${ref.error}`);
  if (ts.error !== undefined) problems.push(`Tessera threw: ${ts.error}`);
  if (ts.out && ref.out) compareValues(ts.out, ref.out, row, 'output', 1, problems);
  if (ts.error === undefined) problems.push(...missingCalls(row, ts));
  if (ref.gradError !== undefined) problems.push(`PyTorch could not compute the gradients: ${ref.gradError}`);
  if (gradNames.length && ts.error === undefined && ref.error === undefined && ref.gradError === undefined) {
    let compared = 0;
    for (const name of gradNames) {
      const a = ts.grads?.[name] ?? null;
      const e = ref.grads?.[name] ?? null;
      if (a === null && e === null) continue;
      compared++;
      if (a === null || e === null) {
        if (!isAllZero((a ?? e) as Value)) problems.push(`grad ${name}: ${a === null ? 'Tessera' : 'PyTorch'} has none, the other ${describeValue((a ?? e) as Value)}`);
        continue;
      }
      compareValues(a, e, row, `grad ${name}`, 10, problems);
    }
    if (compared === 0) problems.push(`the row asks for gradients, but neither side has one w.r.t. ${gradNames.join(', ')}`);
  }
  return problems;
}

/** The known issue recorded for a case, if any. */
export function knownIssueFor(row: OpRow, dtype: DType): string | undefined {
  if (typeof row.knownIssue === 'string') return row.knownIssue;
  return row.knownIssue?.[dtype];
}
