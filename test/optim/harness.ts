// The optim tests' one harness: deterministic synthetic data, the wire format shared with
// reference.py, one Python process per test file (runReference), and tolerance-aware comparisons
// that report the largest deviation seen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tensor, type DType, type Tensor } from '../../src/index.js';
import { RandomStream } from '../../src/data/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REFERENCE = join(ROOT, 'test', 'optim', 'reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export type FloatDType = 'float32' | 'float64';

/** A tensor on the wire: row-major values; "nan", "inf", "-inf" stand for what JSON lacks. */
export interface WireTensor {
  dtype: DType;
  shape: number[];
  values: (number | string)[];
}

export interface ReferenceReply<R> {
  torch: string;
  results: (R | { error: string })[];
}

/** Sends every case of one test file to reference.py in a single Python process. */
export function runReference<R>(kind: 'optim' | 'sched' | 'clip' | 'scaler' | 'ema', cases: unknown[]): R[] {
  const run = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify({ kind, cases }), maxBuffer: 1 << 28, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`reference.py failed (status ${run.status}):\n${run.stderr}`);
  const reply = JSON.parse(run.stdout) as ReferenceReply<R>;
  return reply.results.map((r, i) => {
    if (typeof r === 'object' && r !== null && 'error' in r) throw new Error(`reference.py, case ${i}: ${r.error}`);
    return r as R;
  });
}

// ---- wire format ----

export function toWire(t: Tensor): WireTensor {
  const values = Array.from(t.data() as ArrayLike<number | bigint>, (v) => encodeNumber(Number(v)));
  return { dtype: t.dtype, shape: t.shape, values };
}

export function fromWire(w: WireTensor): Tensor {
  return tensor(w.values.map(decodeNumber), { dtype: w.dtype, shape: w.shape });
}

/** The values of a wire tensor as JS numbers. */
export function wireValues(w: WireTensor): number[] {
  return w.values.map(decodeNumber);
}

export function encodeNumber(v: number): number | string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v;
}

export function decodeNumber(v: number | string): number {
  if (typeof v === 'number') return v;
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
}

// ---- synthetic data ----

/** Seeded test data from the one generator (src/data/random.ts), so both sides see the same "random" data. */
export class Rng {
  readonly #r: RandomStream;
  constructor(seed: number) {
    this.#r = new RandomStream({ seed, purpose: 'test' });
  }

  uniform(): number {
    return this.#r.float();
  }

  /** Standard normal values (Box–Muller), rounded to float32 when asked so both sides hold them exactly. */
  normals(n: number, dtype: FloatDType = 'float64', scale = 1): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = Math.sqrt(-2 * Math.log(1 - this.uniform())) * Math.cos(2 * Math.PI * this.uniform()) * scale;
      out.push(dtype === 'float32' ? Math.fround(v) : v);
    }
    return out;
  }

  wire(shape: number[], dtype: FloatDType, scale = 1): WireTensor {
    return { dtype, shape, values: this.normals(shape.reduce((a, b) => a * b, 1), dtype, scale) };
  }
}

// ---- comparisons ----

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Float32: 1e-6 relative; float64: 1e-12 relative. */
export function toleranceFor(dtype: FloatDType): Tolerance {
  return dtype === 'float32' ? { rtol: 1e-6, atol: 1e-7 } : { rtol: 1e-12, atol: 1e-14 };
}

/** Tracks the largest relative deviation over many comparisons (reported by the tests). */
export class Deviation {
  max = 0;
  where = '';
  exact = true;

  /** Asserts |a − e| ≤ atol + rtol·|e| elementwise (nan matches nan, ±∞ must match exactly). */
  check(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, label: string): void {
    assert.equal(actual.length, expected.length, `${label}: ${actual.length} values, expected ${expected.length}`);
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i] as number;
      const e = expected[i] as number;
      if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
      this.exact = false;
      const rel = Math.abs(a - e) / Math.max(Math.abs(e), Number.MIN_VALUE);
      if (rel > this.max) {
        this.max = rel;
        this.where = `${label}[${i}]: ${a} vs ${e}`;
      }
      if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))) assert.fail(`${label}[${i}]: ${a}, PyTorch ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
    }
  }

  toString(): string {
    return this.exact ? 'bit-identical' : `max relative deviation ${this.max.toExponential(2)} at ${this.where}`;
  }
}

/** snake_case (PyTorch) → camelCase (Tessera) for option objects. */
export function camelOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

export function values(t: Tensor): number[] {
  return Array.from(t.data() as ArrayLike<number>);
}
