// Shared pieces of the io tests: sample tensors of every dtype, a stored-zip writer and a pickle
// assembler for hand-made hostile .pt files, a seeded PRNG for fuzzing, and the Python reference.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

import { arange, tensor, type Tensor } from '../../src/index.js';
import { WeightsFileError } from '../../src/io/index.js';
import { tensorBytes } from '../../src/io/tensor-bytes.js';
import { RandomStream } from '../../src/data/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed when the test process exits. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-io-'));
  made.push(d);
  return d;
}

export const hex = (t: Tensor): string => Buffer.from(tensorBytes(t)).toString('hex');

/**
 * One tensor per dtype, with the awkward values of each (NaN, ±inf, -0, subnormals, extremes),
 * plus 0-dim, empty and non-contiguous tensors.
 */
export function sampleTensors(): Map<string, Tensor> {
  const floats = [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e-40, 65504, 6e-8];
  const m = new Map<string, Tensor>();
  m.set('f32', tensor(new Float32Array(floats), { shape: [2, 5] }));
  m.set('f64', tensor(new Float64Array([...floats, 1e-310, Number.MAX_VALUE])));
  m.set('f16', tensor(floats, { dtype: 'float16' }));
  m.set('bf16', tensor(floats, { dtype: 'bfloat16' }));
  m.set('i64', tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])));
  m.set('i32', tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7])));
  m.set('i16', tensor(new Int16Array([-32768, 32767, 3])));
  m.set('i8', tensor(new Int8Array([-128, 127, 0])));
  m.set('u8', tensor(new Uint8Array([0, 255, 42])));
  m.set('bool', tensor([[true, false, true], [false, false, true]]));
  m.set('scalar', tensor(3.25));
  m.set('scalar_i64', tensor(7));
  m.set('empty', tensor(new Float32Array(0)));
  m.set('empty3d', tensor(new Int32Array(0), { shape: [2, 0, 3] }));
  const base = arange(24, { dtype: 'float32' }).view(4, 6);
  m.set('transposed', base.t()); // (6, 4), strides (1, 6)
  m.set('strided', base.slice(1, 1, 6, 2)); // (4, 3), offset 1
  m.set('row', base.select(0, 2)); // (6,), offset 12
  m.set('expanded', tensor([1, 2, 3], { dtype: 'float32' }).view(1, 3).expand(2, 3)); // stride 0
  return m;
}

/** Asserts `fn` throws a WeightsFileError whose message matches `re` (never a crash or another error). */
export function assertRefused(fn: () => unknown, re: RegExp, label = ''): WeightsFileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof WeightsFileError, `${label}: expected a WeightsFileError, got ${(e as Error)?.stack ?? String(e)}`);
    assert.match(e.message, re, label);
    return e;
  }
  return assert.fail(`${label}: expected an error matching ${re}`);
}

/** Uniforms in [0, 1) from the one generator (src/data/random.ts), so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

/** A zip of stored (uncompressed) records, as PyTorch writes them, minus the 64-byte padding. */
export function zipStored(records: [string, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of records) {
    const n = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.byteLength, 18);
    local.writeUInt32LE(data.byteLength, 22);
    local.writeUInt16LE(n.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.byteLength, 20);
    cd.writeUInt32LE(data.byteLength, 24);
    cd.writeUInt16LE(n.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, n, Buffer.from(data));
    central.push(cd, n);
    offset += 30 + n.length + data.byteLength;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, cdBytes, end]));
}

/** Pickle assembly: strings are raw opcode bytes (latin1), numbers single bytes, arrays bytes. */
export function pickle(...parts: (string | number | Uint8Array)[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p)))));
}

/** BINUNICODE of a string. */
export function str(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return new Uint8Array(Buffer.concat([Buffer.from('X'), len, b]));
}

/** A .pt archive with the given data.pkl and storage records. */
export function ptArchive(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return zipStored([
    ['archive/data.pkl', pkl],
    ...Object.entries(storages).map(([k, v]): [string, Uint8Array] => [`archive/data/${k}`, v]),
    ['archive/version', new Uint8Array(Buffer.from('3\n'))],
  ]);
}

/** Runs test/io/reference.py once: `mode` and `dir` as arguments; returns its JSON output. */
export function runReference<T>(mode: string, dir: string): T {
  const script = join(ROOT, 'test', 'io', 'reference.py');
  const proc = spawnSync(PYTHON, [script, mode, dir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (proc.error) throw new Error(`cannot run ${PYTHON} ${script}: ${proc.error.message} (it needs python3-torch)`);
  if (proc.status !== 0) throw new Error(`${script} ${mode} exited with ${proc.status ?? proc.signal}:\n${proc.stderr.slice(-4000)}`);
  return JSON.parse(proc.stdout) as T;
}
