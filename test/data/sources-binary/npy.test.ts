import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { writeNpy } from '../../../src/data/formats/npy-write.js';
import { npyDataset } from '../../../src/data/sources/npy.js';
import type { RawImage, SampleRecord } from '../../../src/data/types.js';
import { py } from '../formats/fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'npy-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);
const pixels = (r: SampleRecord): RawImage => {
  assert.ok(r.input.kind === 'pixels');
  return r.input.image;
};

// Program 002's inputs (faces.npy + labels.npy) in the forms people save them, with the uint8 HWC
// pixels numpy itself computes for each (rint(x * 255) for unit floats, transpose for NCHW).
const REF = JSON.parse(py(`
import json
rng = np.random.default_rng(0)
faces = rng.integers(0, 256, size=(5, 4, 6, 3), dtype=np.uint8)
np.save('faces.npy', faces)
np.save('labels.npy', np.array([0, 2, 1, 2, 0], dtype=np.int64))
unit = rng.random((5, 4, 6, 3), dtype=np.float32)
np.save('unit.npy', unit)
np.save('byte.npy', faces.astype(np.float64))
np.save('nchw.npy', np.ascontiguousarray(faces.transpose(0, 3, 1, 2)))
np.save('grey.npy', faces[..., 0])
np.save('grey1.npy', faces[..., :1])
np.save('i16.npy', faces.astype(np.int16))
np.save('labels_col.npy', np.array([[1], [0], [1], [0], [1]], dtype=np.uint8))
np.save('labels_float.npy', np.array([1., 0., 1., 0., 1.], dtype=np.float32))
np.save('onehot.npy', np.eye(3)[[0, 2, 1, 2, 0]])
np.save('normalised.npy', (unit - 0.5) / 0.25)
np.save('rgba.npy', np.zeros((2, 8, 8, 4), dtype=np.uint8))
np.save('ambiguous.npy', np.zeros((2, 3, 5, 3), dtype=np.uint8))
np.savez('data.npz', x_train=faces, y_train=np.array([1, 1, 0, 0, 1]))
np.savez('one.npz', faces)
print(json.dumps({'faces': faces.reshape(5, -1).tolist(), 'unit': np.rint(unit * 255).astype(np.uint8).reshape(5, -1).tolist()}))
`, dir)) as { faces: number[][]; unit: number[][] };

describe('npyDataset', () => {
  it('loads faces.npy + labels.npy (N×H×W×3 uint8) as program 002 does', async () => {
    const ds = npyDataset({ images: at('faces.npy'), labels: at('labels.npy'), classes: ['a', 'b', 'c'] });
    assert.equal(ds.length, 5);
    assert.deepEqual(Array.from(ds.labels()), [0, 2, 1, 2, 0]);
    for (let i = 0; i < 5; i++) {
      const r = await ds.read(i);
      const img = pixels(r);
      assert.deepEqual([img.width, img.height, img.channels], [6, 4, 3]);
      assert.deepEqual(Array.from(img.data), REF.faces[i]);
      assert.equal(r.id, `${at('faces.npy')}[${i}]`);
    }
    assert.match(ds.describe(), /5 images 4×6×3, 3 classes; layout NHWC \(detected from shape \(5, 4, 6, 3\)\)/);
    const img = pixels(await ds.read(0));
    img.data[0] = (img.data[0]! + 1) % 256;
    assert.deepEqual(Array.from(pixels(await ds.read(0)).data), REF.faces[0], 'a read is a copy: writing into it never changes the next read');
  });

  it('detects float pixels in [0, 1] and in [0, 255], and says so', async () => {
    const unit = npyDataset({ images: at('unit.npy') });
    assert.match(unit.notes.join(), /float pixels assumed in \[0, 1\] \(values 0\.\d+\.\.0\.\d+ in 5 sampled images; pass floatRange to override\)/);
    for (let i = 0; i < 5; i++) assert.deepEqual(Array.from(pixels(await unit.read(i)).data), REF.unit[i], `image ${i}`);
    const byte = npyDataset({ images: at('byte.npy') });
    assert.match(byte.notes.join(), /float pixels assumed in \[0, 255\]/);
    assert.deepEqual(Array.from(pixels(await byte.read(3)).data), REF.faces[3]);
    // Told otherwise, [0, 1] data read as bytes is an honest error, not a black image.
    const told = npyDataset({ images: at('byte.npy'), floatRange: 'unit' });
    assert.match(told.notes.join(), /as given/);
    await assert.rejects(told.read(0), /byte\.npy\[0\]: pixel \d+ is \d+, outside \[0, 1\] \(the range assumed for this file\)/);
    assert.throws(() => npyDataset({ images: at('normalised.npy') }), /normalised\.npy: float pixels go below 0 .*normalised data\?/);
  });

  it('detects NCHW, reads grey N×H×W and N×H×W×1, and wider integer types', async () => {
    const nchw = npyDataset({ images: at('nchw.npy') });
    assert.match(nchw.notes.join(), /layout NCHW \(detected from shape \(5, 3, 4, 6\)\)/);
    assert.deepEqual(Array.from(pixels(await nchw.read(2)).data), REF.faces[2]);
    for (const f of ['grey.npy', 'grey1.npy']) {
      const img = pixels(await npyDataset({ images: at(f) }).read(1));
      assert.deepEqual([img.width, img.height, img.channels], [6, 4, 1]);
      assert.deepEqual(Array.from(img.data), REF.faces[1]!.filter((_, k) => k % 3 === 0), f);
    }
    assert.deepEqual(Array.from(pixels(await npyDataset({ images: at('i16.npy') }).read(4)).data), REF.faces[4]);
  });

  it('reads .npz members by key, labels of other shapes and types, and default classes', async () => {
    const ds = npyDataset({ images: `${at('data.npz')}#x_train`, labels: `${at('data.npz')}#y_train` });
    assert.deepEqual([Array.from(ds.labels()), ds.classes], [[1, 1, 0, 0, 1], ['0', '1']]);
    assert.deepEqual(Array.from(pixels(await ds.read(1)).data), REF.faces[1]);
    assert.equal(npyDataset({ images: at('one.npz') }).length, 5);
    for (const f of ['labels_col.npy', 'labels_float.npy'])
      assert.deepEqual(Array.from(npyDataset({ images: at('faces.npy'), labels: at(f) }).labels()), [1, 0, 1, 0, 1], f);
    const unlabelled = npyDataset({ images: at('faces.npy') });
    assert.deepEqual([Array.from(unlabelled.labels()), unlabelled.classes], [[-1, -1, -1, -1, -1], []]);
  });

  it('says what is wrong, naming the file', async () => {
    assert.throws(() => npyDataset({ images: at('rgba.npy') }), /rgba\.npy: shape \(2, 8, 8, 4\) has no axis of 1 or 3 channels \(4 channels: drop the alpha channel first\)/);
    assert.throws(() => npyDataset({ images: at('ambiguous.npy') }), /could be NHWC or NCHW: pass layout/);
    assert.equal(npyDataset({ images: at('ambiguous.npy'), layout: 'NCHW' }).length, 2);
    assert.throws(() => npyDataset({ images: at('faces.npy'), layout: 'NCHW' }), /layout NCHW puts 4 channels in shape \(5, 4, 6, 3\)/);
    assert.throws(() => npyDataset({ images: at('faces.npy'), labels: at('onehot.npy') }), /onehot\.npy: labels must have shape \(N,\) or \(N, 1\); got \(5, 3\) \(one-hot labels\? store class indices\)/);
    assert.throws(() => npyDataset({ images: at('grey.npy'), labels: at('data.npz#x_train') }), /labels must have shape/);
    assert.throws(() => npyDataset({ images: at('faces.npy'), labels: at('labels.npy'), classes: ['a', 'b'] }), /label 2 is out of range for 2 classes/);
    assert.throws(() => npyDataset({ images: at('data.npz') }), /data\.npz: holds several arrays: name one as .*data\.npz#x_train/);
    assert.throws(() => npyDataset({ images: `${at('data.npz')}#nope` }), /has no array 'nope'/);
    writeNpy(at('short_labels.npy'), { dtype: 'i4', shape: [3], data: Int32Array.from([0, 1, 0]) });
    assert.throws(() => npyDataset({ images: at('faces.npy'), labels: at('short_labels.npy') }), /short_labels\.npy: 3 labels for 5 images/);
    await assert.rejects(npyDataset({ images: at('faces.npy') }).read(5), /faces\.npy\[5\]: index out of range \(0\.\.4\)/);
  });

  it('catches an out-of-range pixel in an image the range detection did not sample', async () => {
    // 40 images, so detection samples 32 of them (0, 1, 3, 4, …); image 2 is not among them and holds 300.
    const data = new Float32Array(40 * 2 * 2).fill(100);
    data[2 * 4] = 300;
    writeNpy(at('sneaky.npy'), { dtype: 'f4', shape: [40, 2, 2], data });
    const ds = npyDataset({ images: at('sneaky.npy') });
    assert.match(ds.notes.join(), /\[0, 255\] \(values 100\.\.100 in 32 sampled images/);
    await assert.rejects(ds.read(2), /sneaky\.npy\[2\]: pixel 0 is 300, outside \[0, 255\]/);
  });
});
