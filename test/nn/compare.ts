// Tensor comparison for the layer harness: dtype, shape, then |a - b| <= atol + rtol·|b| per element
// (NaN equal to NaN). Reports the first mismatching elements and the worst error.
import type { WireTensor } from '../conformance/values.js';

export interface Tol {
  rtol: number;
  atol: number;
}

export function numbers(w: WireTensor): number[] {
  return w.values.map((v) => (typeof v === 'string' ? (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : NaN) : v));
}

/** Problems (empty when equal within tolerance); `b` is the reference. */
export function compareTensors(what: string, a: WireTensor, b: WireTensor, tol: Tol): string[] {
  if (a.dtype !== b.dtype) return [`${what}: dtype ${a.dtype} vs ${b.dtype}`];
  if (a.shape.join() !== b.shape.join()) return [`${what}: shape [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`];
  const [x, y] = [numbers(a), numbers(b)];
  const bad: string[] = [];
  let worst = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    const [u, v] = [x[i] as number, y[i] as number];
    if (Number.isNaN(u) && Number.isNaN(v)) continue;
    if (u === v) continue;
    const err = Math.abs(u - v);
    if (!(err <= tol.atol + tol.rtol * Math.abs(v))) {
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
      count++;
      if (bad.length < 3) bad.push(`[${i}] ${u} vs ${v}`);
    }
  }
  if (!bad.length) return [];
  return [`${what}: ${count} of ${x.length} differ: ${bad.join(', ')}${count > bad.length ? ', …' : ''} (max abs error ${worst}, rtol ${tol.rtol}, atol ${tol.atol})`];
}
