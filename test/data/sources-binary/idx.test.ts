import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import { idxDataset } from '../../../src/data/sources/idx.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnist } from '../../../src/data/sources/fashion-mnist.js';

const dir = mkdtempSync(join(tmpdir(), 'idx-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function idx(type: number, shape: number[], payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  shape.forEach((d, i) => new DataView(header.buffer).setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, payload]);
}

describe('idxDataset', () => {
  it('reads grey images and labels, plain or gzipped', async () => {
    writeFileSync(join(dir, 'img.gz'), gzipSync(idx(0x08, [3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 10))));
    writeFileSync(join(dir, 'lab'), idx(0x08, [3], Uint8Array.from([2, 0, 1])));
    const ds = idxDataset(join(dir, 'img.gz'), join(dir, 'lab'));
    assert.deepEqual([ds.length, ds.classes, Array.from(ds.labels())], [3, ['0', '1', '2'], [2, 0, 1]]);
    const r = await ds.read(2);
    assert.ok(r.input.kind === 'pixels');
    assert.deepEqual([r.input.image.width, r.input.image.height, r.input.image.channels, Array.from(r.input.image.data)], [2, 2, 1, [80, 90, 100, 110]]);
    assert.equal(r.id, `${join(dir, 'img.gz')}[2]`);
  });

  it('checks shapes, types and labels against each other', () => {
    writeFileSync(join(dir, 'lab2'), idx(0x08, [2], Uint8Array.from([0, 1])));
    assert.throws(() => idxDataset(join(dir, 'img.gz'), join(dir, 'lab2')), /lab2: expected 3 labels \(one per image in .*img\.gz\)/);
    assert.throws(() => idxDataset(join(dir, 'img.gz'), join(dir, 'lab'), ['a', 'b']), /lab\[0\]: label 2 is not a class index \(2 classes\)/);
    writeFileSync(join(dir, 'img4'), idx(0x08, [1, 2, 2, 4], new Uint8Array(16)));
    assert.throws(() => idxDataset(join(dir, 'img4'), join(dir, 'lab')), /img4: images must be N×H×W or N×H×W×C with 1 or 3 channels; shape is \[1, 2, 2, 4\]/);
  });

  it('fashionMnist: the Debian data set with its ten class names', { skip: !existsSync(FASHION_MNIST_DIR) && 'dataset-fashion-mnist is not installed' }, async () => {
    const test = fashionMnist('test');
    assert.equal(test.length, 10_000);
    assert.deepEqual(test.classes, [...FASHION_MNIST_CLASSES]);
    const counts = new Array(10).fill(0);
    for (const l of test.labels()) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(1000), 'Fashion-MNIST test holds 1,000 images per class');
    const r = await test.read(0);
    assert.ok(r.input.kind === 'pixels');
    assert.deepEqual([r.input.image.width, r.input.image.height, r.input.image.channels], [28, 28, 1]);
    assert.equal(r.label, 9, 'the first test image is an ankle boot');
    assert.match(test.describe(), /^Fashion-MNIST test .*\(10,000 images 28×28, 10 classes\)/);
  });
});
