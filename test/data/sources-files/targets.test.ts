// Sources whose samples carry more than one class index: segmentation folders (images/ + masks/),
// manifests with a mask column, multi-label manifests (a labels column, or 0/1 class columns) —
// opened by the one opener, what each record carries, where class names come from, and the errors
// that name the file, line and column at fault.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { openSource, trainingPart } from '../../../src/data/pipeline/open.js';
import { DataPipeline } from '../../../src/data/pipeline/pipeline.js';
import { JointPipeline } from '../../../src/data/transforms/joint.js';
import type { IndexedDataset } from '../../../src/data/types.js';

let root: string;
const png = (w: number, h: number, channels: 1 | 3, value: (p: number) => number) => {
  const data = Buffer.from(Array.from({ length: w * h * channels }, (_, i) => value(Math.floor(i / channels))));
  let s = sharp(data, { raw: { width: w, height: h, channels } });
  if (channels === 1) s = s.toColourspace('b-w');
  return s.png().toBuffer();
};

before(() => {
  root = mkdtempSync(join(tmpdir(), 'tessera-targets-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A segmentation folder of `n` 8×6 images; mask i holds ids 0..i (and some 255). */
async function segFolder(name: string, n: number): Promise<string> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'images', 'sub'), { recursive: true });
  mkdirSync(join(dir, 'masks', 'sub'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const rel = i % 2 ? `sub/${i}` : `${i}`;
    writeFileSync(join(dir, 'images', `${rel}.png`), await png(8, 6, 3, (p) => (p * 5) % 255));
    writeFileSync(join(dir, 'masks', `${rel}.png`), await png(8, 6, 1, (p) => (p === 0 ? 255 : p % (i + 1))));
  }
  return dir;
}

describe('segmentation folders', () => {
  it('pairs images and masks by name (sub-folders too); classes from the masks, classes.txt or data.classes', async () => {
    const dir = await segFolder('seg', 3);
    const o = await openSource({ source: dir });
    assert.equal(o.format, 'segmentation');
    assert.equal(o.targets, 'mask');
    assert.deepEqual(o.classes, ['class 0', 'class 1', 'class 2']);
    assert.match(o.notes.join('\n'), /3 classes from the largest id in the 3 masks/);
    const d = trainingPart(o) as IndexedDataset;
    const r = await d.read(2); // torchvision's order: files of a folder before its sub-folders'
    assert.match(r.id, /images\/sub\/1\.png$/);
    assert.equal(r.label, -1);
    assert.equal(r.target?.kind, 'mask');
    writeFileSync(join(dir, 'classes.txt'), 'sky\nroad\ncar\nperson\n');
    assert.deepEqual((await openSource({ source: dir })).classes, ['sky', 'road', 'car', 'person']);
    assert.deepEqual((await openSource({ source: dir, classes: ['a', 'b', 'c'] })).classes, ['a', 'b', 'c']);
  });

  it('refuses images without a mask and masks without an image, naming one', async () => {
    const dir = await segFolder('unpaired', 2);
    writeFileSync(join(dir, 'images', 'extra.png'), await png(8, 6, 3, () => 9));
    await assert.rejects(openSource({ source: dir }), /1 of 3 images have no mask \(e\.g\. images\/extra\.png needs masks\/extra\.png\)/);
    rmSync(join(dir, 'images', 'extra.png'));
    writeFileSync(join(dir, 'masks', 'orphan.png'), await png(8, 6, 1, () => 0));
    await assert.rejects(openSource({ source: dir }), /1 masks have no image \(e\.g\. masks\/orphan\.png\)/);
  });

  it('a mask of another size than its image is refused when the sample is read, naming the image', async () => {
    const pipeline = new JointPipeline({ transforms: [{ type: 'resize', size: 4 }] });
    await assert.rejects(
      pipeline.runWithMask({ kind: 'encoded', bytes: await png(8, 6, 3, () => 1) }, { kind: 'encoded', bytes: await png(7, 6, 1, () => 1) }, { seed: 0, epoch: 0, index: 0 }, 'img.png'),
      /img\.png: its mask is 7x6 but the image is 8x6/,
    );
  });

  it('a pipeline refuses a source whose targets are not the task\'s, and MixUp for masks', async () => {
    const dir = await segFolder('seg2', 2);
    const spec = (targets: 'class' | 'labels' | 'mask', mixup = 0) => ({
      source: { source: dir }, targets, split: { val: 0, test: 0, stratify: false, seed: 0 }, image: {},
      augment: { cropPadding: 0, hflip: false, vflip: false, erasing: 0, mixup, cutmix: 0 },
      loader: { batchSize: 2, dropLast: false, workers: 0, badFiles: 'fail' as const, seed: 0, sampler: 'random' as const }, memoryFormat: 'contiguous' as const,
    });
    await assert.rejects(DataPipeline.open(spec('class')), /holds images with masks \(segmentation: task segment\), but one class per image are needed/);
    await assert.rejects(DataPipeline.open(spec('labels')), /but several labels per image is needed here: give a manifest with a labels column/);
    await assert.rejects(DataPipeline.open(spec('mask', 0.2)), /augment\.mixup and augment\.cutmix mix class labels; they do not apply to images with masks/);
    (await DataPipeline.open(spec('mask'))).close();
  });
});

describe('manifests beyond one label', () => {
  let dir: string;
  before(async () => {
    dir = join(root, 'm');
    mkdirSync(dir, { recursive: true });
    for (const i of [0, 1, 2]) {
      writeFileSync(join(dir, `${i}.png`), await png(4, 4, 3, () => 50 * i));
      writeFileSync(join(dir, `${i}-mask.png`), await png(4, 4, 1, (p) => (p + i) % 3));
    }
  });

  it('a mask column: segmentation samples, classes from the masks, split parts', async () => {
    const file = join(dir, 'seg.csv');
    writeFileSync(file, 'path,mask,split\n0.png,0-mask.png,train\n1.png,1-mask.png,train\n2.png,2-mask.png,test\n');
    const o = await openSource({ source: file });
    assert.equal(o.targets, 'mask');
    assert.deepEqual(o.classes, ['class 0', 'class 1', 'class 2']);
    assert.deepEqual(o.parts.map((p) => p.split), ['test', 'train']);
    const r = await (o.parts[1]?.dataset as IndexedDataset).read(1);
    assert.equal(r.target?.kind, 'mask');
    writeFileSync(file, 'path,mask\n0.png,missing.png\n');
    const d = trainingPart(await openSource({ source: file, classes: ['a', 'b'] })) as IndexedDataset;
    await assert.rejects(d.read(0), /missing\.png: cannot read the mask of .*0\.png, listed at .*seg\.csv:2/);
  });

  it('a labels column (a|b; JSON lists in JSONL): multi-hot targets, classes sorted or given', async () => {
    const csv = join(dir, 'labels.csv');
    writeFileSync(csv, 'path,labels\n0.png,cat|outdoor\n1.png,\n2.png,dog\n');
    const o = await openSource({ source: csv });
    assert.equal(o.targets, 'labels');
    assert.deepEqual(o.classes, ['cat', 'dog', 'outdoor']);
    const d = trainingPart(o) as IndexedDataset;
    const rows = await Promise.all([0, 1, 2].map(async (i) => { const t = (await d.read(i)).target; return t?.kind === 'labels' ? Array.from(t.labels) : undefined; }));
    assert.deepEqual(rows, [[1, 0, 1], [0, 0, 0], [0, 1, 0]]);
    const jsonl = join(dir, 'labels.jsonl');
    writeFileSync(jsonl, '{"path":"0.png","labels":["outdoor","cat"]}\n{"path":"1.png","labels":"dog|cat"}\n');
    const j = trainingPart(await openSource({ source: jsonl, classes: ['outdoor', 'dog', 'cat'] })) as IndexedDataset;
    const t = (await j.read(1)).target;
    assert.deepEqual(t?.kind === 'labels' ? Array.from(t.labels) : undefined, [0, 1, 1]);
    await assert.rejects(openSource({ source: csv, classes: ['cat', 'dog'] }), /labels\.csv:2: column "labels": unknown class "outdoor"/);
    writeFileSync(csv, 'path,labels\n0.png,cat||dog\n');
    await assert.rejects(openSource({ source: csv }), /labels\.csv:2: column "labels": "cat\|\|dog" has an empty name/);
  });

  it('one 0/1 column per class: classes in header order; other values refused by line and column', async () => {
    const csv = join(dir, 'columns.csv');
    writeFileSync(csv, 'path,zebra,apple,split\n0.png,1,0,train\n1.png,1,1,train\n');
    const o = await openSource({ source: csv });
    assert.equal(o.targets, 'labels');
    assert.deepEqual(o.classes, ['zebra', 'apple']);
    writeFileSync(csv, 'path,zebra,apple\n0.png,1,2\n');
    await assert.rejects(openSource({ source: csv }), /columns\.csv:2: column "apple": "2" is not 0 or 1/);
  });

  it('label together with mask or labels is refused; a manifest with nothing to learn names what it needs', async () => {
    const csv = join(dir, 'both.csv');
    writeFileSync(csv, 'path,label,mask\n0.png,a,0-mask.png\n');
    await assert.rejects(openSource({ source: csv }), /both\.csv:1: has columns label and mask: a manifest labels its rows one way/);
    writeFileSync(csv, 'path,note\n0.png,x\n');
    await assert.rejects(openSource({ source: csv }), /no column "label" in the header \(columns: path, note\); a manifest needs "label" \(one class\), "labels" \(several, a\|b\), "mask" \(segmentation\) or one 0\/1 column per class/);
  });
});
