// `tessera train --nproc-per-node 2` on loopback, one thread per rank.
//
// The fair comparison with one process: the same global batch (--batch-size is the global batch;
// each of 2 ranks loads half), no batch norm and no dropout (seed-mlp: per-rank batch statistics
// and per-rank dropout masks would differ from one process's), and the same data order (rank r
// takes positions r, r + 2, … of the global order, so global batch b holds the same images, with
// the same per-sample augmentation, keyed by sample index). What is left is rounding: each rank
// averages its half and the halves are averaged, instead of one mean over the batch, so after 2
// epochs of SGD with momentum the weights agree to |Δ| ≤ 1e-5 (observed ~6e-8).
//
// Faults: a rank killed with SIGKILL ends the job non-zero within 10 s naming it; resuming with
// another world size is refused; the same command resumes and ends bit-identical to a run never
// interrupted — here one under `torchrun --no_python` (the same command, ranks started by
// PyTorch's launcher). A port in use and an unreachable master are clear errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { data, io } from '../../src/index.js';
import { writeFolder } from '../run/helpers.js';
import { freePort, maxAbsDiff, PYTHON, run } from './helpers.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'tessera.js');
const TIMEOUT = { timeout: 240_000 };
const hasTorchrun = spawnSync(PYTHON, ['-c', 'import torch.distributed.run'], { encoding: 'utf8' }).status === 0;

/** `tessera train …` to its end; the environment without any rank's variables. */
function tessera(args: string[], options: Parameters<typeof run>[2] = {}) {
  const { RANK: _, WORLD_SIZE: __, LOCAL_RANK: ___, LOCAL_WORLD_SIZE: ____, MASTER_ADDR: _____, MASTER_PORT: ______, ...env } = process.env;
  return run(process.execPath, [BIN, 'train', ...args], { env, ...options });
}

/** 4 classes of 28×28 grey images told apart by where they are bright, as images.npy + labels.npy. */
function writeArrays(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const x = new Uint8Array(n * 784);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = BigInt(c);
    for (let p = 0; p < 784; p++) {
      const [r, col] = [Math.floor(p / 28), p % 28];
      const on = [r < 14, col < 14, (r + col) % 8 < 4, (r - 14) ** 2 + (col - 14) ** 2 < 64][c];
      x[i * 784 + p] = Math.max(0, Math.min(255, (on ? 150 : 80) + Math.round((rand() - 0.5) * 200)));
    }
  }
  data.writeNpy(join(dir, 'images.npy'), { dtype: 'u1', shape: [n, 28, 28], data: x });
  data.writeNpy(join(dir, 'labels.npy'), { dtype: 'i8', shape: [n], data: y });
}

/** The pids of a launcher's ranks, by rank (Linux: the launcher's children in /proc, RANK from their environment). */
function rankPids(launcher: number): Map<number, number> {
  const pids = new Map<number, number>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== launcher) continue;
      const rank = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').find((v) => v.startsWith('RANK='));
      if (rank) pids.set(Number(rank.slice(5)), Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l));

describe('tessera train, data-parallel', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-dist-cli-'));
  const out = join(root, 'runs');

  it('--nproc-per-node 2 ends with the weights of one process (|Δ| ≤ 1e-5); rank 0 alone speaks and writes', TIMEOUT, async () => {
    const arrays = join(root, 'arrays');
    writeArrays(arrays, 640);
    // float32: bf16 autocast (the default on a CPU with native bf16) rounds the two ranks' halves
    // differently from one process's whole batch, far beyond 1e-5.
    const common = [arrays, '--model', 'seed-mlp', '--epochs', '2', '--batch-size', '32', '--threads', '1', '--out-dir', out, '--mixed-precision', 'off'];
    const one = await tessera([...common, '--name', 'one']);
    assert.equal(one.code, 0, one.stderr);
    const two = await tessera([...common, '--name', 'two', '--nproc-per-node', '2']);
    assert.equal(two.code, 0, two.stderr);

    const diff = maxAbsDiff(io.loadSafetensors(join(out, 'one', 'model.safetensors')), io.loadSafetensors(join(out, 'two', 'model.safetensors')));
    assert.ok(diff <= 1e-5, `max |Δ| ${diff}`);
    // Each line once (log lines on stdout, progress on stderr): rank 1 printed nothing, and the launcher nothing of its own.
    const printed = `${two.stdout}\n${two.stderr}`;
    for (const p of [/^model: seed-mlp/, /^data: normalisation measured/, /^epoch 1\/2: train_loss/, /^epoch 2\/2: train_loss/, /^test: accuracy/, /^test accuracy .* report: /])
      assert.equal(lines(printed, p).length, 1, `${p}:\n${printed}`);
    assert.equal(lines(printed, /warning|rank 1|tessera:/).length, 0, printed);
    // The logged epochs are the global batch's and the whole validation set's: as one process logged them.
    const epochs = (name: string) => readFileSync(join(out, name, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>).filter((r) => r['val_accuracy'] !== undefined);
    const [a, b] = [epochs('one'), epochs('two')];
    assert.equal(b.length, 2);
    for (const [e, row] of b.entries()) {
      assert.ok(Math.abs(row['train_loss']! - a[e]!['train_loss']!) <= 1e-5, `epoch ${e}: train_loss ${row['train_loss']} vs ${a[e]!['train_loss']}`);
      assert.equal(row['val_accuracy'], a[e]!['val_accuracy']);
    }
    assert.ok(b[1]!['train_loss']! < b[0]!['train_loss']!, 'the loss fell');
    for (const f of ['config.json', 'splits.json', 'log.csv', 'model.json', 'metrics.json', 'report.html', 'report.json']) assert.ok(existsSync(join(out, 'two', f)), f);
    assert.ok(readdirSync(join(out, 'two', 'checkpoints')).includes('last.ckpt'));
  });

  it('--sync-bn trains fashion-net (batch norm) on 2 ranks to the end; resuming without it is refused, naming it', TIMEOUT, async () => {
    const arrays = join(root, 'arrays-bn');
    writeArrays(arrays, 320);
    const common = [arrays, '--model', 'fashion-net', '--epochs', '2', '--batch-size', '32', '--threads', '1', '--out-dir', out, '--name', 'sync-bn', '--nproc-per-node', '2'];
    const synced = await tessera([...common, '--sync-bn']);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(lines(`${synced.stdout}\n${synced.stderr}`, /^epoch 2\/2: train_loss/).length, 1, synced.stderr);
    assert.ok(existsSync(join(out, 'sync-bn', 'model.safetensors')));
    const refused = await tessera([...common, '--resume']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /syncBatchNorm/);
  });

  it('a rank killed with SIGKILL: non-zero within 10 s naming it; another world size is refused; the same command resumes and ends as an uninterrupted run', TIMEOUT, async () => {
    const folder = join(root, 'colours');
    await writeFolder(folder, 36);
    // Files that fail to decode: skipped by whichever rank meets them, listed in rank 0's metrics.json.
    const corrupt = ['blue/broken-1.png', 'green/broken-2.png', 'red/broken-3.png', 'red/broken-4.png'];
    for (const f of corrupt) writeFileSync(join(folder, f), Buffer.from('not a png at all'));
    const args = [folder, '--model', 'fashion-net', '--epochs', '4', '--batch-size', '16', '--threads', '1', '--out-dir', out, '--set', 'checkpoint.everySteps=2'];

    // The uninterrupted run, under PyTorch's launcher (skipped where torch's is missing: then under ours).
    const reference = hasTorchrun
      ? await run(PYTHON, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2', '--log_dir', join(root, 'torchrun-logs'), '--no_python', process.execPath, BIN, 'train', ...args, '--name', 'whole'])
      : await tessera([...args, '--name', 'whole', '--nproc-per-node', '2']);
    assert.equal(reference.code, 0, reference.stderr);

    const dir = join(out, 'cut');
    let launcher = 0;
    let killedAt = 0;
    const poll = setInterval(() => {
      if (killedAt || !launcher || !existsSync(join(dir, 'checkpoints', 'last.ckpt'))) return;
      const pids = rankPids(launcher);
      if (!pids.has(1)) return;
      // Stop rank 1 first (so the run cannot finish meanwhile), then kill it.
      process.kill(pids.get(1)!, 'SIGSTOP');
      killedAt = Date.now();
      process.kill(pids.get(1)!, 'SIGKILL');
    }, 20);
    const cut = await tessera([...args, '--name', 'cut', '--nproc-per-node', '2'], { onStart: (pid) => (launcher = pid) }).finally(() => clearInterval(poll));
    assert.ok(killedAt > 0, `rank 1 was never killed:\n${cut.stdout}`);
    assert.equal(cut.code, 128 + 9);
    assert.match(cut.stderr, /tessera: rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL; the other ranks were stopped; run the same command again to resume from the last checkpoint/);
    assert.ok(cut.at - killedAt < 10_000, `the job ended ${cut.at - killedAt} ms after the kill`);
    assert.ok(!existsSync(join(dir, 'metrics.json')), 'the run had not finished');

    const alone = await tessera([...args, '--name', 'cut']);
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /this checkpoint was made with a different config or data \(pass --force to resume anyway\):\n {2}worldSize: 2 → \(absent\)/);

    const resumed = await tessera([...args, '--name', 'cut', '--nproc-per-node', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /resuming /);
    assert.equal(maxAbsDiff(io.loadSafetensors(join(dir, 'model.safetensors')), io.loadSafetensors(join(out, 'whole', 'model.safetensors'))), 0);
    const skipped = (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { skipped_files: { id: string }[] }).skipped_files.map((s) => s.id);
    assert.deepEqual([...new Set(skipped.map((id) => corrupt.find((c) => id.endsWith(c)) ?? id))].sort(), [...corrupt].sort());
  });

  it('a master port in use is refused before any rank starts, naming the flag', TIMEOUT, async () => {
    const server = createServer().listen(0);
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await tessera(['--nproc-per-node', '2', '--master-port', String(port), '--out-dir', out]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `tessera: --master-port ${port} is already in use on this machine: choose a free port (on one machine, leave --master-port out and a free one is picked)`);
    } finally {
      server.close();
    }
  });

  it('a rank that cannot reach the master fails after --rendezvous-timeout, saying where it looked', TIMEOUT, async () => {
    const port = await freePort();
    const start = Date.now();
    const r = await tessera(['--nnodes', '2', '--node-rank', '1', '--nproc-per-node', '1', '--master-addr', '127.0.0.1', '--master-port', String(port), '--rendezvous-timeout', '2', '--threads', '1', '--out-dir', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`tessera: rank 1: rank 1 could not reach the rendezvous store at 127\\.0\\.0\\.1:${port} within 2\\.0 s: is rank 0 running`));
    assert.match(r.stderr, /tessera: rank 1 \(local rank 0, pid \d+\) exited with code 1; the other ranks were stopped/);
    assert.ok(Date.now() - start < 60_000);
  });
});
