// The main job's data set-up (`tessera train` with no arguments): prepareRun + openRunData — open
// Fashion-MNIST (IDX → tensors), choose what the config leaves to the data, hold out the validation
// split, measure normalisation through the loader, build the loaders — then one epoch of its training
// batches. The peer is the floor of the same work done by hand: read the IDX files into an
// ArrayDataset and cut one epoch of shuffled, cropped, flipped and normalised batches with a bare
// DataLoader. A ratio near 1 says the pipeline costs nothing over the fast path (one tensor gather a
// batch, no per-sample reads or decodes). Metric: seconds from nothing to the end of epoch 1.
//
//   node dist/bench/data-setup.js [--reps 3] [--threads N]
import { resolveConfig } from '../src/config/load.js';
import { DataLoader, tensorDataset } from '../src/data/loader/index.js';
import { normalize, randomCropFlip } from '../src/data/transforms/batch.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../src/data/sources/fashion-mnist.js';
import { disposeBatch, type BatchSource } from '../src/data/types.js';
import { setNumThreads } from '../src/index.js';
import { openRunData, prepareRun } from '../src/run/data.js';
import { defaultThreads, describeLoad, describeStats, interleaveN, parseFlags, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ reps: 3, threads: defaultThreads() }, 'node dist/bench/data-setup.js: the main job\'s data set-up and first epoch of batches, against the bare fast path');
setNumThreads(flags.threads);

async function epoch(source: BatchSource): Promise<number> {
  let n = 0;
  for await (const b of source.epoch(0)) {
    n += b.x.shape[0] as number;
    disposeBatch(b);
  }
  return n;
}

async function ours(): Promise<number> {
  const t0 = performance.now();
  const { config, pipeline } = await prepareRun(resolveConfig());
  const data = await openRunData(config, { pipeline });
  const n = await epoch(data.train);
  await data.close();
  if (n !== 54_000) throw new Error(`expected 54,000 training images, got ${n}`);
  return (performance.now() - t0) / 1000;
}

async function floor(): Promise<number> {
  const t0 = performance.now();
  const raw = loadFashionMnist('train');
  const d = tensorDataset(raw.images, raw.labels, { shape: [raw.count, raw.height, raw.width], classes: FASHION_MNIST_CLASSES });
  const loader = new DataLoader(d, { batchSize: 128, shuffle: true, batchTransforms: [randomCropFlip({ padding: 2 }), normalize([0.286], [0.353])] });
  await epoch(loader);
  d.dispose();
  return (performance.now() - t0) / 1000;
}

console.log("main job data set-up (prepareRun + openRunData + epoch 1 of batches) vs the bare fast path (IDX → ArrayDataset → DataLoader epoch 1)");
const r = await interleaveN({ reps: flags.reps, sides: [{ label: 'pipeline', run: ours }, { label: 'bare', run: floor }], pids: () => [process.pid] });
const [a, b] = r.values.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
console.log(`tessera pipeline: ${describeStats(a, 's')}`);
console.log(`bare fast path:   ${describeStats(b, 's')}`);
console.log(describeLoad(r));
// The floor reads 60,000 images and cuts 60,000 into batches; the pipeline also holds out 6,000 and measures normalisation.
console.log(resultLine('data-setup', 1 / a.median, 1 / b.median, 'setups/s'));
