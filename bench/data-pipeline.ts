// The per-sample data pipeline on one core: decode a ~500×375 JPEG, RandomResizedCrop(224),
// horizontal flip, to 8-bit pixels. Tessera: a DataLoader (batches of 64, uint8 out, so no
// normalisation on either side) over the files in memory, on the native JPEG path with one kernel
// thread (`workers: 1`: decode, crop, resize and flip in one call, straight into the batch); and,
// for comparison, the sharp path (compose() run per sample: decode and crop/resize fused in one
// sharp call, flip in JS) with sharp and libuv limited to one thread. Peer: torchvision's PIL path
// in one Python process (bench/peers/data_pipeline.py). Images per second; ratio > 1 means Tessera
// is faster. The RESULT line compares the native path with PIL.
//
//   node dist/bench/data-pipeline.js [--reps 5] [--images 320] [--files 64]
process.env.UV_THREADPOOL_SIZE ??= '1';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import { DataLoader } from '../src/data/loader/index.js';
import { compose } from '../src/data/transforms/index.js';
import { disposeBatch, type IndexedDataset } from '../src/data/types.js';
import { describeLoad, describeStats, interleaveN, parseFlags, Peer, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ reps: 5, images: 320, files: 64 }, 'node dist/bench/data-pipeline.js: decode + RandomResizedCrop(224) + flip, img/s on one core, Tessera (native JPEG path and sharp path) vs torchvision/PIL');
sharp.concurrency(1);
sharp.cache(false);

/** Photo-like test images: smooth gradients, a disc and mild noise, JPEG quality 90. */
async function makeImages(dir: string, n: number): Promise<void> {
  for (let k = 0; k < n; k++) {
    const w = 500;
    const h = 375;
    const px = new Uint8Array(w * h * 3);
    let seed = k * 7919 + 1;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const noise = (seed >>> 27) - 16;
        const o = (y * w + x) * 3;
        const disc = Math.hypot(x - w / 2 - k, y - h / 2) < 90 + k;
        px[o] = Math.min(255, Math.max(0, ((x + k * 13) % 256) + noise));
        px[o + 1] = Math.min(255, Math.max(0, ((y * 2 + k * 7) % 256) + noise));
        px[o + 2] = disc ? 200 : 60 + noise;
      }
    writeFileSync(join(dir, `img${String(k).padStart(3, '0')}.jpg`), await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-data-'));
const peer = Peer.start('data_pipeline.py', { OMP_NUM_THREADS: '1' });
try {
  await makeImages(dir, flags.files);
  const files = readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  await peer.call('setup', { threads: 1, folder: dir });
  const pipeline = compose({ transforms: [{ type: 'randomResizedCrop', size: 224 }, { type: 'horizontalFlip' }] });
  // `images` samples cycling over the files, read from memory.
  const ds: IndexedDataset = {
    kind: 'indexed', length: flags.images, classes: ['x'],
    labels: () => new Int32Array(flags.images),
    read: async (i) => ({ input: { kind: 'encoded', bytes: files[i % files.length] as Uint8Array }, label: 0, id: `img${i % files.length}` }),
    describe: () => `${flags.images} JPEGs in memory`,
  };
  const loader = new DataLoader(ds, { batchSize: 64, workers: 1, pipeline, batchTransforms: [] });
  if (!loader.jpegPlan.native) throw new Error(`the loader is not on the native JPEG path: ${loader.jpegPlan.describe()}`);
  let epoch = 0;
  const native = async (): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.epoch(epoch++)) {
      n += b.x.shape[0] as number;
      disposeBatch(b);
    }
    if (n !== flags.images) throw new Error(`a pass gave ${n} images, expected ${flags.images}`);
    return n / ((performance.now() - t0) / 1000);
  };
  let index = 0;
  const viaSharp = async (): Promise<number> => {
    const t0 = performance.now();
    for (let k = 0; k < flags.images; k++) await pipeline.run({ kind: 'encoded', bytes: files[k % files.length] as Uint8Array }, { seed: 0, epoch: 0, index: index++ });
    return flags.images / ((performance.now() - t0) / 1000);
  };
  await native(); // warm-up
  await viaSharp();
  await peer.call('rep', { images: 50 });
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [process.pid, peer.pid],
    sides: [
      { label: 'tessera native', run: native },
      { label: 'tessera sharp', run: viaSharp },
      { label: 'torchvision', run: async () => (await peer.call<{ rate: number }>('rep', { images: flags.images })).rate },
    ],
  });
  if (loader.decoded.pipeline !== 0) throw new Error(`${loader.decoded.pipeline} samples went through the sharp pipeline instead of the JPEG kernel`);
  const [o, sh, p] = r.values.map((v) => stats(v)) as [ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`tessera native (1 kernel thread)  ${describeStats(o, 'img/s')}`);
  console.log(`tessera sharp (1 libuv thread)    ${describeStats(sh, 'img/s')}`);
  console.log(`torchvision (PIL, 1 process)      ${describeStats(p, 'img/s')}`);
  console.log(describeLoad(r));
  console.log(`goal ≥ 2.0× PIL: ${o.median / p.median >= 2 ? 'met' : 'NOT met'} (${(o.median / p.median).toFixed(3)}×; the sharp path: ${(sh.median / p.median).toFixed(3)}×)`);
  console.log(resultLine('data_pipeline_rrc224_flip_1core', o.median, p.median, 'img/s'));
} finally {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
