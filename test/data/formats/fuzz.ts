// Helpers shared by the format tests: a seeded PRNG (failures reproduce from the printed case
// number), byte mutations, and a harness that runs a parser on hundreds of damaged inputs and
// requires a clean error, never a crash, a hang or a large allocation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { DataError } from '../../../src/data/types.js';
import { RandomStream } from '../../../src/data/random.js';

export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

/** Runs a Python snippet (numpy imported as np) in `cwd`; returns stdout, throws with stderr. */
export function py(script: string, cwd: string): string {
  const r = spawnSync(PYTHON, ['-c', `import numpy as np\n${script}`], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** Integers in [0, n) from the one generator (src/data/random.ts): the same sequence on every machine. */
export function rng(seed: number): (n: number) => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return (n) => r.int(0, n);
}

/**
 * A damaged copy of `good`: random bytes overwritten (biased to the first `headerBytes`, where the
 * lies that matter live), sometimes truncated, sometimes with bytes appended.
 */
export function mutate(good: Uint8Array, rnd: (n: number) => number, headerBytes = good.length): Uint8Array {
  const out = Uint8Array.from(good);
  const kind = rnd(4);
  if (kind !== 2) {
    const n = 1 + rnd(4);
    for (let i = 0; i < n; i++) out[rnd(2) ? rnd(Math.min(headerBytes, out.length)) : rnd(out.length)] = rnd(256);
  }
  if (kind >= 2) return out.subarray(0, rnd(out.length));
  if (kind === 1 && rnd(4) === 0) return Uint8Array.from([...out, ...Array.from({ length: 1 + rnd(16) }, () => rnd(256))]);
  return out;
}

/**
 * Runs `attempt` on `cases` mutations of `good`. Each must return or throw a DataError (subclasses
 * included) whose message starts with `name`; the whole run must take under `budgetMs`, and no case
 * may grow ArrayBuffer memory by more than 64 MiB.
 */
export async function fuzz(opts: {
  good: Uint8Array;
  name: string;
  cases: number;
  seed: number;
  headerBytes?: number;
  attempt: (bytes: Uint8Array, caseNo: number) => unknown | Promise<unknown>;
  budgetMs?: number;
}): Promise<{ ok: number; errors: number }> {
  const rnd = rng(opts.seed);
  const start = performance.now();
  let ok = 0;
  let errors = 0;
  for (let c = 0; c < opts.cases; c++) {
    const bytes = mutate(opts.good, rnd, opts.headerBytes);
    const before = process.memoryUsage().arrayBuffers;
    try {
      await opts.attempt(bytes, c);
      ok++;
    } catch (e) {
      if (!(e instanceof DataError)) assert.fail(`case ${c} (seed ${opts.seed}): ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
      assert.ok(e.message.includes(opts.name), `case ${c}: error does not name ${opts.name}: ${e.message}`);
      errors++;
    }
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 64 * 1024 ** 2, `case ${c}: ArrayBuffer memory grew by ${grew} bytes`);
  }
  const took = performance.now() - start;
  assert.ok(took < (opts.budgetMs ?? 5000), `fuzzing took ${took.toFixed(0)} ms`);
  assert.ok(errors > opts.cases / 10, `only ${errors} of ${opts.cases} damaged inputs were rejected: are the mutations reaching the parser?`);
  return { ok, errors };
}

/** Rejects if `p` has not settled after `ms`: turns a hang into a failure that names the case. */
export async function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
