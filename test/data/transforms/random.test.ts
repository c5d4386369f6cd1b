// Random transforms' parameter distributions (against torchvision's where it has them). The
// generator itself is tested in test/data/random.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { horizontalFlip, colorJitter } from '../../../src/data/transforms/index.js';
import { transformStream } from '../../../src/data/transforms/compose.js';
import { affineParams, randomResizedCropBox } from '../../../src/data/transforms/geometric.js';
import { erasingBox } from '../../../src/data/transforms/photometric.js';
import { randAugmentSpace, trivialAugmentSpace } from '../../../src/data/transforms/autoaugment.js';
import { pattern } from '../fixtures/images.js';

test('RandomResizedCrop boxes: inside the image, area and ratio in range, same distribution as torchvision', () => {
  const size = { width: 500, height: 375 };
  const n = 4000;
  let areaSum = 0, ratioLogSum = 0;
  for (let i = 0; i < n; i++) {
    const b = randomResizedCropBox(size, transformStream({ seed: 5, epoch: 0, index: i }, 0), [0.08, 1], [3 / 4, 4 / 3]);
    assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= 500 && b.top + b.height <= 375, JSON.stringify(b));
    const area = (b.width * b.height) / (500 * 375);
    const ratio = b.width / b.height;
    // Rounding w and h to integers moves area and ratio slightly past the sampled ranges.
    assert.ok(area >= 0.075 && area <= 1, `area ${area}`);
    assert.ok(ratio >= 0.74 && ratio <= 1.35, `ratio ${ratio}`);
    areaSum += area;
    ratioLogSum += Math.log(ratio);
  }
  const py = String.raw`
import torch, math
from torchvision.transforms import RandomResizedCrop
from PIL import Image
torch.manual_seed(0)
img = Image.new('RGB', (500, 375))
a = r = 0.0
for _ in range(${n}):
    i, j, h, w = RandomResizedCrop.get_params(img, [0.08, 1.0], [3/4, 4/3])
    a += w * h / (500 * 375); r += math.log(w / h)
print(a / ${n}, r / ${n})`;
  const [tvArea, tvLogRatio] = execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number];
  // Standard error of the mean area is ~0.004 at n = 4000.
  assert.ok(Math.abs(areaSum / n - tvArea) < 0.02, `mean area ${areaSum / n} vs torchvision ${tvArea}`);
  assert.ok(Math.abs(ratioLogSum / n - tvLogRatio) < 0.02, `mean log ratio ${ratioLogSum / n} vs torchvision ${tvLogRatio}`);
});

test('RandomResizedCrop falls back to a central crop after 10 failed tries', () => {
  // A 1000×10 strip: no box of ≥ 8 % area with ratio ≤ 4/3 fits, so the fallback clamps the ratio.
  const b = randomResizedCropBox({ width: 1000, height: 10 }, transformStream({ seed: 0, epoch: 0, index: 0 }, 0), [0.08, 1], [3 / 4, 4 / 3]);
  assert.deepEqual(b, { left: Math.floor((1000 - 13) / 2), top: 0, width: 13, height: 10 });
});

test('RandomErasing boxes respect scale and ratio; flips fire with probability p', () => {
  for (let i = 0; i < 500; i++) {
    const b = erasingBox({ width: 224, height: 224 }, transformStream({ seed: 1, epoch: 0, index: i }, 0), [0.02, 0.33], [0.3, 3.3]);
    assert.ok(b, 'a box is found on a square image');
    const area = (b.width * b.height) / (224 * 224);
    assert.ok(area > 0.015 && area < 0.34, `area ${area}`);
    assert.ok(b.top + b.height <= 224 && b.left + b.width <= 224);
  }
  const img = pattern(4, 3);
  const flip = horizontalFlip({ p: 0.3 });
  let flipped = 0;
  for (let i = 0; i < 4000; i++) if ((flip.apply(img, transformStream({ seed: 2, epoch: 1, index: i }, 0)) as typeof img) !== img) flipped++;
  assert.ok(Math.abs(flipped / 4000 - 0.3) < 0.03, `flip rate ${flipped / 4000}`);
});

test('RandomAffine parameters stay in their ranges; translations are whole pixels', () => {
  for (let i = 0; i < 300; i++) {
    const p = affineParams({ type: 'affine', degrees: 15, translate: [0.1, 0.2], scale: [0.9, 1.1], shear: [-5, 5, -3, 3] }, { width: 100, height: 50 }, transformStream({ seed: 0, epoch: 0, index: i }, 0));
    assert.ok(Math.abs(p.angle) <= 15 && Math.abs(p.translate[0]) <= 10 && Math.abs(p.translate[1]) <= 10);
    assert.ok(Number.isInteger(p.translate[0]) && p.scale >= 0.9 && p.scale <= 1.1 && Math.abs(p.shear[0]) <= 5 && Math.abs(p.shear[1]) <= 3);
  }
});

test('colorJitter is deterministic per sample and varies across samples', async () => {
  const img = pattern(20, 10);
  const cj = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 });
  const a = await cj.apply(img, transformStream({ seed: 9, epoch: 0, index: 4 }, 2));
  const b = await cj.apply(img, transformStream({ seed: 9, epoch: 0, index: 4 }, 2));
  const c = await cj.apply(img, transformStream({ seed: 9, epoch: 0, index: 5 }, 2));
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.throws(() => colorJitter({ hue: 0.7 }), /hue must lie in \[-0.5, 0.5\]/);
});

test('RandAugment and TrivialAugmentWide op lists and magnitude bins equal torchvision', () => {
  const py = String.raw`
import json
from torchvision.transforms import RandAugment, TrivialAugmentWide
ra = RandAugment()._augmentation_space(31, (120, 200))
ta = TrivialAugmentWide()._augmentation_space(31)
conv = lambda s: [[k, [float(x) for x in v[0].reshape(-1)] if v[0].ndim > 0 else [], bool(v[1])] for k, v in s.items()]
print(json.dumps([conv(ra), conv(ta)]))`;
  const [ra, ta] = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' })) as [unknown[], unknown[]];
  // Same ops, order, signs and bins; values equal up to float32 rounding (torch's vectorised
  // linspace rounds a few bins differently in the last place).
  const same = (ours: [string, number[], boolean][], ref: [string, number[], boolean][]): void => {
    assert.deepEqual(ours.map(([k, v, sg]) => [k, v.length, sg]), ref.map(([k, v, sg]) => [k, v.length, sg]));
    ours.forEach(([k, v], i) => v.forEach((x, j) => assert.ok(Math.abs(x - ref[i]![1][j]!) <= 1e-6 * Math.max(1, Math.abs(x)), `${k}[${j}]: ${x} vs ${ref[i]![1][j]}`)));
  };
  same(randAugmentSpace(31, 120, 200), ra as [string, number[], boolean][]);
  same(trivialAugmentSpace(31), ta as [string, number[], boolean][]);
});
