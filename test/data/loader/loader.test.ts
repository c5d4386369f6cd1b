import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DataLoader, LoaderConfigError, CollateError } from '../../../src/data/loader/index.js';
import { DistributedSampler, RandomSampler, WeightedRandomSampler } from '../../../src/data/sampling/index.js';
import { disposeBatch } from '../../../src/data/types.js';
import { memoryStats, scope } from '../../../src/tensor/index.js';
import { collect, memoryLogger } from './fixtures/collect.js';
import { MemoryDataset, MemoryStream, pixelsOf } from './fixtures/datasets.js';
import { makeTestPipeline, offsetFor } from './fixtures/pipelines.js';

describe('DataLoader: batches', () => {
  it('stacks pixels as N×C×H×W float32 in [0, 1] with int64 labels, last batch short', async () => {
    const loader = new DataLoader(new MemoryDataset(10, { width: 4, height: 3, channels: 3 }), { batchSize: 4 });
    assert.equal(loader.batchesPerEpoch, 3);
    const batches = await collect(loader, 0);
    assert.deepEqual(batches.map((b) => b.shape), [[4, 3, 3, 4], [4, 3, 3, 4], [2, 3, 3, 4]]);
    assert.equal(batches[0]?.dtype, 'float32');
    assert.deepEqual(batches.flatMap((b) => b.indices), [...Array(10).keys()]);
    assert.deepEqual(batches[2]?.ids, ['mem/8.png', 'mem/9.png']);
    assert.deepEqual(batches.flatMap((b) => b.y), Array.from({ length: 10 }, (_, i) => i % 3));
    // Sample 5 is batch 1 row 1: CHW of the HWC pixels, divided by 255.
    const hwc = pixelsOf(5, 4, 3, 3);
    const b1 = batches[1] as { x: number[] };
    for (const [c, yy, xx] of [[0, 0, 0], [2, 1, 3], [1, 2, 2]] as const) {
      const got = b1.x[36 + c * 12 + yy * 4 + xx] as number;
      assert.ok(Math.abs(got - (hwc[(yy * 4 + xx) * 3 + c] as number) / 255) < 1e-7, `pixel c${c} y${yy} x${xx}`);
    }
  });

  it('dropLast drops the short batch; batchTransforms: [] keeps uint8', async () => {
    const loader = new DataLoader(new MemoryDataset(10), { batchSize: 4, dropLast: true, batchTransforms: [] });
    assert.equal(loader.batchesPerEpoch, 2);
    const batches = await collect(loader, 0);
    assert.deepEqual(batches.map((b) => b.shape), [[4, 1, 3, 4], [4, 1, 3, 4]]);
    assert.equal(batches[0]?.dtype, 'uint8');
    assert.deepEqual(batches[0]?.x.slice(12, 24), Array.from(pixelsOf(1, 4, 3, 1)));
  });

  it('shuffles as a pure function of (seed, epoch): each epoch a permutation, epochs differ', async () => {
    const make = (seed: number) => new DataLoader(new MemoryDataset(23), { batchSize: 5, shuffle: true, seed });
    const e0 = (await collect(make(7), 0)).flatMap((b) => b.indices);
    const e0again = (await collect(make(7), 0)).flatMap((b) => b.indices);
    const e1 = (await collect(make(7), 1)).flatMap((b) => b.indices);
    const other = (await collect(make(8), 0)).flatMap((b) => b.indices);
    assert.deepEqual(e0, e0again);
    assert.deepEqual([...e0].sort((a, b) => a - b), [...Array(23).keys()]);
    assert.notDeepEqual(e0, e1);
    assert.notDeepEqual(e0, other);
  });

  it('is async-iterable as in PyTorch: each for-await pass is the next epoch; setEpoch picks one', async () => {
    const loader = new DataLoader(new MemoryDataset(13), { batchSize: 4, shuffle: true, seed: 2, batchTransforms: [] });
    const pass = async () => {
      const out: number[][] = [];
      for await (const b of loader) {
        out.push([...b.indices]);
        disposeBatch(b);
      }
      return out;
    };
    const epoch = async (e: number) => (await collect(loader, e)).map((b) => b.indices);
    const first = await pass();
    assert.deepEqual(first, await epoch(0));
    assert.deepEqual(await pass(), await epoch(1), 'the second pass reshuffles: epoch 1');
    for await (const b of loader) {
      disposeBatch(b);
      break; // a pass left early still counts (epoch 2), as a new iterator does in PyTorch
    }
    assert.deepEqual(await pass(), await epoch(3));
    loader.setEpoch(0);
    assert.deepEqual(await pass(), first);
    assert.throws(() => loader.setEpoch(-1), /setEpoch: epoch must be a non-negative integer, got -1/);
  });

  it('skipBatches resumes mid-epoch exactly (the tail of the full epoch)', async () => {
    const loader = new DataLoader(new MemoryDataset(30, { encoded: true }), { batchSize: 4, shuffle: true, seed: 3, pipeline: makeTestPipeline() });
    const full = await collect(loader, 2);
    for (const skip of [1, 4, 7, 8]) assert.deepEqual(await collect(loader, 2, { skipBatches: skip }), full.slice(skip), `skip ${skip}`);
  });

  it('passes (seed, epoch, index) to the pipeline', async () => {
    const loader = new DataLoader(new MemoryDataset(6), { batchSize: 6, seed: 11, pipeline: makeTestPipeline(), batchTransforms: [] });
    const [b] = await collect(loader, 3);
    for (let i = 0; i < 6; i++) assert.equal(b?.x[i * 12], ((7 * i) % 251) + offsetFor({ seed: 11, epoch: 3, index: i }));
  });

  it('uses a given sampler: weighted draws with replacement, batchesPerEpoch from its length', async () => {
    const d = new MemoryDataset(10);
    const weights = Array.from({ length: 10 }, (_, i) => (i === 3 ? 1 : 0));
    const loader = new DataLoader(d, { batchSize: 4, sampler: new WeightedRandomSampler(weights, 9, { seed: 1 }) });
    assert.equal(loader.batchesPerEpoch, 3);
    const idx = (await collect(loader, 0)).flatMap((b) => b.indices);
    assert.deepEqual(idx, Array(9).fill(3));
    assert.throws(() => new DataLoader(d, { batchSize: 2, shuffle: true, sampler: new RandomSampler(10) }), /either sampler or shuffle/);
  });

  it('with a DistributedSampler, ranks get equal, disjoint shares that cover the data set', async () => {
    const d = new MemoryDataset(22);
    const inner = new RandomSampler(22, { seed: 6 });
    const ranks = await Promise.all([0, 1, 2, 3].map(async (rank) =>
      (await collect(new DataLoader(d, { batchSize: 3, sampler: new DistributedSampler(inner, { rank, worldSize: 4, dropLast: true }) }), 1)).flatMap((b) => b.indices)));
    assert.deepEqual(ranks.map((r) => r.length), [5, 5, 5, 5]);
    assert.equal(new Set(ranks.flat()).size, 20);
  });

  it('hands out batches outside every memory scope; live tensors stay flat across epochs', async () => {
    const loader = new DataLoader(new MemoryDataset(20, { encoded: true }), { batchSize: 3, shuffle: true, pipeline: makeTestPipeline() });
    const kept = await scope(async () => {
      for await (const b of loader.epoch(0)) return b; // leaves the loop (and the scope) holding one batch
      throw new Error('no batch');
    });
    assert.equal(kept.x.disposed, false, 'the batch survives the consumer scope it was made in');
    assert.equal(kept.x.shape[0], 3);
    disposeBatch(kept);
    await collect(loader, 0); // warm-up
    const before = memoryStats().liveTensors;
    for (let e = 1; e <= 3; e++) await collect(loader, e);
    assert.equal(memoryStats().liveTensors, before);
  });

  it('stops cleanly when the consumer breaks out, and the next epoch still works', async () => {
    const d = new MemoryDataset(40);
    const loader = new DataLoader(d, { batchSize: 2, prefetch: 3 });
    for await (const b of loader.epoch(0)) {
      disposeBatch(b);
      break;
    }
    assert.ok(d.reads <= 2 * 4 + 16, `reads after an early stop: ${d.reads}`);
    assert.equal((await collect(loader, 1)).length, 20);
  });

  it('honours an abort signal', async () => {
    const loader = new DataLoader(new MemoryDataset(40), { batchSize: 2 });
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const b of loader.epoch(0, { signal: ac.signal })) {
        disposeBatch(b);
        if (++n === 2) ac.abort(new Error('stop here'));
      }
    }, /stop here/);
    assert.equal(n, 2);
  });

  it('says what is wrong with the set-up: encoded bytes without a pipeline, images of different sizes', async () => {
    await assert.rejects(collect(new DataLoader(new MemoryDataset(4, { encoded: true }), { batchSize: 2 }), 0), (e: Error) =>
      e instanceof LoaderConfigError && /mem\/0\.png holds encoded file bytes.*pass \{ pipeline \}/.test(e.message));
    await assert.rejects(collect(new DataLoader(new MemoryDataset(4, { odd: [2] }), { batchSize: 4 }), 0), (e: Error) =>
      e instanceof CollateError && /mem\/2\.png is 5×3×1 but mem\/0\.png is 4×3×1/.test(e.message));
    assert.throws(() => new DataLoader(new MemoryDataset(4), { batchSize: 0 }), /batchSize must be a positive integer/);
  });
});

describe('DataLoader: streams', () => {
  it('reads a stream in order, or with a seeded buffered shuffle; resumes with skipBatches', async () => {
    const plain = new DataLoader(new MemoryStream(11), { batchSize: 4 });
    assert.equal(plain.batchesPerEpoch, 3);
    const inOrder = await collect(plain, 0);
    assert.deepEqual(inOrder.map((b) => b.indices), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]);
    assert.deepEqual(inOrder[2]?.ids, ['shard.tar#8', 'shard.tar#9', 'shard.tar#10']);

    const stream = new MemoryStream(50);
    const shuffled = new DataLoader(stream, { batchSize: 4, shuffle: true, shuffleBuffer: 16, seed: 5 });
    const a = await collect(shuffled, 1);
    const order = a.flatMap((b) => b.indices);
    assert.deepEqual([...order].sort((x, y) => x - y), [...Array(50).keys()]);
    assert.notDeepEqual(order, [...Array(50).keys()]);
    assert.deepEqual(await collect(shuffled, 1), a);
    assert.notDeepEqual((await collect(shuffled, 2)).flatMap((b) => b.indices), order);
    assert.deepEqual(await collect(shuffled, 1, { skipBatches: 5 }), a.slice(5));
    assert.deepEqual(stream.contexts[0], { epoch: 1, seed: 5, rank: 0, worldSize: 1, signal: stream.contexts[0]?.signal });
  });

  it('passes rank and worldSize to the stream', async () => {
    const stream = new MemoryStream(10);
    const loader = new DataLoader(stream, { batchSize: 10, rank: 1, worldSize: 2 });
    const [b] = await collect(loader, 0);
    assert.deepEqual(b?.indices, [1, 3, 5, 7, 9]);
  });

  it('fills a bad stream sample from the following records; the last batch comes out short', async () => {
    const log = memoryLogger();
    const loader = new DataLoader(new MemoryStream(10, { encoded: true }), { batchSize: 4, pipeline: makeTestPipeline({ bad: [1] }), logger: log });
    const batches = await collect(loader, 0);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 4, 2, 3], [4, 5, 6, 7], [8, 9]]);
    assert.deepEqual(await collect(loader, 0, { skipBatches: 1 }), batches.slice(1));
    assert.equal(log.lines.length, 1);
  });
});
