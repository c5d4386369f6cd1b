import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import sharp from 'sharp';

import { jpegSize, PackedWriter } from '../../../src/data/formats/packed-writer.js';
import { validatePackedIndex, type PackedIndex } from '../../../src/data/formats/packed-index.js';
import { packedDataset } from '../../../src/data/sources/packed.js';
import { DataError, type RawImage } from '../../../src/data/types.js';
import { fuzz, rng } from './fuzz.js';

const root = mkdtempSync(join(tmpdir(), 'packed-'));
after(() => rmSync(root, { recursive: true, force: true }));
const image = (w: number, h: number, c: 1 | 3, fill: number): RawImage => ({ width: w, height: h, channels: c, data: new Uint8Array(w * h * c).fill(fill) });

async function jpeg(w: number, h: number): Promise<Uint8Array> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 10, b: 30 } } }).jpeg().toBuffer();
}

/** A pack of 6 samples over several shards: small raw, large JPEG, one unlabelled. */
async function makePack(dir: string): Promise<PackedIndex> {
  const big = await jpeg(100, 80);
  const w = new PackedWriter(dir, { classes: ['cat', 'dog'], shardBytes: 9000 });
  w.add({ image: image(32, 32, 3, 1), label: 0, id: 'a.png' });
  w.add({ image: image(28, 28, 1, 2), label: 1, id: 'b.png' });
  w.add({ image: image(100, 80, 3, 3), jpeg: big, label: 1, id: 'c.jpg' }); // large: the JPEG is kept
  w.add({ image: image(64, 64, 3, 4), jpeg: big, label: 0, id: 'd.jpg' }); // small: raw is kept
  w.add({ jpeg: big, label: -1, id: 'e.jpg' });
  w.add({ image: image(16, 16, 3, 5), label: 1, id: 'f.png' });
  return w.finish();
}

describe('packed format', () => {
  it('writes shards and an index that reads back: raw as pixels, JPEG as bytes', async () => {
    const dir = join(root, 'ok');
    const index = await makePack(dir);
    assert.deepEqual(index.samples.encoding, ['raw', 'raw', 'jpeg', 'raw', 'jpeg', 'raw']);
    assert.ok(index.shards.length >= 3, `shards: ${index.shards.map((s) => s.file)}`);
    for (const s of index.shards) assert.equal(statSync(join(dir, s.file)).size, s.bytes);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
    const ds = packedDataset(dir);
    assert.deepEqual([ds.length, ds.classes, Array.from(ds.labels())], [6, ['cat', 'dog'], [0, 1, 1, 0, -1, 1]]);
    const b = await ds.read(1);
    assert.equal(b.id, 'b.png');
    assert.ok(b.input.kind === 'pixels');
    assert.deepEqual([b.input.image.width, b.input.image.height, b.input.image.channels, b.input.image.data.length, b.input.image.data[0]], [28, 28, 1, 784, 2]);
    const c = await ds.read(2);
    assert.ok(c.input.kind === 'encoded');
    const meta = await sharp(c.input.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 100, 80]);
    assert.deepEqual([index.samples.width[4], index.samples.height[4], index.samples.channels[4]], [100, 80, 3], 'size read from the JPEG header');
    assert.match(ds.describe(), /6 samples: 4 raw, 2 JPEG; 2 classes; \d shards/);
    await assert.rejects(ds.read(6), /index out of range/);
  });

  it('refuses to overwrite unless asked, and then removes stale shards', async () => {
    const dir = join(root, 'ok');
    assert.throws(() => new PackedWriter(dir, { classes: [] }), /already holds a packed data set/);
    const w = new PackedWriter(dir, { classes: ['x'], overwrite: true });
    w.add({ image: image(2, 2, 1, 9), label: 0, id: 'only' });
    w.finish();
    assert.deepEqual(readdirSync(dir).sort(), ['index.json', 'shard-00000.bin']);
    assert.equal(packedDataset(dir).length, 1);
  });

  it('rejects bad samples when they are added, naming them', () => {
    const w = new PackedWriter(join(root, 'bad'), { classes: ['a'] });
    assert.throws(() => w.add({ image: image(2, 2, 1, 0), label: 1, id: 's1' }), /s1: label 1 is not a class index \(1 classes, or -1\)/);
    assert.throws(() => w.add({ image: { ...image(2, 2, 3, 0), data: new Uint8Array(5) }, label: 0, id: 's2' }), /s2: image data holds 5 bytes, not 2×2×3/);
    assert.throws(() => w.add({ label: 0, id: 's3' }), /s3: a packed sample needs image pixels or JPEG bytes/);
    assert.throws(() => w.add({ jpeg: Uint8Array.from([1, 2, 3]), label: 0, id: 's4' }), /s4: not a JPEG file/);
  });

  it('reads JPEG sizes from baseline, progressive and grey JPEGs', async () => {
    const prog = await sharp({ create: { width: 33, height: 17, channels: 3, background: 'white' } }).jpeg({ progressive: true }).toBuffer();
    const grey = await sharp({ create: { width: 5, height: 6, channels: 3, background: 'white' } }).toColourspace('b-w').jpeg().toBuffer();
    assert.deepEqual(jpegSize(await jpeg(40, 30), 'x'), { width: 40, height: 30, channels: 3 });
    assert.deepEqual(jpegSize(prog, 'x'), { width: 33, height: 17, channels: 3 });
    assert.deepEqual(jpegSize(grey, 'x'), { width: 5, height: 6, channels: 1 });
    assert.throws(() => jpegSize(prog.subarray(0, 20), 'cut.jpg'), /cut\.jpg: .*(truncated|no marker)/);
  });

  it('names every bad field of a damaged index', () => {
    const dir = join(root, 'ok2');
    return makePack(dir).then((good) => {
      const bad = structuredClone(good) as unknown as { version: number; samples: Record<string, unknown[]>; shards: { bytes: number }[] };
      bad.version = 2;
      bad.samples.offset![3] = -5;
      bad.samples.channels![1] = 4;
      bad.samples.encoding![0] = 'png';
      assert.throws(() => validatePackedIndex(bad, 'i.json'), (e: Error) =>
        e instanceof DataError && /i\.json: invalid packed index: /.test(e.message) && ['version', 'samples.offset[3]', 'samples.channels[1]', 'samples.encoding[0]'].every((f) => e.message.includes(`${f}:`)));
      const lies = structuredClone(good);
      lies.samples.length[0] = 10; // raw 32×32×3 needs 3072
      lies.samples.shard[1] = 99;
      lies.samples.label[5] = 2;
      lies.samples.offset[2] = good.shards[good.samples.shard[2]!]!.bytes;
      assert.throws(() => validatePackedIndex(lies, 'i.json'), (e: Error) =>
        ['samples.length[0]: sample 0 (a.png) is raw 32×32×3 = 3072 bytes', 'samples.shard[1]: sample 1 (b.png) is in shard 99', 'samples.label[5]: sample 5 (f.png) has label 2, but there are 2 classes', 'samples.offset[2]: sample 2 (c.jpg)']
          .every((m) => e.message.includes(m)));
      const short = structuredClone(good);
      short.samples.id.pop();
      assert.throws(() => validatePackedIndex(short, 'i.json'), /samples\.id: 5 entries for count 6/);
      writeFileSync(join(dir, 'shard-00000.bin'), new Uint8Array(10));
      assert.throws(() => packedDataset(dir), /shard-00000\.bin: holds 10 bytes, the index says \d+ \(truncated or replaced\?\)/);
      assert.throws(() => packedDataset(join(root, 'nowhere')), /index\.json: not found: is this a packed data set/);
    });
  });

  it('fuzz: damaged index.json files give a DataError naming the index (300 cases)', async () => {
    const dir = join(root, 'fuzz');
    const good = await makePack(dir);
    const indexPath = join(dir, 'index.json');
    const text = readFileSync(indexPath);
    const rnd = rng(777);
    const values = [-1, 0, 1.5, 2 ** 40, 1e300, 'x', null, [], {}, true];
    await fuzz({
      good: text, name: 'index.json', cases: 300, seed: 31337,
      attempt: async (bytes, c) => {
        // Half the cases damage the text, half tell structured lies in one field.
        if (c % 2) {
          const lie = structuredClone(good) as unknown as Record<string, unknown> & { samples: Record<string, unknown[]> };
          const cols = Object.keys(lie.samples);
          const col = lie.samples[cols[rnd(cols.length)]!]!;
          if (rnd(5) === 0) col.splice(rnd(col.length), 1);
          else col[rnd(col.length)] = values[rnd(values.length)];
          bytes = new TextEncoder().encode(JSON.stringify(lie));
        }
        writeFileSync(indexPath, bytes);
        const ds = packedDataset(dir);
        for (let i = 0; i < ds.length; i++) await ds.read(i);
      },
    });
    assert.ok(existsSync(indexPath));
  });
});
