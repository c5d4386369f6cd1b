// The vocabulary of the op table (optable.ts): what a row is, how its inputs are generated, and the
// dtype groups rows run for. Kept apart from the rows so that the row files and the harness can both
// import it without an import cycle.
import type { DType, Tensor } from '../../src/index.js';
import type { NativeOpName } from '../../src/tensor/generated/native-names.js';
import { RandomStream } from '../../src/data/random.js';

/** A deterministic pseudo-random source in [0, 1). */
export type Rng = () => number;

/**
 * Makes `n` values for an input of dtype `dtype`. Values are plain numbers (NaN and ±Infinity
 * allowed); the harness rounds them to what the dtype can hold exactly, so both sides build the
 * very same tensor.
 */
export type Gen = (n: number, rng: Rng, dtype: DType) => number[];

export interface InputSpec {
  shape: readonly number[];
  /** The input's dtype; omitted: the dtype of the case being run. */
  dtype?: DType;
  /** Default: normal(0, 1) for floating dtypes, integers in [-5, 5] otherwise. */
  gen?: Gen;
  /** Whether gradients w.r.t. this input are checked (only floating inputs of `grad` rows). Default true. */
  grad?: boolean;
}

/** What a Tessera callable may return; compared structurally with the Python value. */
export type OpOutput = Tensor | readonly OpOutput[] | number | boolean | bigint | string | null | undefined | void;

export interface Tolerance {
  rtol: number;
  atol: number;
}

export interface OpRow {
  /** Unique; a case is named `${name} [${dtype}]`. */
  name: string;
  /** The native entry points (NATIVE_OP_NAMES) this row exercises; the harness checks they are called. */
  covers: readonly NativeOpName[];
  /** Inputs, in the order they are generated, bound by name in `ts` and in `py`. */
  inputs: Readonly<Record<string, InputSpec>>;
  /** The case dtypes: the dtype of every input without its own, and `dtype` in `ts`/`py`. */
  dtypes: readonly DType[];
  /** The Tessera call. Inputs are fresh per case: mutate clones, not them, so gradients stay defined. */
  ts(x: Readonly<Record<string, Tensor>>, dtype: DType): OpOutput;
  /** The PyTorch expression, with `torch`, `F`, `math`, `dtype` and the inputs in scope. */
  py: string;
  /** Compare gradients of sum(out_k * w_k) w.r.t. every floating input (floating case dtypes only). */
  grad?: boolean;
  /** Also check Tessera's gradients against central finite differences in float64. */
  gradcheck?: boolean;
  /** Random ops: manualSeed(seed) right before `ts`, torch.manual_seed(seed) right before `py`. */
  seed?: number;
  /**
   * Overrides the output dtype's default tolerance (compare.ts; gradients get 10x). Seeded rows
   * compare exactly unless they set one.
   */
  tol?: Partial<Tolerance>;
  /** Compare only shapes and dtypes (uninitialised memory). */
  metaOnly?: boolean;
  /**
   * An error row: both sides must raise, Tessera with an error whose `Name: message` text matches
   * this (a bad call must be a typed JS error, never a crash or a silent result).
   */
  throws?: RegExp;
  /**
   * A binding defect this row exposes, stated precisely. The harness then asserts that the case
   * still FAILS, so the issue stays visible and the row turns red once the binding is fixed.
   * A string applies to every dtype; a record to the dtypes it names.
   */
  knownIssue?: string | Partial<Record<DType, string>>;
}

/** A row as written in the table: `ts` sees exactly the declared input names. */
export interface RowSpec<K extends string> extends Omit<OpRow, 'inputs' | 'ts'> {
  inputs?: Readonly<Record<K, InputSpec>>;
  ts(x: Readonly<Record<K, Tensor>>, dtype: DType): OpOutput;
}

export function row<K extends string = never>(spec: RowSpec<K>): OpRow {
  const inputs: Readonly<Record<string, InputSpec>> = spec.inputs ?? {};
  return { ...spec, inputs };
}

// ---- dtype groups ----

export type DTypeList = readonly DType[];

export const F32: readonly DType[] = ['float32'];
export const FLOAT: readonly DType[] = ['float32', 'float64'];
export const FLOAT_INT: readonly DType[] = ['float32', 'float64', 'int64', 'int32'];
export const FLOAT_LONG: readonly DType[] = ['float32', 'float64', 'int64'];
export const ALL_NUM: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8'];

// ---- deterministic generators ----

/** Uniforms in [0, 1) from the one generator (src/data/random.ts), keyed by the seed. */
export function makeRng(seed: number): Rng {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

/** FNV-1a of a string: the seed of an input is a function of (row, input name) only. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

function intRange(d: DType): [number, number] {
  return d === 'uint8' ? [0, 10] : d === 'bool' ? [0, 1] : [-5, 5];
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** normal(mean, std) for floating dtypes; integer dtypes get integers in their small default range. */
export function normal(std = 1, mean = 0): Gen {
  return (n, rng, d) => {
    if (!isFloat(d)) return ints(...intRange(d))(n, rng, d);
    return Array.from({ length: n }, () => mean + std * gaussian(rng));
  };
}

/** Uniform in [lo, hi). */
export function uniform(lo: number, hi: number): Gen {
  return (n, rng) => Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

/** Strictly positive values (log, sqrt, divisors); integers in [1, 6] for integer dtypes. */
export function positive(lo = 0.2, hi = 2): Gen {
  return (n, rng, d) => (isFloat(d) ? uniform(lo, hi)(n, rng, d) : ints(1, 7)(n, rng, d));
}

/** Values bounded away from zero, of either sign (divisors, kinks of abs/relu). */
export function nonzero(lo = 0.3, hi = 2): Gen {
  return (n, rng, d) => positive(lo, hi)(n, rng, d).map((v) => (rng() < 0.5 ? -v : v));
}

/** Integers in [lo, hi]. */
export function ints(lo: number, hi: number): Gen {
  return (n, rng) => Array.from({ length: n }, () => lo + Math.floor(rng() * (hi - lo + 1)));
}

/** 0/1 with P(1) = p. */
export function bools(p = 0.5): Gen {
  return (n, rng) => Array.from({ length: n }, () => (rng() < p ? 1 : 0));
}

/** Pairwise distinct values (no ties: sort, topk, argmax and max are then unambiguous). */
export function distinct(step = 0.25, offset = 0): Gen {
  return (n, rng, d) => {
    const s = isFloat(d) ? step : 1;
    const o = isFloat(d) ? offset : d === 'uint8' ? n : 0;
    return shuffle(Array.from({ length: n }, (_, i) => o + Math.round(i - n / 2) * s), rng);
  };
}

/** A random permutation of 0..n-1 (unique indices, for scatter and index_copy). */
export function permutation(): Gen {
  return (n, rng) => shuffle(Array.from({ length: n }, (_, i) => i), rng);
}

/** Exactly these values, cycled to fill the input. */
export function values(list: readonly number[]): Gen {
  return (n) => Array.from({ length: n }, (_, i) => list[i % list.length] as number);
}

/** 0, 1, 2, ... times step, plus start. */
export function arange(start = 0, step = 1): Gen {
  return (n) => Array.from({ length: n }, (_, i) => start + i * step);
}

/** Values with a gap around each kink, so finite differences never straddle one. */
export function awayFrom(kinks: readonly number[], gap = 0.05, std = 1.5): Gen {
  return (n, rng) =>
    Array.from({ length: n }, () => {
      for (;;) {
        const v = std * gaussian(rng);
        if (kinks.every((k) => Math.abs(v - k) > gap)) return v;
      }
    });
}

function shuffle(a: number[], rng: Rng): number[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

// ---- input shorthands ----

/** An input of the case dtype. */
export function inp(shape: readonly number[], gen?: Gen, extra: Partial<InputSpec> = {}): InputSpec {
  return { shape, ...(gen ? { gen } : {}), ...extra };
}

/** An int64 index input with values in [0, hi). */
export function idx(shape: readonly number[], hi: number, gen?: Gen): InputSpec {
  return { shape, dtype: 'int64', gen: gen ?? ints(0, hi - 1), grad: false };
}

/** A bool mask input. */
export function mask(shape: readonly number[], p = 0.5): InputSpec {
  return { shape, dtype: 'bool', gen: bools(p), grad: false };
}

/** An input of a fixed dtype. */
export function fixed(shape: readonly number[], dtype: DType, gen?: Gen, extra: Partial<InputSpec> = {}): InputSpec {
  return { shape, dtype, ...(gen ? { gen } : {}), ...extra };
}

/** An input of the case dtype that is never differentiated (running stats, targets). */
export function constant(shape: readonly number[], gen?: Gen): InputSpec {
  return { shape, ...(gen ? { gen } : {}), grad: false };
}
