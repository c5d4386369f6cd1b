// The data API as plain JavaScript (and habits from PyTorch) call it: every misuse TypeScript would
// catch gets a message that says what to write instead, never a TypeError from deep inside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DataLoader } from '../../src/data/loader/index.js';
import { RandomSampler, WeightedRandomSampler } from '../../src/data/sampling/index.js';
import { randomSplit } from '../../src/data/splits.js';
import {
  affine, batch, centerCrop, colorJitter, compose, cutout, gaussianBlur, gaussianNoise, grayscale, horizontalFlip, randAugment,
  randomCrop, randomErasing, randomResizedCrop, resize, rotation, trivialAugmentWide, verticalFlip,
} from '../../src/data/transforms/index.js';
import { buildTransform } from '../../src/data/transforms/compose.js';
import { MemoryDataset } from './loader/fixtures/datasets.js';

// Plain JavaScript: any argument goes.
type Loose = (...args: unknown[]) => unknown;
const loose = (f: unknown) => f as Loose;

describe('sample transforms take one options object', () => {
  // Each factory, the option torchvision takes first, and a value for it.
  const factories: [string, unknown, string, unknown][] = [
    ['resize', resize, 'size', 32], ['centerCrop', centerCrop, 'size', [224, 224]], ['randomCrop', randomCrop, 'size', 32],
    ['randomResizedCrop', randomResizedCrop, 'size', 224], ['horizontalFlip', horizontalFlip, 'p', 0.3], ['verticalFlip', verticalFlip, 'p', 0.3],
    ['rotation', rotation, 'degrees', 15], ['affine', affine, 'degrees', 10], ['colorJitter', colorJitter, 'brightness', 0.4],
    ['grayscale', grayscale, 'channels', 3], ['gaussianBlur', gaussianBlur, 'kernelSize', 5], ['gaussianNoise', gaussianNoise, 'sigma', 0.1],
    ['randomErasing', randomErasing, 'p', 0.5], ['cutout', cutout, 'size', 8], ['randAugment', randAugment, 'numOps', 2],
    ['trivialAugmentWide', trivialAugmentWide, 'numMagnitudeBins', 31],
  ];

  for (const [name, factory, first, value] of factories) {
    it(`${name}: a bare value, a wrongly cased option`, () => {
      const written = `${name}({ ${first}: ${JSON.stringify(value).replace(/,/g, ', ')} })`;
      assert.throws(() => loose(factory)(value), (e: Error) => e instanceof TypeError && e.message.includes(`${name} takes an options object: write ${written}`), `${name}(${JSON.stringify(value)})`);
      const cased = first[0]!.toUpperCase() + first.slice(1);
      assert.throws(() => loose(factory)({ [cased]: value }), new RegExp(`${name}: unknown option '${cased}' — did you mean '${first}'\\?`));
      // The options object works as written in the message.
      assert.ok(loose(factory)({ [first]: value }));
    });
  }

  it('says which option is required, and snake_case gets its camelCase name', () => {
    assert.throws(() => resize({} as never), /resize: option 'size' is required, e.g. resize\(\{ size: 32 \}\)/);
    assert.throws(() => loose(resize)(), /resize needs options: write resize\(\{ size: 32 \}\)/);
    assert.throws(() => resize({ size: 32, max_size: 64 } as never), /unknown option 'max_size' — did you mean 'maxSize'\?/);
    assert.throws(() => buildTransform({ type: 'Resize', size: 32 } as never), /unknown transform type 'Resize' \(a string\) \(types: resize, centerCrop, /);
    assert.equal(horizontalFlip().spec.type, 'horizontalFlip', 'a factory whose options are all optional needs none');
  });

  it("compose takes { transforms: [...] }, not torchvision's list", () => {
    assert.throws(() => loose(compose)([resize({ size: 32 })]), /compose takes \{ transforms: \[\.\.\.\] \}, not a list \(torchvision's Compose\(\[\.\.\.\]\)\): write compose\(\{ transforms: \[1 transform\] \}\)/);
    assert.throws(() => loose(compose)({ transform: [] }), /compose: unknown option 'transform' — did you mean 'transforms'\?/);
    assert.throws(() => loose(compose)({ transforms: [resize] }), /compose: transforms\[0\] is the function resize; call it with its options, e\.g\. resize\(\{ \.\.\. \}\)/);
    assert.throws(() => loose(compose)({ transforms: [null] }), /compose: transforms\[0\] is null, not a transform/);
    assert.throws(() => loose(compose)({ transforms: [], decode: { channel: 'rgb' } }), /compose: decode: unknown option 'channel' — did you mean 'channels'\?/);
    assert.equal(compose({ transforms: [{ type: 'resize', size: 8 }] }).transforms.length, 1, 'specs (what workers receive) pass');
  });

  it('a pipeline run needs the sample context its random draws are keyed by', async () => {
    const p = compose({ transforms: [horizontalFlip()] });
    const input = { kind: 'pixels' as const, image: { data: new Uint8Array(12), width: 2, height: 2, channels: 3 as const } };
    await assert.rejects(loose(p.run.bind(p))(input, { epoch: 0, index: 3 }) as Promise<unknown>, /pipeline\.run\(input, ctx\): ctx is the sample's \{ seed, epoch, index \}, .*got \{"epoch":0,"index":3\}/);
    await assert.rejects(loose(p.summary.bind(p))(input) as Promise<unknown>, /pipeline\.summary\(input, ctx\): .*got undefined/);
  });

  it('batch transforms: normalize takes two lists; the others an options object', () => {
    assert.throws(() => loose(batch.normalize)({ mean: [0.5], std: [0.25] }), /normalize takes two lists, not an options object: write normalize\(\[0\.5\], \[0\.25\]\)/);
    assert.throws(() => loose(batch.normalize)(0.5, 0.25), /normalize: mean must be a non-empty list of numbers, one per channel: write normalize\(\[0\.5\], \[0\.25\]\)/);
    assert.throws(() => loose(batch.randomCropFlip)(4), /randomCropFlip takes an options object: write randomCropFlip\(\{ padding: 4 \}\)/);
    assert.throws(() => loose(batch.randomErasing)({ probability: 0.5 }), /randomErasing: unknown option 'probability'/);
    assert.throws(() => loose(batch.cutmix)({ num_classes: 10 }), /cutmix: unknown option 'num_classes' — did you mean 'numClasses'\?/);
  });
});

describe('DataLoader: what PyTorch habits get told', () => {
  const ds = new MemoryDataset(10);

  it('options are an object with camelCase names', () => {
    assert.throws(() => new DataLoader(ds, 32 as never), /DataLoader takes \(dataset, options\): write new DataLoader\(dataset, \{ batchSize: 32, shuffle: true \}\); got 32 as options/);
    assert.throws(() => new DataLoader(ds, { batch_size: 32 } as never), /DataLoader: unknown option 'batch_size' — did you mean 'batchSize'\?/);
    assert.throws(() => new DataLoader(ds, { batchSize: 8, num_workers: 2 } as never), /DataLoader: unknown option 'num_workers' — ours is 'workers'/);
    assert.throws(() => new DataLoader(ds, {} as never), /DataLoader: batchSize is required: write new DataLoader\(dataset, \{ batchSize: 32, shuffle: true \}\)/);
    assert.throws(() => new DataLoader(ds, { batchSize: 8, shuffle: 'yes' } as never), /DataLoader: shuffle must be true or false, got 'yes' \(a string\)/);
    assert.throws(() => new DataLoader([1, 2, 3] as never, { batchSize: 2 }), /DataLoader: the first argument must be a data set .*got an array \[1,2,3\]/);
    assert.throws(() => new DataLoader(Promise.resolve(ds) as never, { batchSize: 2 }), /the data set is a Promise — await it first/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, rank: 2, worldSize: 2 }), /DataLoader: rank 2 is not in 0\.\.1 \(worldSize 2\)/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, shuffleBuffer: 0 }), /DataLoader: shuffleBuffer must be a positive integer, got 0/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, sampler: [3, 1, 2] as never }), /DataLoader: sampler must be a Sampler such as new RandomSampler\(n, \{ seed: 0 \}\)/);
  });

  it('a seed is a non-negative integer, and the message says how to write one', () => {
    assert.throws(() => new DataLoader(ds, { batchSize: 2, seed: '7' as never }), /DataLoader: seed must be a non-negative integer below 2\^53 — write the number, 7, not a string; got '7' \(a string\)/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, seed: -1 }), /DataLoader: seed must be a non-negative integer below 2\^53 \(e\.g\. 42\); got -1/);
    assert.throws(() => new DataLoader(ds, { batchSize: 2, seed: null as never }), /DataLoader: seed must be .*; got null/);
    assert.throws(() => new RandomSampler(10, { seed: 1.5 }), /RandomSampler: seed must be a non-negative integer/);
    assert.throws(() => new WeightedRandomSampler([1, 2], 2, { seed: NaN }), /WeightedRandomSampler: seed must be a non-negative integer/);
    assert.throws(() => randomSplit(10, { a: 0.5, b: 0.5 }, { seed: '3' as never }), /split: seed must be a non-negative integer below 2\^53 — write the number, 3/);
  });
});
