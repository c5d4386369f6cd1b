// Metrics of a set split across processes. In data-parallel evaluation each rank sees its own
// shard; the metric of the whole set is not a mean of the ranks' values (accuracy of 3/4 and 1/2
// is not 5/8 unless the shards are equal, and F1 is not linear at all), but every metric here that
// accumulates counts or sums (a confusion matrix, top-k hits, loss sums, calibration bins) can be
// rebuilt exactly: add the ranks' `sums()` element-wise and `loadSums` the total. One call of the
// adder serves every metric of a pass, and any extra numbers the caller needs summed (the loss
// sum, the sample count), so a pass costs one all-reduce.
import type { Metric } from './types.js';

/** Adds `values` element-wise across the processes (e.g. an all-reduce); every process gets the total. */
export type SumAcross = (values: Float64Array) => Promise<Float64Array>;

/**
 * Replaces each metric's state with the sum of every process's, and returns `extra` summed
 * alike. Fails before communicating, naming the metric, when one cannot be summed (it keeps every
 * score: AUC, average precision): compute such a metric in one process.
 */
export async function sumMetrics(metrics: readonly Metric[], extra: readonly number[], sum: SumAcross): Promise<number[]> {
  const parts = metrics.map((m) => {
    if (!m.sums || !m.loadSums) throw new Error(`metric '${m.name}' keeps every score rather than sums, so it cannot be combined across processes: compute it in one process`);
    return m.sums();
  });
  const all = new Float64Array(extra.length + parts.reduce((n, p) => n + p.length, 0));
  all.set(extra);
  let at = extra.length;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const total = await sum(all);
  if (total.length !== all.length) throw new Error(`sumMetrics: the adder returned ${total.length} values for ${all.length}`);
  at = extra.length;
  metrics.forEach((m, i) => {
    const n = (parts[i] as Float64Array).length;
    m.loadSums?.(total.subarray(at, at + n));
    at += n;
  });
  return Array.from(total.subarray(0, extra.length));
}

/** Copies `sums` into the metric's arrays in order (the layout `sums()` made), after checking the length. */
export function loadSumsInto(who: string, sums: Float64Array, ...into: Float64Array[]): void {
  const want = into.reduce((n, a) => n + a.length, 0);
  if (sums.length !== want) throw new RangeError(`${who}.loadSums: expected ${want} values, got ${sums.length}`);
  let at = 0;
  for (const a of into) {
    a.set(sums.subarray(at, at + a.length));
    at += a.length;
  }
}
