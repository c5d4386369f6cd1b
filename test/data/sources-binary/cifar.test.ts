import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CIFAR10_CLASSES, cifarDataset } from '../../../src/data/sources/cifar.js';
import { cifarRecords } from '../formats/cifar-records.js';

const root = mkdtempSync(join(tmpdir(), 'cifar-source-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('cifarDataset', () => {
  const c10 = join(root, 'cifar-10-batches-bin');
  mkdirSync(c10);
  for (let b = 1; b <= 5; b++) writeFileSync(join(c10, `data_batch_${b}.bin`), cifarRecords(b, 10, b)); // 1+2+3+4+5 = 15 records
  writeFileSync(join(c10, 'test_batch.bin'), cifarRecords(4, 10, 9));
  const c100 = join(root, 'c100', 'cifar-100-binary');
  mkdirSync(c100, { recursive: true });
  writeFileSync(join(c100, 'train.bin'), cifarRecords(6, 100, 10));
  writeFileSync(join(c100, 'test.bin'), cifarRecords(2, 100, 11));
  const fine = Array.from({ length: 100 }, (_, i) => `fine${i}`);
  writeFileSync(join(c100, 'fine_label_names.txt'), `${fine.join('\n')}\n`);
  writeFileSync(join(c100, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n'));

  it('reads CIFAR-10 train across five batches, and test, from the folder that holds the archive', async () => {
    const train = cifarDataset(root, { split: 'train' });
    assert.equal(train.length, 15);
    assert.deepEqual(train.classes, [...CIFAR10_CLASSES], 'no batches.meta.txt: the well-known names');
    const expected = [1, 2, 3, 4, 5].flatMap((b) => { const r = cifarRecords(b, 10, b); return Array.from({ length: b }, (_, i) => r[i * 3073]!); });
    assert.deepEqual(Array.from(train.labels()), expected);
    // Index 3 is the first record of data_batch_3 (after 1 + 2): its red plane's first byte is pixel 0's R.
    const r = await train.read(3);
    assert.equal(r.id, `${join(c10, 'data_batch_3.bin')}[0]`);
    assert.ok(r.input.kind === 'pixels');
    assert.equal(r.input.image.data[0], cifarRecords(3, 10, 3)[1]);
    assert.equal(r.input.image.data[1], cifarRecords(3, 10, 3)[1 + 1024], 'G of pixel 0 comes from the second plane');
    assert.equal(cifarDataset(c10, { split: 'test' }).length, 4);
    assert.match(train.describe(), /CIFAR-10 train .*\(15 images, 10 classes\)/);
    await assert.rejects(train.read(15), /index out of range \(0\.\.14\)/);
  });

  it('reads class names from batches.meta.txt and checks their count', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    writeFileSync(join(c10, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
    assert.deepEqual(cifarDataset(c10, { split: 'test' }).classes, names);
    writeFileSync(join(c10, 'batches.meta.txt'), 'a\nb\n');
    assert.throws(() => cifarDataset(c10, { split: 'test' }), /batches\.meta\.txt: lists 2 class names; CIFAR-10 fine labels need 10/);
    rmSync(join(c10, 'batches.meta.txt'));
  });

  it('reads CIFAR-100 with fine or coarse labels, detecting the variant', async () => {
    const finer = cifarDataset(join(root, 'c100'), { split: 'train' });
    const recs = cifarRecords(6, 100, 10);
    assert.deepEqual(Array.from(finer.labels()), Array.from({ length: 6 }, (_, i) => recs[i * 3074 + 1]));
    assert.deepEqual(finer.classes, fine);
    const coarse = cifarDataset(c100, { split: 'train', variant: 100, label: 'coarse' });
    assert.deepEqual(Array.from(coarse.labels()), Array.from({ length: 6 }, (_, i) => recs[i * 3074]));
    assert.equal(coarse.classes.length, 20);
    assert.equal((await coarse.read(5)).label, recs[5 * 3074]);
    assert.equal(cifarDataset(c100, { split: 'test' }).length, 2);
  });

  it('names what is missing or wrong', () => {
    assert.throws(() => cifarDataset(join(root, 'nothing'), { split: 'train' }), /nothing: no CIFAR binary batches here/);
    assert.throws(() => cifarDataset(c10, { split: 'train', label: 'coarse' }), /CIFAR-10 has no coarse labels/);
    const partial = join(root, 'partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'data_batch_1.bin'), cifarRecords(1, 10, 1));
    assert.throws(() => cifarDataset(partial, { split: 'train' }), /CIFAR-10 train split is incomplete: missing data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin/);
    // CIFAR-100 files forced to be read as CIFAR-10: 3074-byte records fail the 3073-byte size check.
    assert.throws(() => cifarDataset(c100, { split: 'train', variant: 10 }), /missing data_batch_1\.bin/);
  });
});
