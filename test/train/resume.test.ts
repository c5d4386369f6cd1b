// Exact resume across a hard kill. A child process trains (fixtures/train-child.ts), checkpointing
// every 3 optimizer steps and after every epoch; the test SIGKILLs it at chosen points, starts it
// again with resume: 'auto', and compares the SHA-256 of every final tensor (model, optimizer
// state, EMA), the schedulers' state and the history with an uninterrupted run: all equal. A
// loader that does not restore its position makes them differ, so the comparison can fail. The
// same for a GAN trained by a custom step (two models, two optimizers, two schedules).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'train-child.js');

interface ChildOut {
  lines: string[];
  hashes?: Record<string, string>;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child; with pauseAtStep, kills it with SIGKILL as soon as it reports the pause. */
function child(spec: Record<string, unknown>): Promise<ChildOut> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: ChildOut = { lines: [], code: null, signal: null, stderr: '' };
    p.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    createInterface({ input: p.stdout }).on('line', (line) => {
      out.lines.push(line);
      if (line.startsWith('PAUSED')) p.kill('SIGKILL');
      if (line.startsWith('HASHES ')) out.hashes = JSON.parse(line.slice(7)) as Record<string, string>;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-resume-'));

describe('exact resume after SIGKILL', () => {
  let reference: Record<string, string> | undefined;
  const uninterrupted = async () => {
    if (!reference) {
      const r = await child({ dir: tmp() });
      assert.equal(r.code, 0, r.stderr);
      reference = r.hashes;
    }
    return reference as Record<string, string>;
  };

  // 3 epochs × 8 batches = 24 steps; saves at steps 3, 6, ..., 24 and after each epoch.
  const points: [string, number, string][] = [
    ['mid-epoch, two steps after a save', 5, 'last.ckpt'],
    ['right after a save', 6, 'last.ckpt'],
    ['at the last step of an epoch (one step after a save)', 16, 'last.ckpt'],
    ['right after the save at the last step of the last epoch', 24, 'last.ckpt'],
  ];
  for (const [what, step, file] of points) {
    it(`killed ${what} (step ${step}): the resumed run ends bit-identical`, async () => {
      const expected = await uninterrupted();
      const dir = tmp();
      const killed = await child({ dir, pauseAtStep: step });
      assert.equal(killed.signal, 'SIGKILL', `the child should have been killed: ${killed.stderr}`);
      assert.ok(killed.lines.some((l) => l.startsWith(`PAUSED ${step}`)));
      assert.equal(killed.hashes, undefined);
      const resumed = await child({ dir, resume: true });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok(resumed.lines.includes(`RESUMED_FROM ${join(dir, file)}`), resumed.lines.join('\n'));
      assert.deepEqual(resumed.hashes, expected);
    });
  }

  it('a GAN (custom step, two optimizers, two schedules) killed mid-epoch (step 13) resumes bit-identical', async () => {
    const whole = await child({ dir: tmp(), gan: true });
    assert.equal(whole.code, 0, whole.stderr);
    const dir = tmp();
    const killed = await child({ dir, gan: true, pauseAtStep: 13 });
    assert.equal(killed.signal, 'SIGKILL', `the child should have been killed: ${killed.stderr}`);
    const resumed = await child({ dir, gan: true, resume: true });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(resumed.lines.includes(`RESUMED_FROM ${join(dir, 'last.ckpt')}`), resumed.lines.join('\n'));
    assert.deepEqual(resumed.hashes, whole.hashes);
  });

  it('teeth: when the loader does not restore its position (skipBatches ignored), the hashes differ', async () => {
    const expected = await uninterrupted();
    const dir = tmp();
    await child({ dir, pauseAtStep: 5 });
    const resumed = await child({ dir, resume: true, ignoreSkip: true });
    assert.equal(resumed.code, 0, resumed.stderr);
    const differing = Object.keys(expected).filter((k) => expected[k] !== resumed.hashes?.[k]);
    assert.ok(differing.includes('model/0.weight'), `differing: ${differing.join(', ')}`);
  });
});
