// Running an example as a user does (`node dist/examples/<name>.js …`) and the learnable synthetic
// images its test feeds it: each class has its own colour, under heavy per-pixel noise, so a
// program that trains and evaluates correctly scores far above chance, and one that mixes up
// images and labels (a bad split, a shuffled label array) scores at chance.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { RandomStream } from '../../src/data/random.js';

/** The compiled example, dist/examples/<name>.js (this file runs from dist/test/examples/). */
export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
}

/**
 * Runs the example in a child process (in `cwd` when given), with `env` added to this one's, on one
 * LibTorch thread: on a machine whose cores are all busy, two OpenMP threads wait on each other (an
 * epoch of 001 took 28 s with two threads and 1 s with one, under a load of 4 on 2 cores).
 */
export function runExample(name: string, args: readonly string[], env: Record<string, string> = {}, cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [examplePath(name), ...args, '--threads', '1'], {
    encoding: 'utf8',
    ...(cwd ? { cwd } : {}),
    timeout: 180_000,
    env: { ...process.env, TESSERA_DEBUG: '', ...env },
  });
}

/** Asserts a clean run and returns its stdout. */
export function succeeded(r: SpawnSyncReturns<string>): string {
  assert.equal(r.error, undefined, `the example did not finish: ${r.error?.message}`);
  assert.equal(r.status, 0, `exit status ${r.status}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  return r.stdout;
}

/** The number after `label` on a line of its own, e.g. `Test accuracy: 0.9125`. */
export function printed(stdout: string, pattern: RegExp): number {
  const m = pattern.exec(stdout);
  assert.ok(m, `no line matching ${pattern} in:\n${stdout}`);
  return Number(m[1]);
}

/** Bad input: exit status 1 and one sentence on stderr that matches `reason`, no stack trace. */
export function failedCleanly(r: SpawnSyncReturns<string>, reason: RegExp): void {
  assert.equal(r.status, 1, `expected exit status 1, got ${r.status}\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, reason);
  assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'a stack trace leaked');
  assert.ok(r.stderr.trim().split('\n').length <= 2, `more than a sentence (and a usage line):\n${r.stderr}`);
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Uniforms in [0, 1) from the one generator (src/data/random.ts), so the data are the same on every run. */
export function rng(seed: number): () => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

/** Distinct RGB colours, one per class (up to 6). */
export const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [200, 50, 50], [50, 200, 50], [50, 50, 200], [200, 200, 50], [50, 200, 200], [200, 50, 200],
];

/**
 * One w×h RGB image of class `k`, interleaved (HWC): the class colour plus uniform noise of ±`noise`
 * on every pixel and channel, clamped to 0..255.
 */
export function noisyImage(k: number, width: number, height: number, random: () => number, noise = 70): Uint8Array {
  const colour = CLASS_COLOURS[k] as readonly number[];
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++)
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.max(0, Math.min(255, Math.round((colour[c] as number) + (random() * 2 - 1) * noise)));
  return out;
}

/** An IDX file (gzipped): magic 0x0000 08 <dims>, big-endian sizes, then uint8 data. */
export function idx(shape: readonly number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head.writeUInt32BE(0x0800 + shape.length, 0);
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([head, data]));
}
