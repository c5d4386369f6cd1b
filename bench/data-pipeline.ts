// Per-sample data pipeline throughput on one core: decode a ~500×375 JPEG, RandomResizedCrop(224),
// horizontal flip, to 8-bit pixels. Tessera: compose() (decode and crop/resize fused in one sharp
// call, flip in JS) with sharp and libuv limited to one thread, one image at a time. Peer:
// torchvision's PIL path in one Python process (bench/peers/data_pipeline.py). Both read the same
// files from memory. Images per second; ratio > 1 means Tessera is faster.
//
//   node dist/bench/data-pipeline.js [--reps 5] [--images 300] [--files 64]
process.env.UV_THREADPOOL_SIZE ??= '1';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import { compose } from '../src/data/transforms/index.js';
import { describeLoad, describeStats, interleaveN, parseFlags, Peer, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ reps: 5, images: 300, files: 64 }, 'node dist/bench/data-pipeline.js: decode + RandomResizedCrop(224) + flip, img/s on one core, Tessera vs torchvision/PIL');
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
  let index = 0;
  const ours = async (): Promise<number> => {
    const t0 = performance.now();
    for (let k = 0; k < flags.images; k++) await pipeline.run({ kind: 'encoded', bytes: files[k % files.length] as Uint8Array }, { seed: 0, epoch: 0, index: index++ });
    return flags.images / ((performance.now() - t0) / 1000);
  };
  await ours(); // warm-up
  await peer.call('rep', { images: 50 });
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [process.pid, peer.pid],
    sides: [
      { label: 'tessera', run: ours },
      { label: 'torchvision', run: async () => (await peer.call<{ rate: number }>('rep', { images: flags.images })).rate },
    ],
  });
  const [o, p] = r.values.map((v) => stats(v)) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`tessera      ${describeStats(o, 'img/s')}`);
  console.log(`torchvision  ${describeStats(p, 'img/s')}`);
  console.log(describeLoad(r));
  console.log(resultLine('data_pipeline_rrc224_flip_1core', o.median, p.median, 'img/s'));
} finally {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
