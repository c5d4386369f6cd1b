// The photo-loading benchmarks (bench/data-folder.ts, data-eval.ts, data-camera.ts,
// data-packed-jpeg.ts): photo-like JPEGs → a transform recipe → normalized float32 batches,
// Tessera's DataLoader against torch's DataLoader with torchvision transforms
// (bench/peers/data_folder.py) on the same files, each side at its best worker count.
//
// Recipes: 'train' is RandomResizedCrop(224) + RandomHorizontalFlip, 'eval' is Resize(256) +
// CenterCrop(224); both end in Normalize(ImageNet mean, std). Sources: 'folder' is an image folder
// (10 class folders), 'packed' the same images packed by `packDataset(size 224)` into JPEG shards
// that both sides read memory-mapped (the peer through a Dataset over the same index.json).
//
// Tessera is timed with each worker count of `workers`; on the native JPEG path a loader with
// `workers: N` decodes on N kernel threads (at least 1). It is also timed once on the sharp path
// (nativeJpeg: false, the better worker count of the two), for the speed-up the kernel gives.
// During Tessera's passes the event loop's delay is sampled (perf_hooks, 1 ms resolution): its
// p99 says whether a server or progress bar in the same process would stall while loading.
//
// Threads: UV_THREADPOOL_SIZE=uv and sharp.concurrency(vips) matter for the sharp side only.
// LibTorch (the batch steps) and the peer's torch get --threads; the peer's DataLoader workers run
// with one torch thread each, as torch sets them. The RESULT line compares Tessera's best side
// with the peer's best side.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { describeEngines, describeLoad, describeStats, fmt, interleaveN, Peer, resultLine, stats, type PeerInfo, type Stats } from './harness.js';

export interface FolderBenchOptions {
  /** The RESULT line's name. */
  name: string;
  recipe: 'train' | 'eval';
  source: 'folder' | 'packed';
  /** Size of the generated photos. */
  width: number;
  height: number;
  images: number;
  reps: number;
  batch: number;
  threads: number;
  seed: number;
  uv: number;
  vips: number;
  /** Tessera worker counts to time (kernel threads: at least 1 each). */
  workers: number[];
  /** The peer's DataLoader worker counts. */
  peerWorkers: number[];
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const CLASSES = 10;

/**
 * Photo-like JPEGs (quality 90, 4:2:0 as cameras write them): a smooth two-colour gradient, soft
 * blobs of random colour and size and a sinusoidal texture, drawn at 500×375, resized to the
 * photo size and given per-pixel sensor-like noise at that size — so a 4000×3000 "camera photo"
 * has a realistic file size (a few MB) and decode cost. Returns the bytes written.
 */
async function writePhotos(root: string, n: number, w: number, h: number): Promise<number> {
  const { default: sharp } = await import('sharp');
  const { RandomStream } = await import('../../src/data/random.js');
  const [bw, bh] = [500, 375];
  const r = new RandomStream({ seed: 12345, purpose: 'test' });
  const rand = () => r.float();
  for (let c = 0; c < CLASSES; c++) mkdirSync(join(root, `class${c}`));
  const base = new Uint8Array(bw * bh * 3);
  let bytes = 0;
  let noise = 987654321;
  for (let k = 0; k < n; k++) {
    const colours = [rand() * 255, rand() * 255, rand() * 255, rand() * 255, rand() * 255, rand() * 255];
    const blobs = Array.from({ length: 4 }, () => ({ x: rand() * bw, y: rand() * bh, r: 30 + rand() * 120, c: [rand() * 255, rand() * 255, rand() * 255] }));
    const fx = 0.02 + rand() * 0.2;
    const fy = 0.02 + rand() * 0.2;
    for (let y = 0; y < bh; y++)
      for (let x = 0; x < bw; x++) {
        const t = (x + y) / (bw + bh);
        const tex = 18 * Math.sin(x * fx) * Math.cos(y * fy);
        for (let ch = 0; ch < 3; ch++) {
          let v = (colours[ch] as number) * (1 - t) + (colours[ch + 3] as number) * t + tex;
          for (const b of blobs) {
            const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.r * b.r);
            if (d2 < 4) v += ((b.c[ch] as number) - v) * Math.exp(-d2);
          }
          base[(y * bw + x) * 3 + ch] = Math.max(0, Math.min(255, v));
        }
      }
    const px = w === bw && h === bh ? Uint8Array.from(base) : new Uint8Array(await sharp(base, { raw: { width: bw, height: bh, channels: 3 } }).resize(w, h, { fit: 'fill' }).raw().toBuffer());
    for (let i = 0; i < px.length; i++) {
      noise = (Math.imul(noise, 1103515245) + 12345) >>> 0;
      px[i] = Math.max(0, Math.min(255, (px[i] as number) + ((noise >>> 24) % 25) - 12));
    }
    const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(root, `class${k % CLASSES}`, `img${String(k).padStart(5, '0')}.jpg`), jpeg);
    bytes += jpeg.length;
  }
  return bytes;
}

/** N×3×224×224 float32, labels in range, values of the form (v/255 − mean_c)/std_c (sampled). Returns the channel means. */
function checkBatch(x: { shape: readonly number[]; dtype: string; data(): unknown }, y: { data(): unknown }, n: number): number[] {
  if (x.shape.join('x') !== `${n}x3x224x224` || x.dtype !== 'float32') throw new Error(`batch is ${x.dtype} [${x.shape}], expected float32 [${n}, 3, 224, 224]`);
  const labels = Array.from(y.data() as BigInt64Array, Number);
  if (labels.some((l) => l < 0 || l >= CLASSES)) throw new Error(`labels out of range: ${labels.join(',')}`);
  const xs = x.data() as Float32Array;
  const plane = 224 * 224;
  const means = [0, 0, 0];
  for (let i = 0; i < xs.length; i++) {
    const c = Math.floor(i / plane) % 3;
    means[c] = (means[c] as number) + (xs[i] as number);
    if (i % 997 === 0) {
      const v = ((xs[i] as number) * (STD[c] as number) + (MEAN[c] as number)) * 255;
      if (Math.abs(v - Math.round(v)) > 1e-2 || v < -0.01 || v > 255.01) throw new Error(`value ${xs[i]} at ${i} is not a normalized 8-bit value (${v})`);
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

export async function runFolderBench(o: FolderBenchOptions): Promise<void> {
  if (o.images < Math.max(CLASSES, o.batch)) throw new Error(`--images must be at least ${Math.max(CLASSES, o.batch)} (one per class folder, and one full batch)`);
  // libuv reads UV_THREADPOOL_SIZE when its pool first gets work, which nothing imported so far does.
  process.env.UV_THREADPOOL_SIZE = String(o.uv);
  const { default: sharp } = await import('sharp');
  const { imageFolder } = await import('../../src/data/sources/image-folder.js');
  const { packedDataset } = await import('../../src/data/sources/packed.js');
  const { packDataset } = await import('../../src/data/pack/index.js');
  const { compose } = await import('../../src/data/transforms/index.js');
  const { DataLoader } = await import('../../src/data/loader/index.js');
  const { normalize } = await import('../../src/data/transforms/batch.js');
  const { disposeBatch } = await import('../../src/data/types.js');
  const { memoryStats, setNumThreads } = await import('../../src/index.js');
  sharp.concurrency(o.vips);
  sharp.cache(false);
  setNumThreads(o.threads);

  const root = mkdtempSync(join(tmpdir(), `tessera-bench-${o.name}-`));
  const peer = Peer.start('data_folder.py');
  let failed = false;
  try {
    const t0 = performance.now();
    const folder = join(root, 'folder');
    mkdirSync(folder);
    const bytes = await writePhotos(folder, o.images, o.width, o.height);
    console.log(`wrote ${o.images} photo-like JPEGs ${o.width}×${o.height} (q90, ${(bytes / o.images / 1024).toFixed(0)} KB each on average) in ${CLASSES} class folders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let data = join(root, 'folder');
    if (o.source === 'packed') {
      data = join(root, 'packed');
      const s = await packDataset(await imageFolder(folder), data, { size: 224, channels: 'rgb', rawMaxPixels: 0 });
      console.log(`packed them at 224 (Resize + CenterCrop) into ${s.shards} JPEG shard(s), ${(s.bytes / 1e6).toFixed(1)} MB, in ${s.seconds.toFixed(1)} s (${fmt(s.count / s.seconds)} samples/s)`);
    }
    const info = await peer.call<PeerInfo>('setup', { threads: o.threads, root: data, batch: o.batch, seed: o.seed, mean: MEAN, std: STD, workers: o.peerWorkers, recipe: o.recipe, source: o.source });
    console.log(describeEngines(peer, info));
    console.log(`Tessera: UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, sharp.concurrency(${sharp.concurrency()}), libvips ${sharp.versions.vips} (the sharp side)`);

    const ds = o.source === 'packed' ? packedDataset(data) : await imageFolder(data);
    if (ds.length !== o.images || ds.classes.length !== CLASSES) throw new Error(`the source has ${ds.length} samples in ${ds.classes.length} classes, expected ${o.images} in ${CLASSES}`);
    const transforms = o.recipe === 'train'
      ? [{ type: 'randomResizedCrop' as const, size: 224 }, { type: 'horizontalFlip' as const }]
      : [{ type: 'resize' as const, size: 256 }, { type: 'centerCrop' as const, size: 224 }];
    const pipeline = compose({ decode: { channels: 'rgb' }, transforms });
    const make = (workers: number, nativeJpeg: boolean) => new DataLoader(ds, { batchSize: o.batch, shuffle: true, seed: o.seed, pipeline, workers, nativeJpeg, batchTransforms: [normalize(MEAN, STD)] });
    const ours = o.workers.map((w) => ({ label: `Tessera workers ${w}`, loader: make(w, true) }));
    const sharpSide = { label: `Tessera sharp path, workers ${Math.max(...o.workers)}`, loader: make(Math.max(...o.workers), false) };
    console.log(`Tessera plan: ${ours[0]?.loader.jpegPlan.describe()}`);

    for (const s of [...ours, sharpSide]) {
      for await (const b of s.loader.epoch(1000)) {
        const means = checkBatch(b.x, b.y, o.batch);
        console.log(`check: ${s.label}: first batch float32 [${b.x.shape}], normalized 8-bit values, channel means ${means.map((m) => m.toFixed(3)).join(' ')}`);
        disposeBatch(b);
        break;
      }
    }
    const theirs = await peer.call<{ shape: number[]; dtype: string; means: number[] }>('check');
    console.log(`check: torchvision: first batch ${theirs.dtype} [${theirs.shape}], channel means ${theirs.means.map((m) => m.toFixed(3)).join(' ')}`);
    if (theirs.shape.join('x') !== `${o.batch}x3x224x224`) throw new Error(`peer batch has shape [${theirs.shape}]`);

    let epoch = 0;
    const delays = new Map<string, number[]>();
    const pass = (label: string, loader: (typeof ours)[number]['loader']) => async (): Promise<number> => {
      let n = 0;
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t = performance.now();
      for await (const b of loader.epoch(epoch++)) {
        n += b.x.shape[0] as number;
        disposeBatch(b);
      }
      const rate = n / ((performance.now() - t) / 1000);
      h.disable();
      delays.set(label, [...(delays.get(label) ?? []), h.percentile(99) / 1e6]);
      if (n !== o.images) throw new Error(`a pass gave ${n} images, expected ${o.images}`);
      return rate;
    };
    const sides = [
      ...[...ours, sharpSide].map((s) => ({ label: s.label, run: pass(s.label, s.loader) })),
      ...o.peerWorkers.map((w) => ({ label: `torch num_workers ${w}`, run: async () => (await peer.call<{ rate: number }>('rep', { workers: w })).rate })),
    ];
    for (const s of sides) await s.run(); // warm-up: one full pass each (starts every worker)
    delays.clear();
    const live = memoryStats().liveTensors;
    const pipelineBefore = ours.map((s) => s.loader.decoded.pipeline);
    const r = await interleaveN({
      reps: o.reps,
      sides,
      pids: () => [peer.pid, ...childPids(peer.pid)],
      onRep: (i, k, v) => console.log(`  rep ${i + 1} ${(sides[k] as (typeof sides)[number]).label}: ${fmt(v)} img/s`),
    });
    if (memoryStats().liveTensors !== live) {
      console.log(`LEAK: ${memoryStats().liveTensors - live} tensors left alive by the timed passes`);
      failed = true;
    }
    ours.forEach((s, k) => {
      const viaSharp = s.loader.decoded.pipeline - (pipelineBefore[k] as number);
      if (viaSharp !== 0) {
        console.log(`NOT NATIVE: ${s.label} sent ${viaSharp} samples through the sharp pipeline instead of the JPEG kernel`);
        failed = true;
      }
    });
    const st = r.values.map(stats) as Stats[];
    sides.forEach((s, k) => {
      const d = delays.get(s.label);
      console.log(`${s.label.padEnd(34)} ${describeStats(st[k] as Stats, 'img/s')}${d ? `; event-loop delay p99 ${fmt(stats(d).median)} ms (max over passes ${fmt(Math.max(...d))} ms)` : ''}`);
    });
    console.log(describeLoad(r));
    const best = (from: number, to: number) => st.slice(from, to).reduce((b, s, k) => ((s.median > (st[b] as Stats).median) ? from + k : b), from);
    const oursK = best(0, ours.length);
    const peerK = best(ours.length + 1, sides.length);
    const ratio = (st[oursK] as Stats).median / (st[peerK] as Stats).median;
    console.log(`speed-up of the native path over the sharp path: ${((st[oursK] as Stats).median / (st[ours.length] as Stats).median).toFixed(2)}×`);
    console.log(`compared: ${sides[oursK]?.label} (Tessera's best) against ${sides[peerK]?.label} (the peer's best)`);
    const p99 = Math.max(...ours.map((s) => stats(delays.get(s.label) ?? [0]).median));
    console.log(`goals: ratio ≥ 2.0×: ${ratio >= 2 ? 'met' : 'NOT met'} (${ratio.toFixed(3)}×); event-loop p99 < 20 ms: ${p99 < 20 ? 'met' : 'NOT met'} (${fmt(p99)} ms)`);
    for (const s of [...ours, sharpSide]) await s.loader.close();
    console.log(resultLine(o.name, (st[oursK] as Stats).median, (st[peerK] as Stats).median, 'img/s'));
  } finally {
    await peer.close();
    rmSync(root, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}
