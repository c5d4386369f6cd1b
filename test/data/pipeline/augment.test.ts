// Config that used to be validated, saved and read by nothing — augment.mixup, augment.cutmix,
// augment.erasing, model.channelsLast — now changes what the trainer gets (and so what runs); the
// last short training batch is kept unless data.dropLast asks to drop it; normalisation is measured
// through the loader, the same with or without worker threads.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { resolveConfig } from '../../../src/config/load.js';
import { measureNormalization } from '../../../src/data/pipeline/normalization.js';
import { compose } from '../../../src/data/transforms/compose.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { disposeBatch } from '../../../src/data/types.js';
import { openRunData } from '../../../src/run/data.js';
import { runTraining } from '../../../src/run/train.js';
import { createModel } from '../../../src/models/registry.js';
import { conv2d, randn, type Tensor } from '../../../src/tensor/index.js';
import { writeSources, type Sources } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'pipeline-augment-'));
after(() => rmSync(root, { recursive: true, force: true }));
let src: Sources;
before(async () => {
  src = await writeSources(root);
});

const base = (source: string): [string, string][] => [['data.source', JSON.stringify(source)], ['data.valSplit', '0'], ['data.testSplit', '0'], ['train.batchSize', '8'], ['train.seed', '3']];

/** The first training batch of a run configured by `overrides`, as plain arrays. */
async function firstBatch(source: string, overrides: [string, string][]) {
  const data = await openRunData(resolveConfig({ overrides: [...base(source), ...overrides] }));
  try {
    for await (const b of data.train.epoch(0)) {
      const out = { x: Array.from(b.x.contiguous().data() as Float32Array), xShape: b.x.shape, channelsLast: b.x.isContiguous('channelsLast'), y: Array.from(b.y.data() as ArrayLike<number | bigint>, Number), yShape: b.y.shape, yType: b.y.dtype };
      disposeBatch(b);
      return out;
    }
    throw new Error('no batch');
  } finally {
    await data.close();
  }
}

describe('augmentation and layout options change what the trainer gets', () => {
  for (const source of ['image-folder', 'idx']) {
    it(`mixup, cutmix, erasing and channelsLast each change the batch (${source})`, async () => {
      const spec = src.specs[source]!;
      const plain = await firstBatch(spec, []);
      assert.deepEqual([plain.yType, plain.yShape], ['int64', [8]]);

      const mixup = await firstBatch(spec, [['augment.mixup', '0.4']]);
      assert.deepEqual([mixup.yType, mixup.yShape], ['float32', [8, 2]], 'mixup: soft targets');
      assert.ok(mixup.y.some((v) => v > 0.01 && v < 0.99), 'mixup: targets are mixed');
      assert.notDeepEqual(mixup.x, plain.x);

      const cutmix = await firstBatch(spec, [['augment.cutmix', '1']]);
      assert.deepEqual([cutmix.yType, cutmix.yShape], ['float32', [8, 2]], 'cutmix: soft targets');
      const changed = cutmix.x.filter((v, i) => v !== plain.x[i]).length;
      assert.ok(changed > 0 && changed < plain.x.length, `cutmix pastes a box (${changed} of ${plain.x.length} values changed)`);

      const erasing = await firstBatch(spec, [['augment.erasing', '1']]);
      const zeros = (x: number[]) => x.filter((v) => v === 0).length;
      assert.ok(zeros(erasing.x) > zeros(plain.x), 'erasing: boxes set to 0 (the mean colour)');
      assert.deepEqual(erasing.y, plain.y);

      const cl = await firstBatch(spec, [['model.channelsLast', 'true']]);
      assert.equal(cl.channelsLast, true, 'channelsLast: NHWC strides');
      assert.deepEqual(cl.x, plain.x, 'channelsLast: the same values');
    });
  }

  it('channelsLast makes the convolutions run channels-last: the batch (colour) and the model (any input)', async () => {
    const data = await openRunData(resolveConfig({ overrides: [...base(src.specs['image-folder']!), ['model.channelsLast', 'true']] }));
    try {
      for await (const b of data.train.epoch(0)) {
        assert.ok(!b.x.isContiguous(), 'a colour batch has NHWC strides');
        const w = randn([4, 3, 3, 3]);
        const y = conv2d(b.x, w, { padding: 1 });
        assert.ok(y.isContiguous('channelsLast') && !y.isContiguous(), 'the output keeps channels_last: the NHWC kernel ran');
        const y0 = conv2d(b.x.contiguous(), w, { padding: 1 });
        assert.ok(y0.isContiguous(), 'a contiguous batch runs the NCHW kernel');
        for (const t of [w, y, y0]) t.dispose();
        disposeBatch(b);
        break;
      }
    } finally {
      await data.close();
    }
    // A grey batch's strides say nothing about layout (nor do a 1-channel conv's): the model's NHWC weights decide from its second conv on.
    const model = createModel('fashion-net', { inChannels: 1, classes: 2 });
    model.to({ memoryFormat: 'channelsLast' });
    const convs = model.parameters().filter((p) => p.ndim === 4);
    assert.ok(convs.every((p) => p.isContiguous('channelsLast')), 'every conv weight is NHWC');
    assert.ok(convs.slice(1).every((p) => !p.isContiguous()), 'those with more than one input channel have NHWC strides');
    const [w1, w2] = convs as [Tensor, Tensor];
    const x = randn([2, 1, 12, 12]);
    const h = conv2d(x, w1, { padding: 1 });
    const y = conv2d(h, w2, { padding: 1 });
    assert.ok(y.isContiguous('channelsLast') && !y.isContiguous(), 'NHWC weights make the next conv run the NHWC kernel');
    for (const t of [x, h, y]) t.dispose();
    model.dispose();
  });

  it('keeps the last short training batch unless data.dropLast asks to drop it', async () => {
    // 24 samples in batches of 10: 10, 10, 4.
    const sizes = async (dropLast: boolean) => {
      const data = await openRunData(resolveConfig({ overrides: [...base(src.specs['npy folder']!), ['train.batchSize', '10'], ['data.dropLast', String(dropLast)]] }));
      try {
        const out: number[] = [];
        for await (const b of data.train.epoch(0)) {
          out.push(b.x.shape[0] as number);
          disposeBatch(b);
        }
        return { out, per: data.train.batchesPerEpoch };
      } finally {
        await data.close();
      }
    };
    assert.deepEqual(await sizes(false), { out: [10, 10, 4], per: 3 });
    assert.deepEqual(await sizes(true), { out: [10, 10], per: 2 });
  });

  it('a training run with mixup, cutmix, erasing and channelsLast trains, and differs from one without', async () => {
    const run = async (name: string, extra: [string, string][]) => {
      const config = resolveConfig({
        overrides: [...base(src.specs['image-folder']!), ['model.name', 'fashion-net'], ['train.epochs', '1'], ['train.threads', '1'], ['outDir', JSON.stringify(join(root, 'runs'))], ['name', JSON.stringify(name)], ...extra],
      });
      const s = await runTraining(config, { log: () => {}, progressStream: Object.assign({ write: () => true }, { isTTY: false }) as unknown as NodeJS.WritableStream });
      return { dir: s.dir, sha: createHash('sha256').update(readFileSync(join(s.dir, 'model.safetensors'))).digest('hex') };
    };
    const plain = await run('plain', []);
    const all = await run('all', [['augment.mixup', '0.4'], ['augment.cutmix', '1'], ['augment.erasing', '0.5'], ['model.channelsLast', 'true']]);
    assert.notEqual(all.sha, plain.sha, 'the options change the trained weights');
    const saved = JSON.parse(readFileSync(join(all.dir, 'model.json'), 'utf8')) as { preprocessing: { memoryFormat: string } };
    assert.equal(saved.preprocessing.memoryFormat, 'channelsLast', 'evaluation feeds the model the layout it trained on');
  });
});

describe('normalisation', () => {
  it('is measured through the loader: the same with worker threads, equal to a direct computation', async () => {
    const d = await imageFolder(src.specs['image-folder']!);
    const pipeline = compose({ decode: { channels: 'rgb' }, transforms: [{ type: 'resize', size: 8 }, { type: 'centerCrop', size: 8 }] });
    const inThread = await measureNormalization(d, { pipeline, channels: 3, workers: 0, seed: 0 });
    const workers = await measureNormalization(d, { pipeline, channels: 3, workers: 2, seed: 0 });
    assert.deepEqual(workers, inThread);
    assert.equal(inThread.samples, 24);
    // Directly: every image decoded and resized here, per-channel mean of x/255.
    const sum = [0, 0, 0];
    let n = 0;
    for (let i = 0; i < d.length; i++) {
      const r = await d.read(i);
      const img = await pipeline.run(r.input, { seed: 0, epoch: 0, index: i });
      img.data.forEach((v, k) => (sum[k % 3] = (sum[k % 3] as number) + v / 255));
      n += img.data.length / 3;
    }
    inThread.mean.forEach((m, c) => assert.ok(Math.abs(m - (sum[c] as number) / n) < 1e-9, `channel ${c}: ${m} vs ${(sum[c] as number) / n}`));
  });
});
