// The native JPEG kernel against torchvision's PIL path, per image, on one core. Tessera:
// decodeJpegBatch with one native thread, batches of 64 written as normalised float32 into one
// buffer, crop parameters drawn in JS as the loader will (probeJpeg + randomResizedCropBox + flip).
// Peer: Image.open → convert('RGB') → transforms → ToTensor → Normalize per image
// (bench/peers/jpeg_kernel.py). Both read the same files from memory. Three cases, one RESULT line
// each (images per second; ratio > 1 means Tessera is faster):
//   jpeg_rrc224_500px     RandomResizedCrop(224) + flip on 500×375 photo-like JPEGs
//   jpeg_rrc224_4000px    the same on 4000×3000 camera-sized JPEGs (where DCT scaling matters most)
//   jpeg_eval224_500px    Resize(256) + CenterCrop(224) on the 500×375 JPEGs
//
//   node dist/bench/jpeg-kernel.js [--reps 5] [--images 256] [--camera-images 16] [--files 32]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import { decodeJpegBatch, probeJpeg, resizeCenterCrop, type JpegSample } from '../src/data/image/jpeg-native.js';
import { RandomStream } from '../src/data/random.js';
import { randomResizedCropBox } from '../src/data/transforms/geometric.js';
import { describeLoad, describeStats, interleaveN, parseFlags, Peer, resultLine, stats } from './lib/harness.js';

const flags = parseFlags(
  { reps: 5, images: 256, 'camera-images': 16, files: 32 },
  'node dist/bench/jpeg-kernel.js: native JPEG kernel vs torchvision/PIL per image on one core (RRC-224 on 500×375 and 4000×3000, Resize 256 + CenterCrop 224)',
);
const BATCH = 64;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Photo-like JPEGs: smooth gradients, a disc, mild noise; quality 90, 4:2:0 (what cameras write). */
async function makeImages(dir: string, n: number, w: number, h: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let k = 0; k < n; k++) {
    const px = new Uint8Array(w * h * 3);
    let seed = k * 7919 + 1;
    const s = 500 / w; // patterns scale with the image, as a photo's content does
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const noise = (seed >>> 27) - 16;
        const o = (y * w + x) * 3;
        const disc = Math.hypot((x - w / 2) * s - k, (y - h / 2) * s) < 90 + k;
        px[o] = Math.min(255, Math.max(0, ((Math.floor(x * s) + k * 13) % 256) + noise));
        px[o + 1] = Math.min(255, Math.max(0, ((Math.floor(y * s) * 2 + k * 7) % 256) + noise));
        px[o + 2] = disc ? 200 : 60 + noise;
      }
    writeFileSync(join(dir, `img${String(k).padStart(3, '0')}.jpg`), await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
}

type Case = 'rrc' | 'eval';

const root = mkdtempSync(join(tmpdir(), 'tessera-bench-jpeg-'));
const peer = Peer.start('jpeg_kernel.py', { OMP_NUM_THREADS: '1' });
try {
  const small = join(root, 'small');
  const camera = join(root, 'camera');
  await makeImages(small, flags.files, 500, 375);
  await makeImages(camera, 4, 4000, 3000);
  const load = (dir: string) => readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const folders = { small: load(small), camera: load(camera) };
  await peer.call('setup', { threads: 1, folders_by_name: { small, camera } });

  const out = new Float32Array(BATCH * 3 * 224 * 224);
  let epoch = 0;
  /** One timed repetition: `images` samples in batches of 64, parameters drawn per sample. */
  const ours = async (files: Uint8Array[], kind: Case, images: number): Promise<number> => {
    const t0 = performance.now();
    epoch++;
    for (let done = 0; done < images; done += BATCH) {
      const samples: JpegSample[] = [];
      for (let k = done; k < Math.min(images, done + BATCH); k++) {
        const bytes = files[k % files.length] as Uint8Array;
        const info = probeJpeg(bytes, `img${k}`);
        if (!info) throw new Error(`img${k}: the generated JPEG has no readable header`);
        if (kind === 'eval') samples.push({ bytes, id: `img${k}`, ...resizeCenterCrop(info, 256, 224) });
        else {
          const rng = new RandomStream({ seed: 0, purpose: 'augment', epoch, index: k });
          samples.push({ bytes, id: `img${k}`, crop: randomResizedCropBox(info, rng, [0.08, 1], [3 / 4, 4 / 3]), flip: rng.bernoulli(0.5) });
        }
      }
      const errors = await decodeJpegBatch(samples, out.subarray(0, samples.length * 3 * 224 * 224), { width: 224, height: 224, normalize: { mean: MEAN, std: STD }, threads: 1 });
      const bad = errors.find((e) => e !== undefined);
      if (bad) throw bad;
    }
    return images / ((performance.now() - t0) / 1000);
  };

  const cases: { name: string; folder: 'small' | 'camera'; kind: Case; images: number }[] = [
    { name: 'jpeg_rrc224_500px', folder: 'small', kind: 'rrc', images: flags.images },
    { name: 'jpeg_rrc224_4000px', folder: 'camera', kind: 'rrc', images: flags['camera-images'] },
    { name: 'jpeg_eval224_500px', folder: 'small', kind: 'eval', images: flags.images },
  ];
  const results: string[] = [];
  for (const c of cases) {
    const files = folders[c.folder];
    const peerRep = async (images: number) => (await peer.call<{ rate: number }>('rep', { folder: c.folder, pipeline: c.kind, images })).rate;
    await ours(files, c.kind, Math.min(c.images, BATCH)); // warm-up: pool threads, first allocations
    await peerRep(Math.min(c.images, 16));
    const r = await interleaveN({
      reps: flags.reps,
      pids: () => [process.pid, peer.pid],
      sides: [
        { label: 'tessera', run: () => ours(files, c.kind, c.images) },
        { label: 'torchvision', run: () => peerRep(c.images) },
      ],
    });
    const [o, p] = r.values.map((v) => stats(v)) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
    console.log(`${c.name}`);
    console.log(`  tessera      ${describeStats(o, 'img/s')}`);
    console.log(`  torchvision  ${describeStats(p, 'img/s')}`);
    console.log(`  ${describeLoad(r)}`);
    results.push(resultLine(c.name, o.median, p.median, 'img/s'));
  }
  for (const line of results) console.log(line);
} finally {
  await peer.close();
  rmSync(root, { recursive: true, force: true });
}
