import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { readIdx } from '../../../src/data/formats/idx.js';
import { decodeImage } from '../../../src/data/image/index.js';
import { BadSampleError, packDataset, preparer, type PackSummary } from '../../../src/data/pack/index.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { fashionMnist, FASHION_MNIST_DIR } from '../../../src/data/sources/fashion-mnist.js';
import { packedDataset } from '../../../src/data/sources/packed.js';
import { centerCrop, resize } from '../../../src/data/transforms/index.js';
import { transformStream } from '../../../src/data/transforms/compose.js';
import { DataError, type IndexedDataset, type RawImage, type SampleRecord, type StreamingDataset } from '../../../src/data/types.js';
import { encode, pattern, smooth } from '../fixtures/images.js';

const root = mkdtempSync(join(tmpdir(), 'pack-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** What the training pipeline would compute without a pack: decode, then Resize(s) + CenterCrop(s). */
async function reference(path: string, size: number): Promise<RawImage> {
  const img = await decodeImage(readFileSync(path), { id: path, channels: 'rgb' });
  const rng = transformStream({ seed: 0, epoch: 0, index: 0 }, 0); // unused: Resize and CenterCrop draw nothing
  return centerCrop({ size }).apply(await resize({ size }).apply(img, rng), rng);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/** Every sample of a pack: label, id and its stored form. */
async function readAll(ds: IndexedDataset): Promise<SampleRecord[]> {
  return Promise.all(Array.from({ length: ds.length }, (_, i) => ds.read(i)));
}

const shardBytesOf = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('shard-')).sort().map((f) => readFileSync(join(dir, f)));

describe('packDataset on an image folder', () => {
  const src = join(root, 'folder');
  // Mixed sizes, formats and colour; one truncated JPEG, which must be skipped and reported.
  const files: [string, () => Promise<Uint8Array>][] = [
    ['ant/a.jpg', () => encode(smooth(300, 200), 'jpeg')],
    ['ant/b.png', () => encode(pattern(40, 50), 'png')],
    ['ant/c.png', () => encode(pattern(64, 64, 1, 3), 'png')],
    ['bee/broken.jpg', async () => (await encode(smooth(200, 160), 'jpeg')).subarray(0, 700)],
    ['bee/d.webp', () => encode(pattern(90, 31, 3, 5), 'webp')],
    ['bee/e.jpg', () => encode(smooth(96, 128), 'jpeg')],
    ['cow/f.png', () => encode(smooth(33, 33), 'png')],
  ];
  before(async () => {
    for (const [name, make] of files) {
      mkdirSync(join(src, name, '..'), { recursive: true });
      writeFileSync(join(src, name), await make());
    }
  });

  it('writes every good file in source order, raw at 32×32, with the labels and classes of the source', async () => {
    const out = join(root, 'p32');
    const progress: number[] = [];
    const s = await packDataset(await imageFolder(src), out, { size: 32, channels: 'rgb', onProgress: (p) => progress.push(p.done) });
    assert.deepEqual([s.count, s.raw, s.jpeg, s.classes], [6, 6, 0, 3]);
    assert.equal(s.skipped.length, 1);
    assert.equal(s.skipped[0]?.id, join(src, 'bee/broken.jpg'));
    assert.equal(s.skipped[0]?.index, 3);
    assert.match(s.skipped[0]?.reason ?? '', /cannot decode jpeg/);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);

    const ds = packedDataset(out);
    const good = files.map(([n]) => n).filter((n) => !n.includes('broken'));
    assert.deepEqual(ds.classes, ['ant', 'bee', 'cow']);
    assert.deepEqual(Array.from(ds.labels()), [0, 0, 0, 1, 1, 2]);
    const records = await readAll(ds);
    assert.deepEqual(records.map((r) => r.id), good.map((n) => join(src, n)));
    for (const r of records) {
      assert.ok(r.input.kind === 'pixels', `${r.id} is stored raw`);
      const ref = await reference(r.id, 32);
      assert.deepEqual([r.input.image.width, r.input.image.height, r.input.image.channels], [32, 32, 3]);
      assert.ok(Buffer.from(r.input.image.data).equals(Buffer.from(ref.data)), `${r.id}: packed pixels differ from decodeImage + resize + centerCrop`);
    }
  });

  it('stores large samples as JPEG within a small tolerance of the decoded reference', async () => {
    const out = join(root, 'p96');
    const s = await packDataset(await imageFolder(src), out, { size: 96, channels: 'rgb', jpegQuality: 95 });
    assert.deepEqual([s.count, s.raw, s.jpeg], [6, 0, 6]);
    for (const r of await readAll(packedDataset(out))) {
      assert.ok(r.input.kind === 'encoded');
      const got = await decodeImage(r.input.bytes, { id: r.id, channels: 'rgb' });
      const ref = await reference(r.id, 96);
      assert.deepEqual([got.width, got.height], [96, 96]);
      const d = meanAbsDiff(got.data, ref.data);
      // Smooth images come back within ~2 levels on average; the `pattern` ones (b, d) are
      // high-frequency noise to JPEG and lose more. A wrong crop or flip would be ~60 levels off.
      const bound = /[bd]\.\w+$/.test(r.id) ? 9 : 2.5;
      assert.ok(d < bound, `${r.id}: mean |diff| ${d.toFixed(2)} ≥ ${bound}`);
    }
  });

  it('keepAspect resizes the shorter side only, and a JPEG already at its packed size is kept as the file', async () => {
    const out = join(root, 'aspect');
    const s = await packDataset(await imageFolder(src), out, { size: 96, keepAspect: true, rawMaxPixels: 0 });
    const ds = packedDataset(out);
    const sizes = await Promise.all((await readAll(ds)).map(async (r) => {
      assert.ok(r.input.kind === 'encoded');
      const m = await sharp(r.input.bytes).metadata();
      return `${m.width}x${m.height}x${m.channels}`;
    }));
    // a.jpg 300×200 → 144×96; c.png is grey and stays grey; e.jpg is already 96 wide: kept as is.
    assert.deepEqual(sizes, ['144x96x3', '96x120x3', '96x96x1', '278x96x3', '96x128x3', '96x96x3']);
    assert.equal(s.keptSourceJpeg, 1);
    const e = await ds.read(4);
    assert.ok(e.input.kind === 'encoded' && Buffer.from(e.input.bytes).equals(readFileSync(join(src, 'bee/e.jpg'))));
  });

  it('is deterministic: byte-identical shards whatever the concurrency and the order reads finish in', async () => {
    const folder = await imageFolder(src);
    // Reads that finish in a scrambled order: later samples often come back first.
    const slow: IndexedDataset = {
      ...folder,
      read: async (i) => {
        await new Promise((r) => setTimeout(r, ((i * 7) % 5) * 4));
        return folder.read(i);
      },
    };
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    await packDataset(folder, a, { size: 48, concurrency: 1 });
    await packDataset(slow, b, { size: 48, concurrency: 6 });
    assert.deepEqual(shardBytesOf(a), shardBytesOf(b));
    assert.deepEqual(readFileSync(join(a, 'index.json')), readFileSync(join(b, 'index.json')));
  });

  it("badFiles: 'fail' stops at the corrupt file, naming it, and leaves an existing pack untouched", async () => {
    const out = join(root, 'p32'); // packed by the first test
    const before = readFileSync(join(out, 'index.json'));
    await assert.rejects(packDataset(await imageFolder(src), out, { size: 32, badFiles: 'fail', overwrite: true }), (e: unknown) => {
      assert.ok(e instanceof BadSampleError);
      assert.equal(e.sample.id, join(src, 'bee/broken.jpg'));
      assert.match(e.message, /broken\.jpg: cannot decode jpeg.*badFiles: 'fail'/);
      return true;
    });
    assert.deepEqual(readFileSync(join(out, 'index.json')), before);
    assert.equal(packedDataset(out).length, 6);
    assert.ok(!readdirSync(root).some((f) => f.includes('.packing-')), 'the work folder is removed');
  });

  it('refuses to overwrite an existing pack unless asked; with overwrite, stale shards go', async () => {
    const out = join(root, 'ow');
    await packDataset(await imageFolder(src), out, { size: 64, shardBytes: 20_000 });
    assert.ok(shardBytesOf(out).length >= 3);
    await assert.rejects(packDataset(await imageFolder(src), out, { size: 64 }), (e: unknown) => e instanceof DataError && /already holds a packed data set/.test(e.message));
    const s = await packDataset(await imageFolder(src), out, { size: 16, overwrite: true });
    assert.equal(s.shards, 1);
    assert.deepEqual(readdirSync(out).sort(), ['index.json', 'shard-00000.bin']);
    assert.equal((await packedDataset(out).read(0)).input.kind, 'pixels');
  });
});

describe('packDataset on other sources', () => {
  it('packs a stream in stream order, skipping a sample that does not decode', async () => {
    const png = await encode(pattern(20, 10), 'png');
    const records: (SampleRecord & { index: number })[] = [
      { index: 0, id: 's.tar#0', label: 1, input: { kind: 'encoded', bytes: png } },
      { index: 1, id: 's.tar#1', label: 0, input: { kind: 'encoded', bytes: new Uint8Array([1, 2, 3]) } },
      { index: 2, id: 's.tar#2', label: -1, input: { kind: 'pixels', image: pattern(5, 6, 1) } },
    ];
    const stream: StreamingDataset = {
      kind: 'streaming', classes: ['x', 'y'], describe: () => 'test stream',
      async *stream() { yield* records; },
    };
    const out = join(root, 'stream');
    const s = await packDataset(stream, out);
    assert.deepEqual(s.skipped.map((b) => [b.id, b.index]), [['s.tar#1', 1]]);
    const ds = packedDataset(out);
    assert.deepEqual(Array.from(ds.labels()), [1, -1]);
    const last = await ds.read(1);
    assert.ok(last.input.kind === 'pixels');
    assert.deepEqual(last.input.image, pattern(5, 6, 1));
  });

  it('resizing grey pixels keeps one channel and matches sharp on grey', async () => {
    const grey = pattern(28, 28, 1, 9);
    const one: IndexedDataset = {
      kind: 'indexed', length: 1, classes: ['a'], labels: () => Int32Array.of(0), describe: () => 'one grey image',
      read: async () => ({ id: 'g[0]', label: 0, input: { kind: 'pixels', image: grey } }),
    };
    const out = join(root, 'grey');
    await packDataset(one, out, { size: 14 });
    const r = await packedDataset(out).read(0);
    assert.ok(r.input.kind === 'pixels');
    assert.deepEqual([r.input.image.width, r.input.image.height, r.input.image.channels], [14, 14, 1]);
    const want = await sharp(grey.data, { raw: { width: 28, height: 28, channels: 1 } }).resize(14, 14, { fit: 'fill', kernel: 'linear' }).toColourspace('b-w').raw().toBuffer();
    assert.ok(Buffer.from(r.input.image.data).equals(want));
  });

  it('[h, w] with keepAspect fits inside; shrinkOnLoad gives the same size, close to the full decode', async () => {
    const fit = preparer({ size: [50, 60], keepAspect: true });
    const wide = await fit.prepare({ kind: 'pixels', image: pattern(100, 40) }, 'wide');
    const tall = await fit.prepare({ kind: 'encoded', bytes: await encode(smooth(40, 100), 'png') }, 'tall');
    assert.deepEqual([wide.image.width, wide.image.height, tall.image.width, tall.image.height], [60, 24, 20, 50]);
    assert.equal(preparer({ size: [50, 60] }).description, 'resize to 50×60, channels keep, raw up to 4096 pixels else JPEG q90');
    const photo = await encode(smooth(640, 480), 'jpeg');
    const full = await preparer({ size: 40 }).prepare({ kind: 'encoded', bytes: photo }, 'p');
    const fast = await preparer({ size: 40, shrinkOnLoad: true }).prepare({ kind: 'encoded', bytes: photo }, 'p');
    assert.deepEqual([fast.image.width, fast.image.height, fast.image.channels], [40, 40, 3]);
    const d = meanAbsDiff(full.image.data, fast.image.data);
    assert.ok(d > 0 && d < 4, `mean |diff| ${d.toFixed(2)}: shrink-on-load should be close to, not equal to, the full decode`);
  });

  it('rejects options that make no sense, naming the option', async () => {
    const none: IndexedDataset = { kind: 'indexed', length: 0, classes: [], labels: () => new Int32Array(), read: () => Promise.reject(new Error('unused')), describe: () => 'empty' };
    await assert.rejects(packDataset(none, join(root, 'x1'), { size: 0 }), /size must be a positive integer/);
    await assert.rejects(packDataset(none, join(root, 'x2'), { size: [32, 1.5] }), /size must be a positive integer or \[height, width\]/);
    await assert.rejects(packDataset(none, join(root, 'x3'), { jpegQuality: 101 }), /jpegQuality must be an integer in 1\.\.100/);
    await assert.rejects(packDataset(none, join(root, 'x4'), { channels: 'cmyk' as 'rgb' }), /channels must be/);
    assert.ok(!existsSync(join(root, 'x1')));
  });

  const haveFashion = existsSync(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  it('Fashion-MNIST test (10,000 images) packs raw 28×28 grey and reads back identically', { skip: haveFashion ? false : `Fashion-MNIST is not installed at ${FASHION_MNIST_DIR}` }, async () => {
    const out = join(root, 'fashion');
    const s: PackSummary = await packDataset(fashionMnist('test'), out);
    assert.deepEqual([s.count, s.raw, s.jpeg, s.skipped.length], [10_000, 10_000, 0, 0]);
    const images = readIdx(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')).data as Uint8Array;
    const labels = readIdx(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')).data as Uint8Array;
    const ds = packedDataset(out);
    assert.deepEqual(ds.classes, fashionMnist('test').classes);
    assert.deepEqual(Array.from(ds.labels()), Array.from(labels));
    const all = new Uint8Array(10_000 * 784);
    for (let i = 0; i < ds.length; i++) {
      const r = await ds.read(i);
      assert.ok(r.input.kind === 'pixels' && r.input.image.width === 28 && r.input.image.height === 28 && r.input.image.channels === 1, `sample ${i}`);
      all.set(r.input.image.data, i * 784);
    }
    assert.ok(Buffer.from(all).equals(Buffer.from(images)), 'pixels differ from the IDX file');
  });
});
