// CIFAR batch files for the tests, from a seeded PRNG.
import { rng } from './fuzz.js';

/** `n` random records: labels below `classes` (CIFAR-100: coarse below 20 first). */
export function cifarRecords(n: number, variant: 10 | 100, seed: number): Uint8Array {
  const rnd = rng(seed);
  const rec = (variant === 10 ? 1 : 2) + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    if (variant === 100) out[i * rec] = rnd(20);
    out[i * rec + rec - 3073] = rnd(variant);
    for (let p = rec - 3072; p < rec; p++) out[i * rec + p] = rnd(256);
  }
  return out;
}
