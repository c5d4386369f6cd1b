// Counter-based randomness for augmentation: every number a transform draws is a pure function of
// (seed, epoch, sample index, stream, draw number), computed by Philox4x32-10 (Salmon et al., "Parallel
// random numbers: as easy as 1, 2, 3", SC'11 — the generator cuRAND and JAX's threefry cousins use).
// Nothing is carried between samples, so results do not depend on worker count, order or machine.
import type { SampleContext } from '../types.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of a 32×32-bit product (JS doubles hold 53 bits, so split into 16-bit halves). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: 4 random u32 for counter c and key k. */
export function philox4x32(c: readonly [number, number, number, number], k: readonly [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = c;
  let [k0, k1] = k;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`rng: ${what} must be an integer in [0, 2^32), got ${n}`);
  return n;
}

/** A stream of random numbers for one (seed, epoch, index, stream). Cheap to make; make one per use. */
export class Rng {
  private readonly key: [number, number];
  private readonly counter: [number, number, number, number];
  private block: number[] = [];
  private draws = 0;

  constructor(seed: number, epoch: number, index: number, stream: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`rng: seed must be a safe integer, got ${seed}`);
    this.key = [seed >>> 0, Math.floor(seed / 0x100000000) >>> 0];
    this.counter = [u32(index, 'index'), u32(epoch, 'epoch'), u32(stream, 'stream'), 0];
  }

  /** The next uniform 32-bit integer. */
  nextU32(): number {
    if (this.block.length === 0) {
      this.counter[3] = this.draws++;
      this.block = philox4x32(this.counter, this.key).reverse();
    }
    return this.block.pop() as number;
  }

  /** Uniform in [lo, hi) with 53 random bits. */
  uniform(lo = 0, hi = 1): number {
    const u = ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
    return lo + u * (hi - lo);
  }

  /** Integer uniform in [lo, hi) (torch.randint's convention). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`rng.int: empty range [${lo}, ${hi})`);
    return lo + Math.floor(this.uniform() * (hi - lo));
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Normal(mean, std) by Box–Muller. */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.uniform(); // (0, 1]: log is finite
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('rng.choice: no items');
    return items[this.int(0, items.length)] as T;
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [p[i], p[j]] = [p[j] as number, p[i] as number];
    }
    return p;
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang (with the shape < 1 boost). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`rng.gamma: shape must be > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform() || Number.MIN_VALUE, 1 / shape);
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
      const u = this.uniform();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) from two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /**
   * A fast non-cryptographic generator (sfc32) seeded from this stream, for bulk per-pixel noise
   * where a Philox block per number would dominate. Still a pure function of the context.
   * Returns a function giving uniforms in [0, 1).
   */
  bulk(): () => number {
    let a = this.nextU32();
    let b = this.nextU32();
    let c = this.nextU32();
    let d = this.nextU32() | 1;
    const next = (): number => {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    };
    for (let i = 0; i < 12; i++) next(); // mix the seed in
    return next;
  }
}

/** The random stream of one sample for one purpose (e.g. one transform's position in a pipeline). */
export function rngFor(ctx: SampleContext, stream: number): Rng {
  return new Rng(ctx.seed, ctx.epoch, ctx.index, stream);
}
