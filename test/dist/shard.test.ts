// A rank's share of the data (DataPipeline.loaders with a shard): global batch b is split over the
// ranks — their batches together hold exactly the samples of one process's batch b, for the
// random and the weighted sampler, every epoch — validation is split into disjoint shards that
// cover it, the test set stays whole, and a global batch that does not split evenly is refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { resolveConfig } from '../../src/config/load.js';
import { data, type Tensor } from '../../src/index.js';
import { DataPipeline, type Shard } from '../../src/data/pipeline/pipeline.js';
import { pipelineSpec } from '../../src/run/data.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-shard-'));
const N = 203;
const pixels = Uint8Array.from({ length: N * 64 }, (_, i) => (i * 37) % 251);
data.writeNpy(join(dir, 'images.npy'), { dtype: 'u1', shape: [N, 8, 8], data: pixels });
data.writeNpy(join(dir, 'labels.npy'), { dtype: 'i8', shape: [N], data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % 5 === 0 ? 1 : i % 3)) });

async function loaders(overrides: [string, string][], shard?: Shard) {
  const config = resolveConfig({ overrides: [['data.source', JSON.stringify(dir)], ['train.batchSize', '16'], ['data.valSplit', '0.2'], ...overrides] });
  const p = await DataPipeline.open(pipelineSpec(config));
  try {
    await p.setup({ measure: false });
    return await p.loaders(shard);
  } finally {
    p.close();
  }
}

/** Each batch's sample indices, for one epoch. */
async function batches(loader: data.DataLoader, epoch: number): Promise<number[][]> {
  return (await batchesOf(loader, epoch, (b) => [...b.indices])) as number[][];
}

/** Each batch's sample ids (the same names through a shard's subset), for one epoch. */
async function ids(loader: data.DataLoader): Promise<string[]> {
  return ((await batchesOf(loader, 0, (b) => [...b.ids])) as string[][]).flat();
}

async function batchesOf(loader: data.DataLoader, epoch: number, pick: (b: data.Batch) => (number | string)[]): Promise<(number | string)[][]> {
  const out: (number | string)[][] = [];
  for await (const b of loader.epoch(epoch)) {
    out.push(pick(b));
    for (const t of [b.x, b.y] as Tensor[]) t.dispose();
  }
  return out;
}

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

describe('DataPipeline.loaders(shard)', () => {
  for (const sampler of ['random', 'weighted']) {
    it(`global batch b of 2 ranks holds the samples of one process's batch b (${sampler} sampler)`, async () => {
      const set = [['train.sampler', JSON.stringify(sampler)]] as [string, string][];
      const one = await loaders(set);
      const ranks = [await loaders(set, { rank: 0, worldSize: 2 }), await loaders(set, { rank: 1, worldSize: 2 })];
      assert.deepEqual(ranks.map((l) => l.train.batchSize), [8, 8]);
      for (const epoch of [0, 1]) {
        const whole = await batches(one.train, epoch);
        const parts = await Promise.all(ranks.map((l) => batches(l.train, epoch)));
        // An even training split: DistributedSampler pads nothing (an odd one repeats one sample in the last batch).
        assert.equal((one.train.dataset as data.IndexedDataset).length % 2, 0);
        assert.equal(parts[0]!.length, whole.length, 'as many batches on each rank as in one process');
        assert.equal(parts[1]!.length, whole.length);
        for (const [b, w] of whole.entries()) assert.deepEqual(sorted([...parts[0]![b]!, ...parts[1]![b]!]), sorted(w), `epoch ${epoch}, batch ${b}`);
      }
      // Epochs differ: the split follows the sampler's order, not a fixed one.
      assert.notDeepEqual(await batches(ranks[0]!.train, 0), await batches(ranks[0]!.train, 1));
    });
  }

  it('validation is split into disjoint shards that cover it; the test set stays whole', async () => {
    const one = await loaders([]);
    const ranks = [await loaders([], { rank: 0, worldSize: 2 }), await loaders([], { rank: 1, worldSize: 2 })];
    const val = await ids(one.val!);
    const shards = await Promise.all(ranks.map((l) => ids(l.val!)));
    assert.equal(shards[0]!.length + shards[1]!.length, val.length);
    assert.ok(Math.abs(shards[0]!.length - shards[1]!.length) <= 1);
    assert.deepEqual([...shards[0]!, ...shards[1]!].sort(), [...val].sort(), 'no sample in both shards, none left out');
    for (const l of ranks) assert.deepEqual(await ids(l.test!), await ids(one.test!));
  });

  it('refuses a global batch that does not split evenly over the ranks', async () => {
    await assert.rejects(loaders([['train.batchSize', '15']], { rank: 0, worldSize: 2 }), /the batch size 15 does not split evenly over 2 ranks: the batch size is the global batch/);
  });
});
