// Perceptual hash (pHash, after Zauner 2010): the image, upright, as a 32×32 greyscale; its 2-D
// DCT-II; the 8×8 block of lowest frequencies without the DC row and column (u, v = 1..8); one
// bit per coefficient: above the block's median or not. Resizing, re-encoding, mild colour
// changes barely move low frequencies, so copies land within a few bits; unrelated images differ
// in about half of the 64.
//
// The doctor groups look-alikes by Hamming distance between hashes (lookalikes.ts).

export const HASH_SIDE = 32;
const BLOCK = 8;

/** cos((2x+1)·u·π / 64) for u = 1..8 (rows) and x = 0..31. */
const COS: Float64Array = (() => {
  const t = new Float64Array(BLOCK * HASH_SIDE);
  for (let u = 0; u < BLOCK; u++) {
    for (let x = 0; x < HASH_SIDE; x++) t[u * HASH_SIDE + x] = Math.cos(((2 * x + 1) * (u + 1) * Math.PI) / (2 * HASH_SIDE));
  }
  return t;
})();

/** A 64-bit hash as two 32-bit halves (bit 63 first), so Hamming distance needs no BigInt. */
export interface PHash {
  hi: number;
  lo: number;
}

/** pHash of a 32×32 greyscale image, row-major, one byte per pixel. */
export function phashFromGrey(grey: Uint8Array): PHash {
  if (grey.length !== HASH_SIDE * HASH_SIDE) throw new RangeError(`pHash needs ${HASH_SIDE}×${HASH_SIDE} greyscale pixels, got ${grey.length} bytes`);
  // Separable DCT: rows first (32 rows × 8 frequencies), then columns of that (8 × 8).
  const rows = new Float64Array(HASH_SIDE * BLOCK); // (y, u)
  for (let y = 0; y < HASH_SIDE; y++) {
    for (let u = 0; u < BLOCK; u++) {
      let s = 0;
      for (let x = 0; x < HASH_SIDE; x++) s += (grey[y * HASH_SIDE + x] as number) * (COS[u * HASH_SIDE + x] as number);
      rows[y * BLOCK + u] = s;
    }
  }
  const coef = new Float64Array(BLOCK * BLOCK); // (v, u)
  for (let v = 0; v < BLOCK; v++) {
    for (let u = 0; u < BLOCK; u++) {
      let s = 0;
      for (let y = 0; y < HASH_SIDE; y++) s += (rows[y * BLOCK + u] as number) * (COS[v * HASH_SIDE + y] as number);
      coef[v * BLOCK + u] = s;
    }
  }
  const sorted = Float64Array.from(coef).sort();
  const median = ((sorted[31] as number) + (sorted[32] as number)) / 2;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 64; k++) {
    if ((coef[k] as number) <= median) continue;
    if (k < 32) hi |= 1 << (31 - k);
    else lo |= 1 << (63 - k);
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function hamming(a: PHash, b: PHash): number {
  return popcount((a.hi ^ b.hi) >>> 0) + popcount((a.lo ^ b.lo) >>> 0);
}

export const phashHex = (h: PHash) => h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
