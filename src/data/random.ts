// The one random generator of the data path (and of the tests): shuffles, weighted draws, stream and
// shard shuffles, splits, per-sample and batch augmentation, a GAN's fixed noise. Every number is a
// pure function of a key (seed, purpose, epoch, index, stream) and of how many numbers were drawn
// before it from the same key — never of worker count, timing, or what some other part of the
// program drew. (LibTorch's global generator is the wrong tool here: it is shared state that
// initialisation and dropout use.)
//
// Generator: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the
// generator of cuRAND and of PyTorch's CUDA RNG). It is counter-based: a block of four 32-bit outputs
// is a keyed bijection of a 128-bit counter, so a stream is its key plus a block number, and streams of
// different keys are as unrelated as outputs of a good block cipher. The key layout is injective:
//   Philox key     = (seed mod 2^32, ⌊seed / 2^32⌋ + 2^21 · purpose code)   seed < 2^53, 2^11 purposes
//   Philox counter = (index, epoch, stream, block)                          each < 2^32
// so two different keys never share a stream.
import { show } from './options.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 0x100000000;

/**
 * What a stream is for; part of every key, so two purposes never share numbers. The code of a name
 * is its position in this list: append new purposes, never reorder (that would change every order).
 */
export const RANDOM_PURPOSES = ['shuffle', 'weighted', 'streamShuffle', 'shardShuffle', 'split', 'augment', 'batchAugment', 'test', 'noise'] as const;
export type RandomPurpose = (typeof RANDOM_PURPOSES)[number];

export interface RandomKey {
  /** Any non-negative safe integer (0 ≤ seed < 2^53). */
  seed: number;
  purpose: RandomPurpose;
  /** Each of these is an integer in [0, 2^32); default 0. */
  epoch?: number;
  /** Usually a sample's index (per-sample draws) or a batch number. */
  index?: number;
  /** Tells apart the streams of one (seed, purpose, epoch, index), e.g. a transform's position in its pipeline. */
  stream?: number;
}

/** The high 32 bits of a·b for a < 2^32 and b = bh·2^16 + bl, in 16-bit pieces (no product passes 2^32). */
function mulhi(a: number, bh: number, bl: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const m1 = ah * bl;
  const m2 = al * bh;
  const carry = (((al * bl) >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (ah * bh + (m1 >>> 16) + (m2 >>> 16) + carry) >>> 0;
}

const M0H = M0 >>> 16;
const M0L = M0 & 0xffff;
const M1H = M1 >>> 16;
const M1L = M1 & 0xffff;

/** One Philox4x32-10 block for counter (c0..c3) and key (k0, k1), written into `out` (allocates nothing). */
function philoxInto(out: Uint32Array, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(c0, M0H, M0L);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(c2, M1H, M1L);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** One Philox4x32-10 block: four random u32 for counter c and key k (Random123's known-answer vectors hold). */
export function philox4x32(c: readonly [number, number, number, number], k: readonly [number, number]): [number, number, number, number] {
  const out = new Uint32Array(4);
  philoxInto(out, c[0] >>> 0, c[1] >>> 0, c[2] >>> 0, c[3] >>> 0, k[0] >>> 0, k[1] >>> 0);
  return [out[0] as number, out[1] as number, out[2] as number, out[3] as number];
}

/**
 * `seed` when it can key a RandomStream, else an error that names `what` and says what to write —
 * for options read from plain JavaScript or JSON, where nothing checked the type.
 */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return seed;
  const hint = typeof seed === 'string' && /^\d+$/.test(seed.trim()) ? ` — write the number, ${seed.trim()}, not a string` : ' (e.g. 42)';
  throw new RangeError(`${what} must be a non-negative integer below 2^53${hint}; got ${show(seed)}`);
}

function counterWord(key: RandomKey, name: 'epoch' | 'index' | 'stream'): number {
  const v: unknown = key[name] === undefined ? 0 : key[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO32) throw new RangeError(`RandomStream: ${name} must be an integer in [0, 2^32), got ${show(v)}`);
  return v;
}

/** The Philox key and counter of a RandomKey, with a message that says what to write when it is wrong. */
function keyWords(key: RandomKey): { k: [number, number]; c: [number, number, number] } {
  if (key === null || typeof key !== 'object')
    throw new TypeError(`RandomStream takes a key object, e.g. new RandomStream({ seed: 42, purpose: 'shuffle', epoch: 0 }); got ${show(key)}`);
  const { seed, purpose } = key;
  if (seed === undefined) throw new TypeError(`RandomStream: the key has no seed; give one, e.g. { seed: 42, purpose: '${String(purpose ?? 'shuffle')}' }`);
  checkSeed(seed, 'RandomStream: seed');
  const code = RANDOM_PURPOSES.indexOf(purpose);
  if (code < 0) throw new RangeError(`RandomStream: purpose must be one of ${RANDOM_PURPOSES.map((p) => `'${p}'`).join(', ')}; got ${show(purpose)}`);
  const hi = Math.floor(seed / TWO32); // < 2^21
  return { k: [seed >>> 0, (hi + code * 2 ** 21) >>> 0], c: [counterWord(key, 'index'), counterWord(key, 'epoch'), counterWord(key, 'stream')] };
}

function checkBound(what: string, v: unknown, call: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new RangeError(`${call}: ${what} must be a safe integer, got ${show(v)}`);
  return v;
}

/**
 * A stream of random numbers for one key. Cheap to make: make one per use (per sample, per epoch),
 * keyed by what the numbers are for, instead of passing one generator around.
 */
export class RandomStream {
  readonly key: Readonly<RandomKey>;
  private readonly k0: number;
  private readonly k1: number;
  private readonly c0: number;
  private readonly c1: number;
  private readonly c2: number;
  private block = 0;
  // The current block's four outputs and how many of them are used (4: draw a new block).
  private readonly out = new Uint32Array(4);
  private used = 4;

  constructor(key: RandomKey) {
    const { k, c } = keyWords(key);
    this.key = Object.freeze({ ...key });
    [this.k0, this.k1] = k;
    [this.c0, this.c1, this.c2] = c;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    if (this.used === 4) this.refill();
    return this.out[this.used++] as number;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [lo, hi) — half-open, like torch.randint and numpy's integers — without modulo bias. */
  int(lo: number, hi: number): number {
    if (hi === undefined) throw new RangeError(`RandomStream.int(lo, hi) draws from [lo, hi) and takes both bounds; for [0, ${String(lo)}) write int(0, ${String(lo)})`);
    checkBound('lo', lo, 'RandomStream.int');
    checkBound('hi', hi, 'RandomStream.int');
    const n = hi - lo;
    if (!(n > 0)) throw new RangeError(`RandomStream.int: the range [${lo}, ${hi}) is empty (hi must be greater than lo)`);
    if (n > 2 ** 53) throw new RangeError(`RandomStream.int: the range [${lo}, ${hi}) holds more than 2^53 integers`);
    if (n <= TWO32) {
      // Reject the top partial block of 2^32 so every residue is equally likely.
      const limit = TWO32 - (TWO32 % n);
      for (;;) {
        const u = this.uint32();
        if (u < limit) return lo + (u % n);
      }
    }
    const limit = 2 ** 53 - (2 ** 53 % n); // exact: % of doubles below 2^53 is exact
    for (;;) {
      const u = (this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6); // 53 bits
      if (u < limit) return lo + (u % n);
    }
  }

  /** A uniform double in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + this.float() * (hi - lo);
  }

  /** Normal(mean, std) by Box–Muller (one normal per two uniforms). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.float(); // (0, 1]: the log is finite
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`RandomStream.bernoulli: p must be in [0, 1], got ${show(p)}`);
    return this.float() < p;
  }

  /** One of `items`, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('RandomStream.choice: no items to choose from');
    return items[this.int(0, items.length)] as T;
  }

  /** Fisher–Yates, in place; returns `a`. */
  shuffle_<A extends { length: number; [i: number]: unknown }>(a: A): A {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** 0, 1, ..., n-1 in a random order. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new RangeError(`RandomStream.permutation: n must be an integer in [0, 2^31), got ${show(n)}`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle_(out);
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang (with the shape < 1 boost). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`RandomStream.gamma: shape must be > 0, got ${show(shape)}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.float() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.float();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) from two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** The next Philox block: counter (index, epoch, stream, block). */
  private refill(): void {
    if (this.block >= TWO32) throw new RangeError(`RandomStream: the stream of ${JSON.stringify(this.key)} is exhausted (2^34 numbers drawn)`);
    philoxInto(this.out, this.c0, this.c1, this.c2, this.block++, this.k0, this.k1);
    this.used = 0;
  }
}
