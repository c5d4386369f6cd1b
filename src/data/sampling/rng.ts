// A small seeded random generator for everything the data path draws: shuffles, weighted draws,
// buffered stream shuffles, batch augmentation parameters, splits. It is keyed by a tuple such as
// (seed, epoch, purpose) so every draw is a pure function of its key — never of worker count,
// timing or how many numbers some other part of the program drew before. (LibTorch's global
// generator is the wrong tool here: it is shared state that the model's initialisation and dropout
// also consume.)
//
// Generator: xoshiro128** (Blackman & Vigna), 128 bits of state, seeded from the key through a
// 32-bit avalanche mixer so that neighbouring keys (epoch 3, epoch 4) give unrelated streams.

/** What a draw is for; part of every key so two purposes never share a stream. */
export const RngPurpose = {
  shuffle: 1,
  weighted: 2,
  streamShuffle: 3,
  augment: 4,
  split: 5,
} as const;

/** lowbias32 (Chris Wellons): a 32-bit integer hash with full avalanche. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator keyed by integers (any safe integer, negative included), e.g. `new Rng(seed, epoch, RngPurpose.shuffle)`. */
  constructor(...keys: number[]) {
    let h = 0x9e3779b9;
    for (const k of keys) {
      if (!Number.isSafeInteger(k)) throw new RangeError(`Rng: keys must be safe integers, got ${k}`);
      const lo = k >>> 0; // k mod 2^32 (two's complement for negatives)
      const hi = Math.floor(k / 2 ** 32) >>> 0;
      h = mix32(h ^ mix32(lo + 0x6a09e667));
      h = mix32(h ^ mix32(hi + 0xbb67ae85));
    }
    this.s0 = mix32(h + 0x3c6ef372);
    this.s1 = mix32(h + 0xa54ff53a);
    this.s2 = mix32(h + 0x510e527f);
    this.s3 = mix32(h + 0x9b05688c);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one forbidden state
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    if (n > 2 ** 32) return Math.floor(this.float() * n);
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const u = this.uint32();
      if (u < limit) return u % n;
    }
  }

  /** Fisher–Yates, in place; returns `a`. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i] as number;
      a[i] = a[j] as number;
      a[j] = t;
    }
    return a;
  }
}

/** 0, 1, ..., n-1 in a random order keyed by `keys`. */
export function permutation(n: number, ...keys: number[]): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return new Rng(...keys).shuffle(out);
}
