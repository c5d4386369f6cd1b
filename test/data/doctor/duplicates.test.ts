import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import sharp, { type Sharp } from 'sharp';

import { checkDataset, formatDoctorReport } from '../../../src/data/doctor/index.js';
import type { IndexedDataset, SampleRecord } from '../../../src/data/types.js';
import { smoothImage } from '../fixtures/corpus.js';
import { photo } from '../image/jpeg-fixtures.js';

// Photo-like images (texture, hard-edged blocks): a smooth colour field has almost no energy at the
// pHash's frequencies, so its bits are noise and even PIL's own resize puts its copies 6–18 bits away.
const image = (seed: number, w = 96, h = 72) => sharp(photo(seed, w, h), { raw: { width: w, height: h, channels: 3 } });

async function write(path: string, img: Sharp, as: 'png' | 'jpeg' = 'png') {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, await (as === 'png' ? img.png() : img.jpeg({ quality: 85 })).toBuffer());
}

/** train/{cat,dog} with one exact and one near duplicate; test/{cat,dog} with one image of each leaked from train. */
async function trainAndTest() {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-dups-'));
  const train = join(dir, 'train');
  const test = join(dir, 'test');
  await write(join(train, 'cat/a.png'), image(1));
  copyFileSync(join(train, 'cat/a.png'), join(train, 'cat/a-copy.png'));
  await write(join(train, 'cat/c.png'), image(3));
  await write(join(train, 'dog/b.jpg'), image(2), 'jpeg');
  await write(join(train, 'dog/b-small.jpg'), image(2).resize(48, 36), 'jpeg');
  await write(join(train, 'dog/d.png'), image(4));
  mkdirSync(join(test, 'cat'), { recursive: true });
  copyFileSync(join(train, 'cat/c.png'), join(test, 'cat/c-again.png'));
  await write(join(test, 'dog/d-resized.jpg'), image(4).resize(200, 150), 'jpeg');
  await write(join(test, 'dog/e.png'), image(5));
  return { dir, train, test };
}

describe('dataset doctor: duplicates, leakage, balance', () => {
  it('finds exact and near duplicates within one folder', async () => {
    const { train } = await trainAndTest();
    const r = await checkDataset(train);
    assert.deepEqual(
      r.duplicates.exact.map((g) => g.files.map((f) => f.id)),
      [[join(train, 'cat/a-copy.png'), join(train, 'cat/a.png')]],
    );
    assert.deepEqual(
      r.duplicates.near.map((g) => g.files.map((f) => f.id)),
      [[join(train, 'dog/b-small.jpg'), join(train, 'dog/b.jpg')]],
    );
    assert.ok((r.duplicates.near[0]?.distances[1] as number) <= 8);
    assert.deepEqual(r.leakage, []);
    assert.deepEqual(
      r.issues.map((i) => i.code),
      ['exact-duplicates', 'near-duplicates'],
    );
    assert.equal(r.clean, false);
    assert.deepEqual(r.problems, []);
  });

  it('finds train/test leakage against a second root', async () => {
    const { train, test } = await trainAndTest();
    const seen: number[] = [];
    const r = await checkDataset(train, { test, concurrency: 2, onProgress: (p) => seen.push(p.done) });
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const leaks = r.leakage.map((l) => [l.kind, l.a.id, l.a.split, l.b.id, l.b.split]);
    assert.deepEqual(leaks, [
      ['exact', join(train, 'cat/c.png'), 'train', join(test, 'cat/c-again.png'), 'test'],
      ['near', join(train, 'dog/d.png'), 'train', join(test, 'dog/d-resized.jpg'), 'test'],
    ]);
    assert.deepEqual(
      r.splits.map((s) => [s.name, s.files, s.classCounts]),
      [
        ['test', 3, { cat: 1, dog: 2 }],
        ['train', 6, { cat: 3, dog: 3 }],
      ],
    );
    assert.ok(r.issues.some((i) => i.code === 'leakage'));
    const text = formatDoctorReport(r);
    assert.match(text, /Leakage between splits/);
    assert.match(text, /exact\s+0\s+train\/cat\/c\.png \[train\]\s+test\/cat\/c-again\.png \[test\]/);
  });

  it('finds leakage between the splits of a manifest, and files it lists that do not exist', async () => {
    const { dir } = await trainAndTest();
    writeFileSync(
      join(dir, 'all.csv'),
      ['path,label,split', 'train/cat/c.png,cat,train', 'test/cat/c-again.png,cat,test', 'train/dog/d.png,dog,val', 'gone.png,dog,train'].join('\n'),
    );
    const r = await checkDataset(join(dir, 'all.csv'));
    assert.deepEqual(
      r.leakage.map((l) => [l.kind, l.a.split, l.b.split]),
      [['exact', 'train', 'test']],
    );
    assert.deepEqual(
      r.problems.map((p) => [p.id, p.code, p.split]),
      [[join(dir, 'gone.png'), 'missing', 'train']],
    );
    assert.match(r.problems[0]?.message as string, /all\.csv:5/);
  });

  it('reports class balance, empty classes and imbalance past the threshold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-balance-'));
    for (let k = 0; k < 6; k++) await write(join(dir, 'many', `${k}.png`), image(100 + k, 40, 40));
    await write(join(dir, 'few', 'x.png'), image(200, 40, 40));
    mkdirSync(join(dir, 'none'));
    const r = await checkDataset(dir, { maxImbalance: 5 });
    assert.deepEqual(r.classes, [
      { name: 'few', count: 1 },
      { name: 'many', count: 6 },
      { name: 'none', count: 0 },
    ]);
    assert.equal(r.imbalanceRatio, 6);
    assert.deepEqual(
      r.issues.map((i) => i.code),
      ['listing', 'empty-class', 'imbalance'],
    );
    assert.equal((await checkDataset(dir, { maxImbalance: 6 })).issues.filter((i) => i.code === 'imbalance').length, 0);
  });

  it('checks sources of decoded pixels too (hashes, sizes, duplicates)', async () => {
    const pixels = (seed: number) => ({ data: smoothImage(seed, 28, 28).filter((_, i) => i % 3 === 0), width: 28, height: 28, channels: 1 as const });
    const images = [pixels(1), pixels(2), pixels(1)];
    const ds: IndexedDataset = {
      kind: 'indexed',
      length: 3,
      classes: ['a'],
      labels: () => new Int32Array(3),
      read: async (i): Promise<SampleRecord> => ({ input: { kind: 'pixels', image: images[i] as (typeof images)[0] }, label: 0, id: `mem[${i}]` }),
      describe: () => 'memory',
    };
    const r = await checkDataset(ds);
    assert.deepEqual(
      r.duplicates.exact.map((g) => g.files.map((f) => f.id)),
      [['mem[0]', 'mem[2]']],
    );
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['tiny', 'tiny', 'tiny'],
    );
    assert.equal(r.traits.grey.count, 3);
  });
});
