// An image folder into augmented batches (issue item 11(a)): ~500×375 photo-like JPEGs in 10 class
// folders → decode → RandomResizedCrop(224) + horizontal flip → normalized float32 N×3×224×224
// batches of 64. Images per second over one full shuffled pass (after a warm-up pass).
//
// Tessera: imageFolder() + compose({ decode: { channels: 'rgb' }, transforms: [randomResizedCrop,
// horizontalFlip] }) + DataLoader with batchTransforms [normalize(mean, std)], timed with
// workers 0 (the pipeline runs in the main thread's async flow; sharp decodes on libuv's thread
// pool) and with workers 2 (worker threads run the pipeline; their sharp calls share the same
// pool). Both sides read the same files through the OS page cache.
// Peer (bench/peers/data_folder.py): torchvision ImageFolder + RandomResizedCrop(224) +
// RandomHorizontalFlip + ToTensor + Normalize in torch's DataLoader(batch_size=64, shuffle=True),
// timed with num_workers 0 and 2 (persistent workers, so no side pays process start-up per pass).
//
// Threads, for a 2-core machine: UV_THREADPOOL_SIZE=2 and sharp.concurrency(1), i.e. two images
// decode at once, each on one libvips thread. More libuv threads only oversubscribe the cores,
// and libvips' own threads help little on a 500×375 image. LibTorch (normalize) and the peer's
// torch get --threads (default: every core); the peer's DataLoader workers run with one torch
// thread each, as torch sets them.
//
// The RESULT line compares Tessera's better worker setting with the peer's better one (which is
// at least as strict as matching worker counts); all four are printed.
//
//   node dist/bench/data-folder.js [--images 512] [--reps 5] [--batch 64] [--uv 2] [--vips 1] [--threads N]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultThreads, describeEngines, describeLoad, describeStats, fmt, interleaveN, parseFlags, Peer, resultLine, stats, type PeerInfo, type Stats } from './lib/harness.js';

const flags = parseFlags(
  { images: 512, reps: 5, batch: 64, uv: 2, vips: 1, threads: defaultThreads(), seed: 0 },
  'node dist/bench/data-folder.js: image folder of JPEGs → RandomResizedCrop(224) + flip → normalized batches, Tessera DataLoader vs torchvision ImageFolder + torch DataLoader',
);
// libuv reads UV_THREADPOOL_SIZE when its pool first gets work, which nothing imported above does.
process.env.UV_THREADPOOL_SIZE = String(flags.uv);
const { default: sharp } = await import('sharp');
const { imageFolder } = await import('../src/data/sources/image-folder.js');
const { compose, horizontalFlip, randomResizedCrop } = await import('../src/data/transforms/index.js');
const { DataLoader } = await import('../src/data/loader/index.js');
const { normalize } = await import('../src/data/transforms/batch.js');
const { RandomStream } = await import('../src/data/random.js');
const { disposeBatch } = await import('../src/data/types.js');
const { memoryStats, setNumThreads } = await import('../src/index.js');

sharp.concurrency(flags.vips);
sharp.cache(false);
setNumThreads(flags.threads);
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const CLASSES = 10;

/**
 * Photo-like 500×375 JPEGs (quality 90): a smooth two-colour gradient, a few soft blobs of random
 * colour and size, a sinusoidal texture and sensor-like noise — enough detail that the JPEG has a
 * realistic size (~45 KB) and decode cost, unlike a flat synthetic image.
 */
async function writeImages(root: string, n: number): Promise<number> {
  const w = 500;
  const h = 375;
  let bytes = 0;
  const r = new RandomStream({ seed: 12345, purpose: 'test' });
  const rand = () => r.float();
  for (let c = 0; c < CLASSES; c++) mkdirSync(join(root, `class${c}`));
  const px = new Uint8Array(w * h * 3);
  for (let k = 0; k < n; k++) {
    const base = [rand() * 255, rand() * 255, rand() * 255, rand() * 255, rand() * 255, rand() * 255];
    const blobs = Array.from({ length: 4 }, () => ({ x: rand() * w, y: rand() * h, r: 30 + rand() * 120, c: [rand() * 255, rand() * 255, rand() * 255] }));
    const fx = 0.02 + rand() * 0.2;
    const fy = 0.02 + rand() * 0.2;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const t = (x + y) / (w + h);
        const tex = 18 * Math.sin(x * fx) * Math.cos(y * fy);
        const o = (y * w + x) * 3;
        for (let ch = 0; ch < 3; ch++) {
          let v = (base[ch] as number) * (1 - t) + (base[ch + 3] as number) * t + tex;
          for (const b of blobs) {
            const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
            if (d2 < 4) v += ((b.c[ch] as number) - v) * Math.exp(-d2);
          }
          px[o + ch] = Math.max(0, Math.min(255, v + (rand() - 0.5) * 24));
        }
      }
    const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(root, `class${k % CLASSES}`, `img${String(k).padStart(4, '0')}.jpg`), jpeg);
    bytes += jpeg.length;
  }
  return bytes;
}

/**
 * A batch is what it claims: N×3×224×224 float32, labels in range, and every value of the form
 * (v/255 − mean_c)/std_c for an integer v in [0, 255] (checked on a sample of values). Returns the
 * per-channel means of the batch, to compare with the peer's.
 */
function checkBatch(x: { shape: readonly number[]; dtype: string; data(): unknown }, y: { data(): unknown }, n: number): number[] {
  if (x.shape.join('x') !== `${n}x3x224x224` || x.dtype !== 'float32') throw new Error(`data-folder: batch is ${x.dtype} [${x.shape}], expected float32 [${n}, 3, 224, 224]`);
  const labels = Array.from(y.data() as BigInt64Array, Number);
  if (labels.some((l) => l < 0 || l >= CLASSES)) throw new Error(`data-folder: labels out of range: ${labels.join(',')}`);
  const xs = x.data() as Float32Array;
  const plane = 224 * 224;
  const means = [0, 0, 0];
  for (let i = 0; i < xs.length; i++) {
    const c = Math.floor(i / plane) % 3;
    means[c] = (means[c] as number) + (xs[i] as number);
    if (i % 997 === 0) {
      const v = ((xs[i] as number) * (STD[c] as number) + (MEAN[c] as number)) * 255;
      if (Math.abs(v - Math.round(v)) > 1e-2 || v < -0.01 || v > 255.01) throw new Error(`data-folder: value ${xs[i]} at ${i} is not a normalized 8-bit value (${v})`);
    }
  }
  return means.map((m) => m / (xs.length / 3));
}

/** The live child processes of `pid` (the peer's DataLoader workers), from /proc; [] where unreadable. */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

const root = mkdtempSync(join(tmpdir(), 'tessera-bench-folder-'));
const peer = Peer.start('data_folder.py');
let failed = false;
try {
  const t0 = performance.now();
  const bytes = await writeImages(root, flags.images);
  console.log(`wrote ${flags.images} JPEGs 500×375 (q90, ${(bytes / flags.images / 1024).toFixed(0)} KB each on average) in ${CLASSES} class folders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const info = await peer.call<PeerInfo>('setup', { threads: flags.threads, root, batch: flags.batch, seed: flags.seed, mean: MEAN, std: STD, workers: [0, 2] });
  console.log(describeEngines(peer, info));
  console.log(`Tessera: UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, sharp.concurrency(${sharp.concurrency()}), libvips ${sharp.versions.vips}`);

  const ds = await imageFolder(root);
  if (ds.length !== flags.images || ds.classes.length !== CLASSES) throw new Error(`imageFolder listed ${ds.length} files in ${ds.classes.length} classes, expected ${flags.images} in ${CLASSES}`);
  const pipeline = compose({ decode: { channels: 'rgb' }, transforms: [randomResizedCrop({ size: 224 }), horizontalFlip({})] });
  const loaders = [0, 2].map((workers) => new DataLoader(ds, { batchSize: flags.batch, shuffle: true, seed: flags.seed, pipeline, workers, batchTransforms: [normalize(MEAN, STD)] }));

  // Both sides' first batches are checked, and their per-channel means printed side by side.
  for (const [k, loader] of loaders.entries()) {
    for await (const b of loader.epoch(1000)) {
      const means = checkBatch(b.x, b.y, flags.batch);
      console.log(`check: Tessera workers ${k * 2}: first batch float32 [${b.x.shape}], normalized 8-bit values, channel means ${means.map((m) => m.toFixed(3)).join(' ')}`);
      disposeBatch(b);
      break;
    }
  }
  const theirs = await peer.call<{ shape: number[]; dtype: string; means: number[] }>('check');
  console.log(`check: torchvision: first batch ${theirs.dtype} [${theirs.shape}], channel means ${theirs.means.map((m) => m.toFixed(3)).join(' ')}`);
  if (theirs.shape.join('x') !== `${flags.batch}x3x224x224`) throw new Error(`peer batch has shape [${theirs.shape}]`);

  let epoch = 0;
  const pass = (loader: (typeof loaders)[number]) => async (): Promise<number> => {
    let n = 0;
    const t = performance.now();
    for await (const b of loader.epoch(epoch++)) {
      n += b.x.shape[0] as number;
      disposeBatch(b);
    }
    if (n !== flags.images) throw new Error(`a pass gave ${n} images, expected ${flags.images}`);
    return n / ((performance.now() - t) / 1000);
  };
  const peerPass = (workers: number) => async (): Promise<number> => (await peer.call<{ rate: number }>('rep', { workers })).rate;
  const sides = [
    { label: 'Tessera workers 0', run: pass(loaders[0] as (typeof loaders)[number]) },
    { label: 'Tessera workers 2', run: pass(loaders[1] as (typeof loaders)[number]) },
    { label: 'torch num_workers 0', run: peerPass(0) },
    { label: 'torch num_workers 2', run: peerPass(2) },
  ];
  for (const s of sides) await s.run(); // warm-up: one full pass each (starts every worker)
  const live = memoryStats().liveTensors;
  const r = await interleaveN({
    reps: flags.reps,
    sides,
    pids: () => [peer.pid, ...childPids(peer.pid)], // the peer's DataLoader worker processes are its children
    onRep: (i, k, v) => console.log(`  rep ${i + 1} ${(sides[k] as (typeof sides)[number]).label}: ${fmt(v)} img/s`),
  });
  if (memoryStats().liveTensors !== live) {
    console.log(`LEAK: ${memoryStats().liveTensors - live} tensors left alive by the timed passes`);
    failed = true;
  }
  const st = r.values.map(stats) as [Stats, Stats, Stats, Stats];
  sides.forEach((s, k) => console.log(`${s.label.padEnd(20)} ${describeStats(st[k] as Stats, 'img/s')}`));
  console.log(describeLoad(r));
  const oursK = st[1].median > st[0].median ? 1 : 0;
  const peerK = st[3].median > st[2].median ? 3 : 2;
  const ratio = (st[oursK] as Stats).median / (st[peerK] as Stats).median;
  console.log(`compared: ${(sides[oursK] as (typeof sides)[number]).label} (Tessera's better) against ${(sides[peerK] as (typeof sides)[number]).label} (the peer's better)`);
  console.log(`goal >= 1.0x (target 2x): ${ratio >= 2 ? 'target met' : ratio >= 1 ? 'goal met, target not' : 'NOT met'} (${ratio.toFixed(3)}x)`);
  for (const l of loaders) await l.close();
  console.log(resultLine('data-folder', (st[oursK] as Stats).median, (st[peerK] as Stats).median, 'img/s'));
} finally {
  await peer.close();
  rmSync(root, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
