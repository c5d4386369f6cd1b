// compose(): folding into decode changes nothing, results depend only on (seed, epoch, index),
// workers rebuild equal pipelines from workerSpec(), summary() explains each step.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DataError, type RawImage, type SampleInput, type SamplePipeline } from '../../../src/data/types.js';
import { compose, type TransformSpec } from '../../../src/data/transforms/index.js';
import { transformStream } from '../../../src/data/transforms/compose.js';
import { encode, pattern, smooth } from '../fixtures/images.js';

const train: TransformSpec[] = [
  { type: 'randomResizedCrop', size: 64 },
  { type: 'horizontalFlip' },
  { type: 'colorJitter', brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.05 },
  { type: 'randomErasing', p: 0.5 },
];

async function pngInput(): Promise<SampleInput> {
  return { kind: 'encoded', bytes: await encode(smooth(200, 150), 'png') };
}

test('summary() walks every step and reports what run() folds into decoding', async () => {
  const p = compose({ transforms: train });
  const input = await pngInput();
  for (let index = 0; index < 4; index++) {
    const ctx = { seed: 11, epoch: 0, index };
    const out = await p.run(input, ctx);
    const s = await p.summary(input, ctx);
    assert.ok(s.ok);
    assert.equal(s.folded, 1, 'randomResizedCrop folds into decode');
    assert.deepEqual(s.steps.map((x) => [x.width, x.height, x.channels]), [[200, 150, 3], [64, 64, 3], [64, 64, 3], [64, 64, 3], [64, 64, 3]]);
    assert.deepEqual([out.width, out.height, out.channels], [64, 64, 3]);
    assert.match(s.text, /randomResizedCrop\(size=64\) +64x64x3/);
  }
});

test('folded and unfolded runs agree exactly (pixels input takes the unfolded path for crops)', async () => {
  const img = smooth(120, 90);
  const specs: TransformSpec[] = [{ type: 'resize', size: 80 }, { type: 'centerCrop', size: 64 }, { type: 'randomCrop', size: 48 }, { type: 'horizontalFlip' }];
  const viaPixels = compose({ transforms: specs });
  const bytes = await encode(img, 'png');
  for (let index = 0; index < 5; index++) {
    const ctx = { seed: 3, epoch: 1, index };
    const a = await viaPixels.run({ kind: 'pixels', image: img }, ctx);
    const b = await viaPixels.run({ kind: 'encoded', bytes }, ctx);
    assert.deepEqual([a.width, a.height], [48, 48]);
    assert.deepEqual(a.data, b.data, `index ${index}: lossless PNG and the same pixels give the same result`);
    // Apply every transform by hand, unfolded.
    let manual = img;
    for (let i = 0; i < viaPixels.transforms.length; i++) {
      manual = await viaPixels.transforms[i]!.apply(manual, transformStream(ctx, i));
    }
    assert.deepEqual(manual.data, a.data, `index ${index}: folded = step by step`);
  }
});

test('results depend only on (seed, epoch, index): not on order or concurrency', async () => {
  const p = compose({ transforms: train });
  const input = await pngInput();
  const idx = [0, 1, 2, 3, 4, 5, 6, 7];
  const inOrder: RawImage[] = [];
  for (const index of idx) inOrder.push(await p.run(input, { seed: 5, epoch: 2, index }));
  const concurrent = await Promise.all([...idx].reverse().map((index) => p.run(input, { seed: 5, epoch: 2, index })));
  concurrent.reverse();
  idx.forEach((i) => assert.deepEqual(concurrent[i]!.data, inOrder[i]!.data));
  const nextEpoch = await p.run(input, { seed: 5, epoch: 3, index: 0 });
  assert.notDeepEqual(nextEpoch.data, inOrder[0]!.data);
  assert.notDeepEqual(inOrder[1]!.data, inOrder[0]!.data);
});

test('workerSpec() rebuilds an equal pipeline (structured clone, dynamic import)', async () => {
  const p: SamplePipeline = compose({ decode: { channels: 'rgb', maxPixels: 1e7 }, transforms: [...train, { type: 'randAugment' }, { type: 'trivialAugmentWide' }, { type: 'gaussianBlur', kernelSize: 3 }, { type: 'gaussianNoise', sigma: 0.05 }] });
  const spec = structuredClone(p.workerSpec());
  const mod = (await import(spec.module)) as Record<string, (args: unknown) => SamplePipeline>;
  const q = mod[spec.export]!(spec.args);
  const input = await pngInput();
  for (let index = 0; index < 4; index++) {
    const ctx = { seed: 1, epoch: 0, index };
    assert.deepEqual((await q.run(input, ctx)).data, (await p.run(input, ctx)).data);
  }
});

test('every transform type runs in a pipeline and keeps sizes consistent', async () => {
  const all: TransformSpec[] = [
    { type: 'resize', size: 72, maxSize: 100 },
    { type: 'randomCrop', size: 64, padding: 4, paddingMode: 'reflect' },
    { type: 'verticalFlip', p: 1 },
    { type: 'rotation', degrees: 20, fill: 128 },
    { type: 'affine', degrees: 10, translate: [0.1, 0.1], scale: [0.9, 1.1], shear: 5, interpolation: 'bilinear' },
    { type: 'grayscale', p: 0.5 },
    { type: 'cutout', size: 16, holes: 2 },
    { type: 'grayscale', channels: 3 },
    { type: 'centerCrop', size: 56 },
  ];
  const out = await compose({ transforms: all }).run({ kind: 'encoded', bytes: await encode(pattern(120, 90), 'jpeg') }, { seed: 0, epoch: 0, index: 0 });
  assert.deepEqual([out.width, out.height, out.channels], [56, 56, 3]);
});

test('summary() names the failing step and why; run() rejects with a DataError naming the sample', async () => {
  const p = compose({ transforms: [{ type: 'resize', size: 40 }, { type: 'randomCrop', size: 64 }, { type: 'horizontalFlip' }] });
  const input = await pngInput();
  const s = await p.summary(input, { seed: 0, epoch: 0, index: 3 }, 'cats/001.png');
  assert.equal(s.ok, false);
  assert.equal(s.steps.length, 3, 'decode, resize, then the failing crop; the flip does not run');
  assert.deepEqual([s.steps[1]!.width, s.steps[1]!.height], [53, 40]);
  assert.match(s.steps[2]!.step, /^randomCrop\(size=64\)/);
  assert.match(s.steps[2]!.error!, /crop 64x64 \(h×w\) is larger than the 40x53 \(padded\) image; set padIfNeeded/);
  assert.match(s.text, /step "randomCrop\(size=64\)" failed/);
  await assert.rejects(p.run(input, { seed: 0, epoch: 0, index: 3 }, 'cats/001.png'), (e: unknown) => e instanceof DataError && e.id === 'cats/001.png' && /transform 1 randomCrop/.test(e.message));
  const bad = await compose({ transforms: train }).summary({ kind: 'encoded', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]) }, { seed: 0, epoch: 0, index: 0 }, 'broken.jpg');
  assert.equal(bad.ok, false);
  assert.match(bad.steps[0]!.error!, /broken\.jpg: cannot decode jpeg/);
  await assert.rejects(compose({ transforms: train }).run({ kind: 'encoded', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]) }, { seed: 0, epoch: 0, index: 9 }), /sample 9: cannot decode jpeg/);
});
