// The loader's native JPEG path (jpeg-plan.ts): which pipelines it takes and why not the others;
// JPEG samples cropped with the boxes and flipped as torchvision's RandomResizedCrop and
// RandomHorizontalFlip draw them from each sample's stream, pixels equal to PIL's (full DCT scale);
// the same batches as the sharp path up to the resize's numerics; every other file through sharp
// inside the same batches, so the corrupt corpus gives the same batches, verdicts, reasons and
// replacements with and without the kernel.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { resolveConfig } from '../../../src/config/load.js';
import { probeJpeg } from '../../../src/data/image/jpeg-native.js';
import { BadSampleError, DataLoader } from '../../../src/data/loader/index.js';
import { planJpegPath } from '../../../src/data/loader/jpeg-plan.js';
import { DataPipeline } from '../../../src/data/pipeline/pipeline.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { normalize, randomCropFlip, toFloat } from '../../../src/data/transforms/batch.js';
import { transformStream } from '../../../src/data/transforms/compose.js';
import { randomResizedCropBox } from '../../../src/data/transforms/geometric.js';
import { compose } from '../../../src/data/transforms/index.js';
import type { TransformSpec } from '../../../src/data/transforms/spec.js';
import type { SamplePipeline } from '../../../src/data/types.js';
import { pipelineSpec } from '../../../src/run/data.js';
import { writeCorruptCorpus } from '../fixtures/corpus.js';
import { psnr, reference, tempDir, writeJpeg, type RefCase } from '../image/jpeg-fixtures.js';
import { collect, memoryLogger, type PlainBatch } from './fixtures/collect.js';

const rrcFlip = (size: number, decode = {}): SamplePipeline =>
  compose({ decode: { channels: 'rgb', ...decode }, transforms: [{ type: 'randomResizedCrop', size, scale: [0.25, 1] }, { type: 'horizontalFlip' }] });

describe('the native JPEG plan', () => {
  it('is native for the pipelines the kernel runs, and says why not for the others', () => {
    const plan = (transforms: TransformSpec[], decode: object = {}, batch = [normalize([0.5], [0.5])]) => planJpegPath(compose({ decode, transforms }), batch, 2);
    const native = [
      [{ type: 'randomResizedCrop', size: 224 }, { type: 'horizontalFlip' }],
      [{ type: 'resize', size: 256 }, { type: 'centerCrop', size: 224 }],
      [{ type: 'resize', size: [32, 48] }],
      [{ type: 'centerCrop', size: 20 }, { type: 'horizontalFlip', p: 0.3 }],
      [{ type: 'randomCrop', size: 24 }],
    ] as TransformSpec[][];
    for (const t of native) assert.equal(plan(t).native, true, JSON.stringify(t));
    const notNative: [TransformSpec[], object, RegExp][] = [
      [[{ type: 'resize', size: 64 }], {}, /output size depends on each image \(transform 0, resize/],
      [[{ type: 'randomResizedCrop', size: 64 }, { type: 'colorJitter', brightness: 0.4 }], {}, /transform 1 \(colorJitter\) runs on decoded pixels/],
      [[{ type: 'horizontalFlip' }, { type: 'centerCrop', size: 8 }], {}, /transform 1 \(centerCrop\) comes after the flip/],
      [[{ type: 'randomResizedCrop', size: 64, interpolation: 'bicubic' }], {}, /resizes bicubic; the kernel resizes bilinear only/],
      [[{ type: 'resize', size: 80 }, { type: 'randomResizedCrop', size: 64 }], {}, /two resizes/],
      [[{ type: 'centerCrop', size: 8 }], { channels: 'keep' }, /'keep' gives grey or colour/],
      [[{ type: 'centerCrop', size: 8 }], { timeoutMs: 1000 }, /timeoutMs/],
      [[], {}, /no crop or resize/],
    ];
    for (const [t, decode, why] of notNative) {
      const p = plan(t, decode);
      assert.equal(p.native, false, JSON.stringify(t));
      assert.match(p.native ? '' : p.reason, why);
      assert.match(p.describe(), /^sharp, sample by sample \(not the native JPEG path: /);
    }
    assert.match(planJpegPath(undefined, [], 0).describe(), /no per-sample pipeline/);
    const custom: SamplePipeline = { run: async () => { throw new Error('unused'); }, workerSpec: () => ({ module: '', export: '', args: null }) };
    assert.match(planJpegPath(custom, [], 0).describe(), /not a compose\(\) pipeline/);
  });

  it('fuses a byte-wise first batch transform (toFloat, normalize) and follows the worker count', () => {
    const t: TransformSpec[] = [{ type: 'randomResizedCrop', size: 64 }, { type: 'horizontalFlip' }];
    const fused = (batch: Parameters<typeof planJpegPath>[1], workers = 0) => {
      const p = planJpegPath(compose({ transforms: t }), batch, workers);
      assert.ok(p.native);
      return { fused: p.fused, float: p.table !== undefined, threads: p.threads, text: p.describe() };
    };
    assert.deepEqual(fused([toFloat()]), { fused: 1, float: true, threads: 1, text: fused([toFloat()]).text });
    assert.equal(fused([normalize([0.4, 0.5, 0.6], [0.2, 0.2, 0.2])], 3).threads, 3);
    assert.equal(fused([randomCropFlip({ padding: 2 }), normalize([0.5], [0.5])]).fused, 0, 'a crop first: the kernel writes bytes');
    assert.equal(fused([]).float, false);
    // A normalisation for another channel count is not fused: it refuses the first batch, as it always did.
    const grey = planJpegPath(compose({ decode: { channels: 'grey' }, transforms: t }), [normalize([0.4, 0.5, 0.6], [0.2, 0.2, 0.2])], 0);
    assert.ok(grey.native && grey.fused === 0);
    assert.match(fused([normalize([0.5], [0.5])], 2).text, /^native JPEG kernel \(libjpeg-turbo, 2 threads\): decode → randomResizedCrop → horizontalFlip → 64×64×3 float32 \(first batch transform fused\)/);
  });
});

describe('JPEG folders through the native path', () => {
  let root: string;
  const files: { path: string; kind: string }[] = [];
  before(async () => {
    root = tempDir();
    const kinds = [['420', 1], ['444', 1], ['progressive', 1], ['grey', 1], ['cmyk', 1], ['420', 6], ['422', 1], ['420', 3]] as const;
    for (const [k, [kind, orientation]] of kinds.entries()) {
      const dir = join(root, `c${k % 2}`);
      mkdirSync(dir, { recursive: true });
      const path = await writeJpeg(dir, `${kind}-${orientation}-${k}.jpg`, kind, 40 + k, 150 + 17 * k, 120 + 9 * k, orientation);
      files.push({ path, kind });
    }
  });

  it('crops the boxes and flips the samples torchvision\'s RandomResizedCrop and flip draw, with PIL\'s pixels (full DCT scale)', async () => {
    const ds = await imageFolder(root);
    const loader = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 11, pipeline: rrcFlip(40, { shrinkOnLoad: false }), batchTransforms: [], workers: 2 });
    assert.ok(loader.jpegPlan.native);
    const cases: RefCase[] = [];
    const got: Uint8Array[] = [];
    for (const epoch of [0, 1]) {
      for (const b of await collect(loader, epoch)) {
        b.ids.forEach((id, k) => {
          const index = b.indices[k] as number;
          const info = probeJpeg(new Uint8Array(readFileSync(id)), id);
          assert.ok(info);
          // torchvision's RandomResizedCrop.get_params and RandomHorizontalFlip, drawn from the sample's own streams.
          const box = randomResizedCropBox(info, transformStream({ seed: 11, epoch, index }, 0), [0.25, 1], [3 / 4, 4 / 3]);
          const flip = transformStream({ seed: 11, epoch, index }, 1).uniform() < 0.5;
          cases.push({ file: id, ref: 'pil', crop: [box.left, box.top, box.width, box.height], resize: [40, 40], out: [40, 40], flip });
          got.push(Uint8Array.from(b.x.slice(k * 3 * 40 * 40, (k + 1) * 3 * 40 * 40)));
        });
      }
    }
    assert.equal(cases.length, 2 * files.length);
    assert.equal(loader.decoded.kernel, 2 * files.length, 'every sample went through the kernel');
    const want = reference(cases);
    cases.forEach((c, k) => assert.deepEqual(got[k], want[k], `${c.file} crop ${c.crop}${c.flip ? ' flipped' : ''}`));
  });

  it('gives the sharp path\'s batches up to the resize\'s numerics', async () => {
    const ds = await imageFolder(root);
    const make = (nativeJpeg: boolean) => new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, pipeline: rrcFlip(48), batchTransforms: [], nativeJpeg });
    const [fast, slow] = [await collect(make(true), 0), await collect(make(false), 0)];
    assert.deepEqual(fast.map((b) => b.ids), slow.map((b) => b.ids));
    for (const [i, b] of fast.entries()) {
      b.ids.forEach((id, k) => {
        // CMYK: sharp converts through an ICC profile, the kernel (like PIL) with libjpeg's formula.
        if (id.includes('cmyk')) return;
        const per = 3 * 48 * 48;
        const p = psnr(Uint8Array.from(b.x.slice(k * per, (k + 1) * per)), Uint8Array.from((slow[i] as PlainBatch).x.slice(k * per, (k + 1) * per)));
        // A box or flip that differed would be far below this (the images have hard edges).
        assert.ok(p > 26, `${id}: PSNR ${p.toFixed(1)} dB against the sharp path`);
      });
    }
  });
});

describe('the corrupt corpus through the native path', () => {
  it('gives the same batches, verdicts, reasons and replacements as the sharp path; non-JPEGs are the same pixels', async () => {
    const corpus = await writeCorruptCorpus(tempDir());
    // A WebP next to the corpus's PNG, GIF and broken files.
    writeFileSync(join(corpus.root, 'dog', 'webp.webp'), await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 200, b: 90 } } }).webp().toBuffer());
    const ds = await imageFolder(corpus.root);
    const pipeline = compose({ decode: { channels: 'rgb' }, transforms: [{ type: 'resize', size: 16 }, { type: 'centerCrop', size: 16 }, { type: 'horizontalFlip' }] });
    const run = async (nativeJpeg: boolean) => {
      const logger = memoryLogger();
      const loader = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 2, pipeline, workers: 1, nativeJpeg, logger, batchTransforms: [] });
      const batches = [...(await collect(loader, 0)), ...(await collect(loader, 1))];
      await loader.close();
      return { batches, bad: loader.badSamples, lines: logger.lines, decoded: loader.decoded };
    };
    const fast = await run(true);
    const slow = await run(false);
    assert.ok(fast.decoded.kernel >= 2 * 12, `JPEGs went through the kernel (${JSON.stringify(fast.decoded)})`);
    assert.equal(slow.decoded.kernel, 0);
    assert.deepEqual(fast.batches.map((b) => b.ids), slow.batches.map((b) => b.ids), 'the same samples in the same batches (replacements included)');
    assert.deepEqual(fast.bad, slow.bad, 'the same bad files with the same reasons');
    assert.deepEqual(fast.lines, slow.lines);
    const bad = corpus.files.filter((f) => f.expect === 'bad').map((f) => join(corpus.root, f.path)).sort();
    assert.deepEqual(fast.bad.map((b) => b.id).sort(), bad);
    const per = 3 * 16 * 16;
    for (const [i, b] of fast.batches.entries())
      b.ids.forEach((id, k) => {
        const mine = b.x.slice(k * per, (k + 1) * per);
        const theirs = (slow.batches[i] as PlainBatch).x.slice(k * per, (k + 1) * per);
        if (!/\.jpg$/.test(id) || id.endsWith('png-named.jpg')) assert.deepEqual(mine, theirs, `${id}: not a JPEG, so sharp decoded it on both paths`);
      });
  });

  it('a training run\'s own loader (the settings of test/run/corrupt-corpus) takes the native path and skips the same bad files', async () => {
    const corpus = await writeCorruptCorpus(tempDir());
    const config = resolveConfig({
      overrides: [
        ['data.source', JSON.stringify(corpus.root)],
        ['data.imageSize', '[16,16]'],
        ['data.channels', '3'],
        ['data.valSplit', '0'],
        ['data.testSplit', '0'],
        ['train.batchSize', '4'],
      ],
    });
    const logger = memoryLogger();
    const p = await DataPipeline.open(pipelineSpec(config), { logger });
    try {
      await p.setup();
      const { train } = await p.loaders();
      assert.ok(train.jpegPlan.native, train.jpegPlan.describe());
      const batches = await collect(train, 0);
      await train.close();
      const goodJpegs = corpus.files.filter((f) => f.expect === 'good' && /\.jpe?g$/.test(f.path) && !f.path.endsWith('png-named.jpg'));
      assert.ok(train.decoded.kernel >= goodJpegs.length, `the good JPEGs went through the kernel (${JSON.stringify(train.decoded)}, ${goodJpegs.length} good JPEGs)`);
      const bad = corpus.files.filter((f) => f.expect === 'bad').map((f) => join(corpus.root, f.path)).sort();
      assert.deepEqual(train.badSamples.map((b) => b.id).sort(), bad, 'every bad file skipped, no good one');
      const used = new Set(batches.flatMap((b) => b.ids));
      for (const f of corpus.files.filter((x) => x.expect === 'good')) assert.ok(used.has(join(corpus.root, f.path)), `${f.path} is used`);
    } finally {
      p.close();
    }
  });

  it("policy 'fail' stops at the same file with the same message", async () => {
    const corpus = await writeCorruptCorpus(tempDir());
    const ds = await imageFolder(corpus.root);
    const pipeline = compose({ transforms: [{ type: 'resize', size: [12, 12] }] });
    const first = async (nativeJpeg: boolean) => {
      const loader = new DataLoader(ds, { batchSize: 4, pipeline, nativeJpeg, badSamples: { policy: 'fail' } });
      let message = '';
      await assert.rejects(collect(loader, 0), (e: unknown) => {
        message = (e as Error).message;
        return e instanceof BadSampleError;
      });
      return message;
    };
    const [a, b] = [await first(true), await first(false)];
    assert.equal(a, b);
    assert.match(a, /^bad sample .* \(index \d+\): /);
  });
});
