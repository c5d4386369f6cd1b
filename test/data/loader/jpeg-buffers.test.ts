// The native JPEG path's batches: the fused normalisation gives the normalize batch step's floats
// bit for bit (on kernel and sharp samples alike); batch buffers are recycled, but never while a
// tensor still views one; the batches do not depend on the worker (kernel thread) count; manifests,
// WebDataset shards and packed JPEG shards take the same path as a folder.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { writeTar } from '../../../src/data/formats/tar.js';
import { DataLoader } from '../../../src/data/loader/index.js';
import { packDataset } from '../../../src/data/pack/index.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { manifest } from '../../../src/data/sources/manifest.js';
import { packedDataset } from '../../../src/data/sources/packed.js';
import { webDataset } from '../../../src/data/sources/webdataset.js';
import { normalize, randomErasing, toFloat } from '../../../src/data/transforms/batch.js';
import { compose } from '../../../src/data/transforms/index.js';
import { disposeBatch, type Batch } from '../../../src/data/types.js';
import { native } from '../../../src/tensor/native.js';
import { scope } from '../../../src/tensor/index.js';
import { psnr, tempDir, writeJpeg } from '../image/jpeg-fixtures.js';
import { collect } from './fixtures/collect.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const rrcFlip = (size: number) => compose({ transforms: [{ type: 'randomResizedCrop', size }, { type: 'horizontalFlip' }] });

let root: string;
const jpegs: string[] = [];
before(async () => {
  root = tempDir();
  for (let k = 0; k < 14; k++) {
    const dir = join(root, `c${k % 3}`);
    mkdirSync(dir, { recursive: true });
    jpegs.push(await writeJpeg(dir, `p${String(k).padStart(2, '0')}.jpg`, k % 4 === 0 ? 'progressive' : '420', 70 + k, 160 + 11 * k, 120 + 5 * k));
  }
  // A PNG: the sharp path, written into its slot through the same table.
  writeFileSync(join(root, 'c0', 'z.png'), await sharp(readFileSync(jpegs[1] as string)).png().toBuffer());
});

describe('fused normalisation', () => {
  it('equals the normalize (and toFloat) batch step on the same bytes, bit for bit, kernel and sharp samples alike', async () => {
    const ds = await imageFolder(root);
    for (const step of [normalize(MEAN, STD), toFloat()]) {
      const bytes = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 4, pipeline: rrcFlip(32), batchTransforms: [] });
      const fused = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 4, pipeline: rrcFlip(32), batchTransforms: [step, randomErasing({ p: 0.5 })] });
      assert.ok(fused.jpegPlan.native && fused.jpegPlan.fused === 1);
      const a = await collect(fused, 2);
      let b = 0;
      for await (const batch of bytes.epoch(2)) {
        // The unfused way: the bytes, then the same transforms at the same positions.
        const want = scope(() => {
          const ctx = { seed: 4, epoch: 2, batch: b, indices: [...batch.indices] };
          const x = step({ x: batch.x, y: batch.y }, { ...ctx, position: 0 });
          return Array.from(randomErasing({ p: 0.5 })(x, { ...ctx, position: 1 }).x.data() as Float32Array);
        });
        disposeBatch(batch);
        assert.equal(a[b]?.dtype, 'float32');
        assert.deepEqual(a[b]?.x, want, `batch ${b}`);
        b++;
      }
      assert.equal(b, a.length);
      assert.ok(fused.decoded.pipeline >= 1 && fused.decoded.kernel >= 14, JSON.stringify(fused.decoded));
    }
  });
});

describe('batch buffers', () => {
  const users = (b: Batch) => native.storageOf(b.x.handle);

  it('are recycled once the consumer disposes a batch, also when it asks for batches inside memory scopes', async () => {
    const ds = await imageFolder(root);
    const loader = new DataLoader(ds, { batchSize: 2, prefetch: 2, pipeline: rrcFlip(24), batchTransforms: [] });
    for (const epoch of [0, 1]) {
      const storages = new Set<string>();
      let batches = 0;
      // Each batch asked for inside a scope of its own, as a training step does: the loader's own
      // tensors made meanwhile must outlive it.
      const it = loader.epoch(epoch)[Symbol.asyncIterator]();
      for (;;) {
        const done = await scope(async () => {
          const r = await it.next();
          if (r.done) return true;
          storages.add(users(r.value).id);
          batches++;
          disposeBatch(r.value);
          return false;
        });
        if (done) break;
      }
      assert.equal(batches, 8);
      assert.ok(storages.size <= 4, `${storages.size} buffers for ${batches} batches: at most prefetch + 2`);
    }
  });

  it('are never reused while a tensor still views one: kept batches keep their bytes', async () => {
    const ds = await imageFolder(root);
    const loader = new DataLoader(ds, { batchSize: 2, prefetch: 2, pipeline: rrcFlip(24), batchTransforms: [] });
    const kept: { batch: Batch; view: ReturnType<Batch['x']['narrow']>; bytes: number[] }[] = [];
    const ids = new Map<string, number>();
    let b = 0;
    for await (const batch of loader.epoch(0)) {
      const { id } = users(batch);
      // A buffer still viewed by a kept batch (or a view of one) is never handed out again.
      assert.ok(!kept.some((k) => native.storageOf(k.view.handle).id === id), `batch ${b} landed in memory a kept batch still views`);
      ids.set(id, (ids.get(id) ?? 0) + 1);
      if (b % 2 === 0) {
        // Keep every other batch alive only through a view of it: disposing the batch itself must not free the memory.
        const view = batch.x.narrow(0, 0, 1);
        kept.push({ batch, view, bytes: Array.from(batch.x.data() as Uint8Array) });
        disposeBatch(batch);
      } else disposeBatch(batch);
      b++;
    }
    for (const k of kept) assert.deepEqual(Array.from(k.view.data() as Uint8Array), k.bytes.slice(0, k.bytes.length / 2), 'a kept view still holds its batch');
    for (const k of kept) k.view.dispose();
    assert.ok([...ids.values()].some((n) => n > 1), 'the disposed batches\' buffers were reused');
  });
});

describe('threads and sources', () => {
  it('gives the same batches for 0, 1 and 3 workers', async () => {
    const ds = await imageFolder(root);
    const runs = [];
    for (const workers of [0, 1, 3]) {
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 9, workers, pipeline: rrcFlip(28), batchTransforms: [normalize(MEAN, STD)] });
      runs.push(await collect(loader, 1));
      await loader.close();
      assert.equal(loader.jpegPlan.native && loader.jpegPlan.threads, Math.max(1, workers));
    }
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
  });

  it('a CSV manifest of the folder\'s files gives the folder\'s batches, through the kernel', async () => {
    const folder = await imageFolder(root);
    const labels = folder.labels();
    const csv = join(tempDir(), 'm.csv');
    writeFileSync(csv, ['path,label', ...folder.paths.map((p, i) => `${p},${folder.classes[labels[i] as number] as string}`)].join('\n') + '\n');
    const m = await manifest(csv);
    assert.deepEqual(m.classes, folder.classes);
    const opts = { batchSize: 4, seed: 6, pipeline: rrcFlip(32), batchTransforms: [normalize(MEAN, STD)] };
    const fromManifest = new DataLoader(m, opts);
    const fromFolder = new DataLoader(folder, opts);
    const [a, b] = [await collect(fromManifest, 0), await collect(fromFolder, 0)];
    assert.deepEqual(a.map((x) => x.x), b.map((x) => x.x), 'same pixels, sample for sample');
    assert.deepEqual(a.map((x) => x.y), b.map((x) => x.y));
    assert.equal(fromManifest.decoded.kernel, 14, 'the 14 JPEGs through the kernel');
    assert.equal(fromManifest.decoded.pipeline, 1, 'the PNG through sharp');
  });

  it('WebDataset shards give the folder\'s batches; packed JPEG shards go through the kernel too', async () => {
    const folder = await imageFolder(root);
    // The folder's samples in its order, as two shards (bytes straight from the tar stream).
    const entries = await Promise.all(folder.paths.map(async (p, i) => {
      const r = await folder.read(i);
      return [{ name: `s${String(i).padStart(3, '0')}.${p.endsWith('.png') ? 'png' : 'jpg'}`, data: (r.input as { bytes: Uint8Array }).bytes }, { name: `s${String(i).padStart(3, '0')}.cls`, data: String(r.label) }];
    }));
    const shards = join(tempDir(), 'shard-');
    await writeTar(`${shards}0.tar`, entries.slice(0, 8).flat());
    await writeTar(`${shards}1.tar`, entries.slice(8).flat());
    const wds = webDataset(`${shards}{0..1}.tar`, { classes: folder.classes, shuffleShards: false });
    const opts = { batchSize: 4, seed: 5, pipeline: rrcFlip(32), batchTransforms: [normalize(MEAN, STD)] };
    const fromShards = new DataLoader(wds, opts);
    const fromFolder = new DataLoader(folder, opts);
    const [a, b] = [await collect(fromShards, 0), await collect(fromFolder, 0)];
    assert.deepEqual(a.map((x) => x.x), b.map((x) => x.x), 'same pixels, sample for sample');
    assert.deepEqual(a.map((x) => x.y), b.map((x) => x.y));
    assert.equal(fromShards.decoded.kernel, 14);

    const packed = join(tempDir(), 'packed');
    const summary = await packDataset(folder, packed, { size: 64, rawMaxPixels: 0, channels: 'rgb' });
    assert.equal(summary.jpeg, 15, 'every sample stored as JPEG');
    const p = packedDataset(packed);
    const fast = new DataLoader(p, { ...opts, pipeline: rrcFlip(48), batchTransforms: [] });
    const slow = new DataLoader(p, { ...opts, pipeline: rrcFlip(48), batchTransforms: [], nativeJpeg: false });
    const [pf, ps] = [await collect(fast, 0), await collect(slow, 0)];
    assert.equal(fast.decoded.kernel, 15, 'the packed JPEGs (the PNG\'s included) went through the kernel');
    assert.deepEqual(pf.map((x) => x.ids), ps.map((x) => x.ids));
    pf.forEach((x, i) => assert.ok(psnr(Uint8Array.from(x.x), Uint8Array.from(ps[i]?.x ?? [])) > 28, `batch ${i} against the sharp path`));
  });
});

