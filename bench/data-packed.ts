// Reading packed samples into augmented batches (issue item 11(b)): 32×32 RGB samples packed raw by
// `packDataset`, read back memory-mapped, RandomCrop(32, padding=4) + RandomHorizontalFlip, to
// float32 N×3×32×32 batches of 256 in [0, 1]. Images per second.
//
// Tessera: per batch, 256 shuffled reads from packedDataset() (each a copy out of the mapping) into
// one N×32×32×3 uint8 buffer; then the augmentation on the whole batch with LibTorch ops: pad, one
// gather (index_select) whose index, built in JS, applies every sample's crop and flip at once,
// permute to NCHW and convert to float.
// Peer (bench/peers/data_packed.py): the idiomatic PyTorch path — a Dataset over a numpy memmap of
// the same shard file, torchvision's RandomCrop(32, padding=4) and RandomHorizontalFlip on uint8
// tensors per sample, DataLoader(batch_size=256, shuffle=True, num_workers=0), then
// .float().div(255). The peer also times the same batched tensor ops written in Python (info only).
//
//   node dist/bench/data-packed.js [--samples 50000] [--batches 40] [--reps 5] [--threads N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { packDataset } from '../src/data/pack/index.js';
import { packedDataset } from '../src/data/sources/packed.js';
import type { IndexedDataset } from '../src/data/types.js';
import { constantPadNd, indexSelect, manualSeed, scope, setNumThreads, tensor, type Tensor } from '../src/index.js';
import { defaultThreads, describeEngines, describeLoad, describeStats, fmt, interleaveN, parseFlags, Peer, resultLine, stats, type PeerInfo } from './lib/harness.js';

const flags = parseFlags({ samples: 50_000, batches: 40, reps: 5, batch: 256, threads: defaultThreads() },
  'node dist/bench/data-packed.js: packed 32×32 RGB → RandomCrop(32, pad 4) + flip → float batches, img/s, Tessera vs PyTorch DataLoader');
const { samples: N, batch: B } = flags;
const S = 32;
const P = 4;
setNumThreads(flags.threads);
manualSeed(0);

/** N synthetic 32×32 RGB images (a per-sample gradient and noise) with labels 0..9, as pixels. */
function syntheticSource(n: number): IndexedDataset {
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
  return {
    kind: 'indexed', length: n, classes: Array.from({ length: 10 }, (_, i) => `c${i}`),
    labels: () => labels.slice(),
    describe: () => `${n} synthetic 32×32 RGB images`,
    async read(i) {
      const data = new Uint8Array(S * S * 3);
      let seed = i * 2654435761 + 1;
      for (let p = 0; p < data.length; p++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        data[p] = ((p >> 2) + i * 3 + (seed >>> 28)) & 255;
      }
      return { id: `synthetic[${i}]`, label: labels[i] as number, input: { kind: 'pixels', image: { data, width: S, height: S, channels: 3 } } };
    },
  };
}

/**
 * The gather index of RandomCrop(32, padding=4) + RandomHorizontalFlip(0.5) for a batch of n: for
 * output pixel (k, y, x), the row of the padded batch viewed as (n·40·40, 3) that it copies. Each
 * sample draws its top and left offset (0..8) and its flip; a flipped row reads x from the right.
 */
function cropFlipIndex(n: number, next: () => number, out: Int32Array): Int32Array {
  const W = S + 2 * P;
  for (let k = 0, o = 0; k < n; k++) {
    const r = next();
    const top = (r & 0xfff) % (2 * P + 1);
    const left = ((r >>> 12) & 0xfff) % (2 * P + 1);
    const flip = r >>> 31;
    for (let y = 0; y < S; y++) {
      const row = (k * W + top + y) * W + left;
      if (flip) for (let x = S - 1; x >= 0; x--) out[o++] = row + x;
      else for (let x = 0; x < S; x++) out[o++] = row + x;
    }
  }
  return out;
}

/** Crops and flips a uint8 (n, 32, 32, 3) batch with one gather; returns float32 (n, 3, 32, 32) in [0, 1]. */
function augment(x: Tensor, gather: Int32Array): Tensor {
  const n = x.shape[0] as number;
  const W = S + 2 * P;
  return scope(() => {
    const padded = constantPadNd(x, [0, 0, P, P, P, P]); // (n, 40, 40, 3), zeros around
    const crops = indexSelect(padded.view([n * W * W, 3]), 0, tensor(gather)); // (n·32·32, 3)
    return crops.view([n, S, S, 3]).permute([0, 3, 1, 2]).contiguous().to('float32').div_(255); // (n, 3, 32, 32)
  });
}

/** Whether `row` (3×32×32 float in [0, 1]) is a padded crop, flipped or not, of the HWC sample `src`. */
function isCropOf(row: Float32Array, src: Uint8Array): boolean {
  const px = (y: number, x: number, c: number) => (y < 0 || y >= S || x < 0 || x >= S ? 0 : (src[(y * S + x) * 3 + c] as number));
  for (let top = -P; top <= P; top++)
    for (let left = -P; left <= P; left++)
      for (const flipped of [false, true]) {
        let ok = true;
        for (let c = 0; c < 3 && ok; c++)
          for (let y = 0; y < S && ok; y++)
            for (let x = 0; x < S && ok; x++)
              ok = Math.round((row[(c * S + y) * S + x] as number) * 255) === px(top + y, left + (flipped ? S - 1 - x : x), c);
        if (ok) return true;
      }
  return false;
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-packed-'));
const peer = Peer.start('data_packed.py', { OMP_NUM_THREADS: String(flags.threads) });
try {
  const packed = await packDataset(syntheticSource(N), dir, { concurrency: 8 });
  if (packed.raw !== N || packed.shards !== 1) throw new Error(`expected ${N} raw samples in one shard, got ${packed.raw} raw in ${packed.shards} shards`);
  console.log(`packed ${fmt(N)} samples (${(packed.bytes / 1e6).toFixed(1)} MB, one shard) in ${packed.seconds.toFixed(1)} s: ${fmt(N / packed.seconds)} samples/s`);
  const ds = packedDataset(dir);
  const labelsAll = ds.labels();
  const info = await peer.call<PeerInfo>('setup', { threads: flags.threads, shard: join(dir, 'shard-00000.bin'), index: join(dir, 'index.json'), n: N, batch: B });
  console.log(describeEngines(peer, info));

  // One epoch's order at a time, reshuffled (Fisher–Yates) when it runs out; the last partial batch is dropped, as drop_last.
  const order = Int32Array.from({ length: N }, (_, i) => i);
  let at = N;
  let rng = 12345;
  const nextIndices = (): Int32Array => {
    if (at + B > N) {
      for (let i = N - 1; i > 0; i--) {
        rng = (rng * 1103515245 + 12345) >>> 0;
        const j = rng % (i + 1);
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      at = 0;
    }
    at += B;
    return order.subarray(at - B, at);
  };
  const buf = new Uint8Array(B * S * S * 3);
  const gather = new Int32Array(B * S * S);
  let state = 0x9e3779b9;
  const draw = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const ys = new BigInt64Array(B);
  const oneBatch = async (): Promise<[Tensor, Tensor, Int32Array]> => {
    const idx = nextIndices();
    for (let k = 0; k < B; k++) {
      const r = await ds.read(idx[k] as number);
      if (r.input.kind !== 'pixels') throw new Error(`${r.id} is not raw`);
      buf.set(r.input.image.data, k * S * S * 3);
      ys[k] = BigInt(labelsAll[idx[k] as number] as number);
    }
    const x = tensor(buf, { shape: [B, S, S, 3] });
    const xf = augment(x, cropFlipIndex(B, draw, gather));
    x.dispose();
    return [xf, tensor(ys), idx];
  };
  const ours = async (): Promise<number> => {
    const t0 = performance.now();
    for (let b = 0; b < flags.batches; b++) {
      const [x, y] = await oneBatch();
      x.dispose();
      y.dispose();
    }
    return (flags.batches * B) / ((performance.now() - t0) / 1000);
  };

  // A check that the batches are what they claim: every row is one of the 9×9×2 crops of its sample.
  const [x0, y0, chosen] = await oneBatch();
  if (x0.shape.join('x') !== `${B}x3x${S}x${S}` || x0.dtype !== 'float32' || y0.shape[0] !== B) throw new Error(`bad batch ${x0.shape} ${x0.dtype}`);
  const xs = x0.data() as Float32Array;
  for (const k of [0, 1, 2, 3, B - 1]) {
    const src = ((await ds.read(chosen[k] as number)).input as { image: { data: Uint8Array } }).image.data;
    if (!isCropOf(xs.subarray(k * 3 * S * S, (k + 1) * 3 * S * S), src)) throw new Error(`batch row ${k} is no crop of sample ${chosen[k]}`);
  }
  x0.dispose();
  y0.dispose();

  await ours(); // warm-up
  await peer.call('rep', { batches: 5, mode: 'dataloader' });
  await peer.call('rep', { batches: 5, mode: 'batched' });
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [process.pid, peer.pid],
    sides: [
      { label: 'tessera', run: ours },
      { label: 'dataloader', run: async () => (await peer.call<{ rate: number }>('rep', { batches: flags.batches, mode: 'dataloader' })).rate },
      { label: 'batched', run: async () => (await peer.call<{ rate: number }>('rep', { batches: flags.batches, mode: 'batched' })).rate },
    ],
  });
  const [o, p, pb] = r.values.map((v) => stats(v)) as [ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`tessera (packedDataset + batch tensor ops)          ${describeStats(o, 'img/s')}`);
  console.log(`PyTorch DataLoader (memmap, torchvision per sample)  ${describeStats(p, 'img/s')}`);
  console.log(`PyTorch batched tensor ops on the memmap (info)      ${describeStats(pb, 'img/s')}`);
  console.log(describeLoad(r));
  console.log(resultLine('data-packed', o.median, p.median, 'img/s'));
} finally {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
