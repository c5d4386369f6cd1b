// Issue #10 item 2: whether a sample is bad must not depend on how slow the consumer is. A training
// step blocks the event loop (forward and backward run synchronously in LibTorch) while the loader's
// samples decode on the thread pool or in workers; their time limit must count their own work, not
// the step. The consumer here busy-waits longer than sampleTimeoutMs after every batch.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { DataLoader } from '../../../src/data/loader/index.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { compose, resize } from '../../../src/data/transforms/index.js';
import { disposeBatch } from '../../../src/data/types.js';
import { encode, smooth } from '../fixtures/images.js';
import { collect, memoryLogger } from './fixtures/collect.js';
import { MemoryDataset } from './fixtures/datasets.js';
import { makeTestPipeline } from './fixtures/pipelines.js';

const root = mkdtempSync(join(tmpdir(), 'loader-timing-'));
after(() => rmSync(root, { recursive: true, force: true }));

before(async () => {
  for (const c of ['a', 'b']) mkdirSync(join(root, c));
  for (let i = 0; i < 16; i++) writeFileSync(join(root, i % 2 ? 'b' : 'a', `${i}.jpg`), await encode(smooth(320 + i, 240), 'jpeg'));
});

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end); // a model step, as far as the event loop can tell
}

/** One epoch's sample indices per batch, with the consumer blocking `blockMs` after each batch. */
async function epoch(workers: number, blockMs: number): Promise<{ batches: number[][]; bad: readonly unknown[]; warnings: string[] }> {
  const log = memoryLogger();
  const loader = new DataLoader(await imageFolder(root), {
    batchSize: 4, shuffle: true, seed: 3, workers, sampleTimeoutMs: 250, logger: log,
    pipeline: compose({ transforms: [resize({ size: [24, 32] })] }),
  });
  const batches: number[][] = [];
  try {
    for await (const b of loader) {
      batches.push([...b.indices]);
      disposeBatch(b);
      block(blockMs);
    }
  } finally {
    await loader.close();
  }
  return { batches, bad: loader.badSamples, warnings: log.lines };
}

describe('DataLoader: a slow consumer', () => {
  for (const workers of [0, 2]) {
    it(`skips nothing when it blocks the event loop longer than sampleTimeoutMs (${workers} workers)`, async () => {
      const slow = await epoch(workers, 700);
      assert.deepEqual(slow.warnings, []);
      assert.deepEqual(slow.bad, []);
      assert.deepEqual(slow.batches.flat().sort((a, b) => a - b), [...Array(16).keys()], 'every sample once, none refilled');
      // The same decisions as a consumer that never blocks: nothing about the run depends on its speed.
      assert.deepEqual(slow, await epoch(workers, 0));
    });
  }

  it('still stops a stuck sample, and only it, while the consumer blocks', async () => {
    const make = (pipeline: ReturnType<typeof makeTestPipeline>, workers: number) =>
      new DataLoader(new MemoryDataset(12, { encoded: true }), { batchSize: 4, workers, sampleTimeoutMs: 250, pipeline, logger: memoryLogger() });
    const stuck = make(makeTestPipeline({ spin: [6] }), 2);
    try {
      const batches: number[][] = [];
      for await (const b of stuck) {
        batches.push([...b.indices]);
        disposeBatch(b);
        block(600);
      }
      const reference = await collect(make(makeTestPipeline({ bad: [6] }), 0), 0);
      assert.deepEqual(batches, reference.map((b) => b.indices));
      assert.deepEqual(stuck.badSamples, [{ id: 'mem/6.png', index: 6, reason: 'took longer than 250 ms in the pipeline (worker stopped and replaced)' }]);
    } finally {
      await stuck.close();
    }
  });
});
