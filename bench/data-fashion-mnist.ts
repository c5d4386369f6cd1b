// Data loading speed: Fashion-MNIST (60,000 × 28×28 uint8, from Debian's IDX files) into shuffled,
// normalized float32 batches of 128 — Tessera's DataLoader over an ArrayDataset (each batch one
// index_select, then normalize as two in-place tensor ops) against torch's DataLoader over a
// TensorDataset with num_workers=0 (per-sample indexing plus default_collate, then the same
// normalization). Both sides read the IDX files once before timing; a repetition is one epoch.
// Metric: images per second delivered to the consumer.
//
//   node dist/bench/data-fashion-mnist.js [--threads N] [--reps 5] [--batch 128]
import { DataLoader, tensorDataset } from '../src/data/loader/index.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, loadFashionMnist } from '../src/data/sources/fashion-mnist.js';
import { normalize } from '../src/data/transforms/batch.js';
import { disposeBatch } from '../src/data/types.js';
import { memoryStats, setNumThreads } from '../src/index.js';
import {
  defaultThreads, describeEngines, describeLoad, describeStats, fmt, interleaveN, parseFlags, Peer, resultLine, stats, type PeerInfo,
} from './lib/harness.js';

const flags = parseFlags(
  { threads: defaultThreads(), reps: 5, batch: 128, seed: 0 },
  'node dist/bench/data-fashion-mnist.js: Fashion-MNIST IDX → normalized batches, Tessera DataLoader vs torch DataLoader(TensorDataset)',
);
const MEAN = 0.286;
const STD = 0.353;

setNumThreads(flags.threads);
const peer = Peer.start('data_fashion_mnist.py');
let failed = false;
try {
  const info = await peer.call<PeerInfo & { load_s: number }>('init', { threads: flags.threads, dir: FASHION_MNIST_DIR, batch: flags.batch, mean: MEAN, std: STD });
  const t0 = performance.now();
  const raw = loadFashionMnist('train');
  const data = tensorDataset(raw.images, raw.labels, { shape: [raw.count, raw.height, raw.width], classes: FASHION_MNIST_CLASSES, name: 'fashion-mnist/train' });
  const loadS = (performance.now() - t0) / 1000;
  console.log('Fashion-MNIST train: IDX → normalized float32 batches of', flags.batch, '(shuffled), one epoch per repetition');
  console.log(describeEngines(peer, info));
  console.log(`reading the IDX files (gunzip + parse): Tessera ${loadS.toFixed(2)} s, PyTorch ${info.load_s.toFixed(2)} s (not timed)`);

  const batchTransforms = [normalize([MEAN], [STD])];
  const plain = new DataLoader(data, { batchSize: flags.batch, batchTransforms });
  const shuffled = new DataLoader(data, { batchSize: flags.batch, shuffle: true, seed: flags.seed, batchTransforms });

  // Numerics: the first unshuffled batch must be the same numbers on both sides.
  const theirs = await peer.call<{ shape: number[]; x_sum: number; y_sum: number }>('check');
  for await (const b of plain.epoch(0)) {
    const xSum = Array.from(b.x.data() as Float32Array).reduce((a, v) => a + v, 0);
    const ySum = Array.from(b.y.data() as BigInt64Array).reduce((a, v) => a + Number(v), 0);
    const ok = JSON.stringify(b.x.shape) === JSON.stringify(theirs.shape) && Math.abs(xSum - theirs.x_sum) <= 1e-4 * Math.abs(theirs.x_sum) && ySum === theirs.y_sum;
    console.log(`numerics: first batch [${b.x.shape}] sum x ${xSum.toFixed(3)} vs ${theirs.x_sum.toFixed(3)}, sum y ${ySum} vs ${theirs.y_sum}: ${ok ? 'same' : 'DIFFERENT'}`);
    if (!ok) failed = true;
    disposeBatch(b);
    break;
  }

  let epoch = 0;
  const ours = async (): Promise<number> => {
    let n = 0;
    const t = performance.now();
    for await (const b of shuffled.epoch(epoch++)) {
      n += b.x.shape[0] as number;
      disposeBatch(b);
    }
    return n / ((performance.now() - t) / 1000);
  };
  await ours(); // warm-up
  await peer.call('rep');
  const live = memoryStats().liveTensors;
  const r = await interleaveN({
    reps: flags.reps,
    sides: [
      { label: 'Tessera', run: ours },
      { label: 'PyTorch', run: async () => (await peer.call<{ rate: number }>('rep')).rate },
    ],
    pids: () => [peer.pid],
    onRep: (i, side, v) => console.log(`  rep ${i + 1} ${side === 0 ? 'Tessera' : 'PyTorch'}: ${fmt(v)} img/s`),
  });
  if (memoryStats().liveTensors !== live) {
    console.log(`LEAK: ${memoryStats().liveTensors - live} tensors left alive by the timed epochs`);
    failed = true;
  }
  const [o, p] = r.values.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`Tessera DataLoader(ArrayDataset): ${describeStats(o, 'img/s')}`);
  console.log(`PyTorch DataLoader(TensorDataset): ${describeStats(p, 'img/s')}`);
  console.log(describeLoad(r));
  data.dispose();
  console.log(resultLine('data-fashion-mnist', o.median, p.median, 'img/s'));
} finally {
  await peer.close();
}
if (failed) process.exitCode = 1;
