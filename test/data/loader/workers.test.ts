import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { DataLoader, WorkerInitError } from '../../../src/data/loader/index.js';
import { disposeBatch } from '../../../src/data/types.js';
import { memoryStats } from '../../../src/tensor/index.js';
import { collect, memoryLogger } from './fixtures/collect.js';
import { MemoryDataset } from './fixtures/datasets.js';
import { makeTestPipeline } from './fixtures/pipelines.js';

describe('DataLoader: worker threads', () => {
  it('gives identical batches and reports with 0, 1 and 3 workers', async () => {
    const run = async (workers: number) => {
      const log = memoryLogger();
      const loader = new DataLoader(new MemoryDataset(37, { encoded: true, channels: 3, unreadable: [4] }), {
        batchSize: 5, shuffle: true, seed: 21, workers, pipeline: makeTestPipeline({ bad: [9, 10] }), logger: log,
      });
      try {
        return { e0: await collect(loader, 0), e1: await collect(loader, 1), resumed: await collect(loader, 1, { skipBatches: 3 }), bad: loader.badSamples, log: log.lines };
      } finally {
        await loader.close();
      }
    };
    const [w0, w1, w3] = [await run(0), await run(1), await run(3)];
    assert.equal(w0.e0.length, 8);
    assert.notDeepEqual(w0.e0, w0.e1);
    assert.deepEqual(w0.resumed, w0.e1.slice(3));
    assert.deepEqual(w1, w0);
    assert.deepEqual(w3, w0);
  });

  it('stops a sample stuck in synchronous code (terminates and replaces the worker)', async () => {
    const make = (pipeline: ReturnType<typeof makeTestPipeline>, workers: number) =>
      new DataLoader(new MemoryDataset(12, { encoded: true }), { batchSize: 4, workers, sampleTimeoutMs: 500, pipeline, logger: memoryLogger() });
    const stuck = make(makeTestPipeline({ spin: [2] }), 2);
    const reference = make(makeTestPipeline({ bad: [2] }), 0);
    try {
      assert.deepEqual(await collect(stuck, 0), await collect(reference, 0));
      assert.deepEqual(stuck.badSamples, [{ id: 'mem/2.png', index: 2, reason: 'took longer than 500 ms in the pipeline (worker stopped and replaced)' }]);
      assert.equal((await collect(stuck, 1)).length, 3, 'the replacement worker serves the next epoch');
    } finally {
      await stuck.close();
    }
  });

  it('reports a sample that crashes its worker, and carries on', async () => {
    const loader = new DataLoader(new MemoryDataset(10, { encoded: true }), { batchSize: 5, workers: 2, pipeline: makeTestPipeline({ crash: [6] }), logger: memoryLogger() });
    try {
      const batches = await collect(loader, 0);
      assert.deepEqual(batches.map((b) => b.indices), [[0, 1, 2, 3, 4], [5, 0, 7, 8, 9]]);
      assert.deepEqual(loader.badSamples, [{ id: 'mem/6.png', index: 6, reason: 'worker exited with code 3' }]);
    } finally {
      await loader.close();
    }
  });

  it('fails clearly when a worker cannot rebuild the pipeline', async () => {
    const base = makeTestPipeline();
    const pipeline = { run: base.run, workerSpec: () => ({ ...base.workerSpec(), export: 'makeNothing' }) };
    const loader = new DataLoader(new MemoryDataset(4, { encoded: true }), { batchSize: 2, workers: 1, pipeline });
    await assert.rejects(collect(loader, 0), (e: Error) =>
      e instanceof WorkerInitError && /pipelines\.js#makeNothing\): .*has no exported function 'makeNothing' \(exports: .*makeTestPipeline/.test(e.message));
    await loader.close();
  });

  it('keeps the event loop free with a CPU-heavy pipeline on workers', async (t) => {
    const p99 = async (workers: number) => {
      const loader = new DataLoader(new MemoryDataset(24, { encoded: true, width: 32, height: 32, channels: 3 }), {
        batchSize: 4, workers, pipeline: makeTestPipeline({ work: 3000 }),
      });
      await collect(loader, 0); // warm-up: start the workers, JIT the pipeline
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      await new Promise((resolve) => setTimeout(resolve, 10)); // the monitor's timer starts on the next loop turn
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      const n = (await collect(loader, 1)).length;
      const ms = performance.now() - t0;
      const elu = performance.eventLoopUtilization(elu0).utilization;
      // A loop blocked until the end records its last delay only when the monitor's timer runs again.
      await new Promise((resolve) => setTimeout(resolve, 20));
      h.disable();
      await loader.close();
      assert.equal(n, 6);
      return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, count: h.count, ms, elu };
    };
    const main = await p99(0);
    const workers = await p99(2);
    const line = (r: typeof main) =>
      `p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms over ${r.count} probes, loop busy ${(100 * r.elu).toFixed(0)}%, epoch ${r.ms.toFixed(0)} ms`;
    t.diagnostic(`event-loop delay with 2 workers: ${line(workers)}; pipeline on the main thread: ${line(main)}`);
    assert.ok(main.max > 100, `the test pipeline should block the loop when run on the main thread (max delay ${main.max} ms)`);
    // On a loaded 2-core machine the OS alone delays the loop by tens of ms, so the bounds are relative.
    assert.ok(workers.p99 < main.max / 5 && workers.elu < 0.5, `with workers: ${line(workers)}; main thread: ${line(main)}`);
  });

  it('keeps live tensors flat across epochs with workers', async () => {
    const loader = new DataLoader(new MemoryDataset(16, { encoded: true }), { batchSize: 4, workers: 2, pipeline: makeTestPipeline() });
    try {
      await collect(loader, 0);
      const before = memoryStats().liveTensors;
      for (let e = 1; e <= 3; e++) for await (const b of loader.epoch(e)) disposeBatch(b);
      assert.equal(memoryStats().liveTensors, before);
    } finally {
      await loader.close();
    }
  });

  it('leaves no handle open: a process that used workers exits, with or without close()', () => {
    const script = fileURLToPath(new URL('./fixtures/exit-check.js', import.meta.url));
    for (const arg of ['close', 'no-close']) {
      const r = spawnSync(process.execPath, [script, arg], { timeout: 30_000, encoding: 'utf8' });
      assert.equal(r.signal, null, `${arg}: the process had to be killed (a worker kept it alive)\n${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'done 3');
    }
  });
});
