import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadSampleBudgetError, BadSampleError, DataLoader } from '../../../src/data/loader/index.js';
import { subset } from '../../../src/data/subset.js';
import { collect, memoryLogger } from './fixtures/collect.js';
import { MemoryDataset } from './fixtures/datasets.js';
import { makeTestPipeline } from './fixtures/pipelines.js';

describe('DataLoader: bad samples', () => {
  it('skips them: one warning per file, listed, holes filled from the next positions, batch count unchanged', async () => {
    const log = memoryLogger();
    const loader = new DataLoader(new MemoryDataset(20, { unreadable: [3], encoded: true }), {
      batchSize: 4, pipeline: makeTestPipeline({ bad: [7, 19] }), logger: log, batchTransforms: [],
    });
    const batches = await collect(loader, 0);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 1, 2, 4], [4, 5, 6, 8], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 0]]);
    assert.deepEqual(loader.badSamples, [
      { id: 'mem/3.png', index: 3, reason: 'truncated file' },
      { id: 'mem/7.png', index: 7, reason: 'unsupported marker in image' },
      { id: 'mem/19.png', index: 19, reason: 'unsupported marker in image' },
    ]);
    assert.deepEqual(log.lines, [
      'skipping bad sample mem/3.png (index 3): truncated file',
      'skipping bad sample mem/7.png (index 7): unsupported marker in image',
      'skipping bad sample mem/19.png (index 19): unsupported marker in image',
    ]);
    // A second epoch meets the same files: counted again, not logged or listed again.
    await collect(loader, 1);
    assert.equal(log.lines.length, 3);
    assert.equal(loader.badSamples.length, 3);
    assert.equal(loader.badSampleCount, 6);
  });

  it('keeps resume exact when samples are skipped (shuffled, several holes in one batch)', async () => {
    const make = () => new DataLoader(new MemoryDataset(40, { unreadable: [5, 6, 30] }), {
      batchSize: 6, shuffle: true, seed: 9, pipeline: makeTestPipeline({ bad: [11, 12, 13] }), logger: memoryLogger(),
    });
    const full = await collect(make(), 4);
    assert.equal(full.length, 7);
    for (const b of full.slice(0, -1)) assert.equal(b.indices.length, 6);
    for (const b of full) for (const i of b.indices) assert.ok(![5, 6, 30, 11, 12, 13].includes(i));
    for (const skip of [1, 3, 6]) assert.deepEqual(await collect(make(), 4, { skipBatches: skip }), full.slice(skip));
  });

  it("policy 'fail' throws naming the sample", async () => {
    const loader = new DataLoader(new MemoryDataset(8, { unreadable: [5] }), { batchSize: 4, badSamples: { policy: 'fail' } });
    await assert.rejects(collect(loader, 0), (e: Error) => e instanceof BadSampleError && e.message === 'bad sample mem/5.png (index 5): truncated file');
  });

  it('aborts after maxConsecutive bad samples in a row', async () => {
    const unreadable = Array.from({ length: 30 }, (_, i) => i + 10);
    const loader = new DataLoader(new MemoryDataset(60, { unreadable }), { batchSize: 4, workers: 2, pipeline: makeTestPipeline(), badSamples: { maxConsecutive: 5 }, logger: memoryLogger() });
    // Counted in epoch order: 8, 9 good; 10, 11 bad; their replacements 12, 13, then 14 bad — the fifth in a row.
    await assert.rejects(collect(loader, 0), (e: Error) =>
      e instanceof BadSampleBudgetError &&
      e.message === 'data loader stopped: 5 bad samples in a row (badSamples.maxConsecutive = 5); the last ones:' +
        [10, 11, 12, 13, 14].map((i) => `\n  mem/${i}.png: truncated file`).join(''));
    await loader.close();
  });

  it('aborts when the bad share passes maxRatio', async () => {
    const unreadable = Array.from({ length: 25 }, (_, i) => 4 * i);
    const loader = new DataLoader(new MemoryDataset(100, { unreadable }), { batchSize: 5, badSamples: { maxRatio: 0.1, minSamplesForRatio: 20 }, logger: memoryLogger() });
    await assert.rejects(collect(loader, 0), (e: Error) => e instanceof BadSampleBudgetError && /of \d+ samples this epoch were bad \(\d+\.\d% > badSamples\.maxRatio 10\.0%\)/.test(e.message));
    const lenient = new DataLoader(new MemoryDataset(100, { unreadable }), { batchSize: 5, badSamples: { maxRatio: 0.3 }, logger: memoryLogger() });
    assert.equal((await collect(lenient, 0)).length, 20);
  });

  it('reports a stuck read or a stuck pipeline as bad after sampleTimeoutMs, never hangs', async () => {
    const loader = new DataLoader(new MemoryDataset(8, { hangs: [2] }), {
      batchSize: 4, sampleTimeoutMs: 100, pipeline: makeTestPipeline({ stuck: [5] }), logger: memoryLogger(),
    });
    const batches = await collect(loader, 0);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 1, 4, 3], [4, 0, 6, 7]]);
    assert.deepEqual(loader.badSamples.map((b) => [b.id, b.reason]), [
      ['mem/2.png', 'reading took longer than 100 ms'],
      ['mem/5.png', 'the pipeline took longer than 100 ms'],
    ]);
  });

  it('names a sample whose read never answers by its file, through a subset too (not "N samples of … [i]")', async () => {
    const log = memoryLogger();
    const base = new MemoryDataset(8, { hangs: [2] });
    const loader = new DataLoader(subset(base, [7, 2, 5, 0]), { batchSize: 4, sampleTimeoutMs: 100, logger: log });
    await collect(loader, 0);
    assert.deepEqual(log.lines, ['skipping bad sample mem/2.png (index 1): reading took longer than 100 ms']);
    // A source that cannot name its samples without reading them: the index and the source.
    const anonymous = { kind: 'indexed' as const, length: 4, classes: base.classes, labels: () => base.labels().subarray(0, 4), read: (i: number) => base.read(i), describe: () => 'anonymous' };
    const plain = new DataLoader(anonymous, { batchSize: 4, sampleTimeoutMs: 100, logger: memoryLogger() });
    await collect(plain, 0);
    assert.deepEqual(plain.badSamples.map((b) => b.id), ['sample 2 of anonymous']);
  });
});
