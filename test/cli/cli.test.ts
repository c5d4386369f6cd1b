import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('tessera command', () => {
  it('info --json describes LibTorch, threads and BLAS', () => {
    const r = run('info', '--json');
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { libtorch: { version: string }; blas: { kind: string }; threads: { intraOp: number } };
    assert.match(info.libtorch.version, /^\d+\.\d+\.\d+$/);
    assert.ok(info.threads.intraOp >= 1);
    assert.ok(info.blas.kind.length > 0);
  });

  it('rejects bad options with one clear sentence', () => {
    const r = run('demo', '--steps', 'many');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--steps must be a positive integer/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });

  it('demo trains on Fashion-MNIST and the loss falls', () => {
    assert.ok(existsSync('/usr/share/datasets/fashion-mnist'), 'dataset-fashion-mnist must be installed (scripts/setup.sh does it)');
    const r = run('demo', '--steps', '150');
    assert.equal(r.status, 0, r.stderr);
    const losses = [...r.stdout.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    assert.equal(losses.length, 6);
    assert.ok((losses.at(-1) as number) < (losses[0] as number), `loss did not fall: ${losses.join(' → ')}`);
    assert.match(r.stdout, /test accuracy after 150 steps: \d+\.\d+%/);
  });
});
