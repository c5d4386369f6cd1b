// A GAN run's data, through the one data pipeline (src/data/pipeline/): every image of the source
// (no held-out splits: the labels are not trained on, so a source of one class will do), resized on
// its shorter side and centre-cropped to the generator's square, grey or RGB, no augmentation (as the
// DCGAN example), scaled to the range of the generator's last activation — [-1, 1] for DCGAN's Tanh,
// [0, 1] for seed 001's ReLU — by the pipeline's normalisation step.
//
// The real images of the quality figure come from the source's own test part when it has one
// (Fashion-MNIST's 10,000), else from the training images: a random sample of them, drawn once from
// the run's seed, prepared exactly as the training batches are.
import { DataPipeline, type DataPipelineSpec } from '../../data/pipeline/pipeline.js';
import type { DataLoader } from '../../data/loader/loader.js';
import { RandomStream } from '../../data/random.js';
import { subset } from '../../data/subset.js';
import type { Dataset } from '../../data/types.js';
import type { DatasetStats } from '../../report/types.js';
import { imageSizeFor, type GanConfig, type GanModelName } from './config.js';

/** The value range of each generator's images (its last activation). */
export const IMAGE_RANGE: Record<GanModelName, readonly [number, number]> = { dcgan: [-1, 1], 'seed-gan': [0, 1] };

export interface GanData {
  pipeline: DataPipeline;
  train: DataLoader;
  channels: 1 | 3;
  size: number;
  range: readonly [number, number];
  stats: DatasetStats;
  /** What the data are, for the checkpoint fingerprint. */
  fingerprint: Record<string, unknown>;
  close(): Promise<void>;
}

function spec(config: GanConfig): DataPipelineSpec {
  const d = config.data;
  const [lo, hi] = IMAGE_RANGE[config.model.name];
  const t = config.train;
  return {
    source: { source: d.source, format: d.format },
    split: { val: 0, test: 0, stratify: false, seed: t.seed },
    image: {}, // filled in by openGanData once the source is probed
    augment: { cropPadding: 0, hflip: false, vflip: false, erasing: 0, mixup: 0, cutmix: 0 },
    // (x/255 − mean)/std maps [0, 1] onto [lo, hi].
    normalize: { mean: [-lo / (hi - lo)], std: [1 / (hi - lo)] },
    loader: { batchSize: t.batchSize, dropLast: false, workers: d.workers, badFiles: d.badFiles, seed: t.seed, sampler: 'random' },
    memoryFormat: 'contiguous',
  };
}

/**
 * Opens the source and decides the image size and channels the config leaves open (said through
 * `log`); returns the config with them filled in and the pipeline, not yet set up.
 */
export async function openGanPipeline(config: GanConfig, log: (line: string) => void): Promise<{ config: GanConfig; pipeline: DataPipeline; spec: DataPipelineSpec }> {
  const s = spec(config);
  const pipeline = await DataPipeline.open(s, { unlabelled: true, logger: { warn: (m: string) => log(`warning: ${m}`) } });
  try {
    for (const n of pipeline.notes) log(`data: ${n}`);
    const seen = pipeline.resolveImage();
    let size = config.data.imageSize;
    if (size === undefined) {
      const chosen = imageSizeFor(config.model.name, Math.min(seen.height, seen.width));
      size = chosen.size;
      log(`data: image size ${size}×${size} (${chosen.why}; --image-size to choose)`);
    }
    const channels = config.data.channels ?? (config.model.name === 'seed-gan' ? 3 : seen.channels);
    // What open() left to the data, decided: setup() reads it from the spec.
    s.image = { size: [size, size], channels };
    // The mean and std have one entry a channel.
    s.normalize = { mean: Array<number>(channels).fill(s.normalize?.mean[0] as number), std: Array<number>(channels).fill(s.normalize?.std[0] as number) };
    return { config: { ...config, data: { ...config.data, imageSize: size, channels } }, pipeline, spec: s };
  } catch (e) {
    pipeline.close();
    throw e;
  }
}

/** Sets the pipeline up and makes the training loader; the pipeline stays the caller's until this returns. */
export async function openGanData(config: GanConfig, pipeline: DataPipeline): Promise<GanData> {
  await pipeline.setup();
  const loaders = await pipeline.loaders(); // a test loader too, when the source has a test part: realSets samples that part itself
  const { train } = loaders;
  const set = pipeline.trainSet;
  const count = set.kind === 'indexed' ? set.length : (set.lengthHint ?? 0);
  const { channels, height: size } = pipeline;
  return {
    pipeline,
    train,
    channels,
    size,
    range: IMAGE_RANGE[config.model.name],
    stats: {
      description: set.describe(),
      classes: [...pipeline.classes],
      imageSize: { width: size, height: size, channels },
      splits: [{ name: 'train', count }],
    },
    fingerprint: { source: set.describe(), format: pipeline.opened.format, images: count },
    async close() {
      await Promise.all([train.close(), loaders.val?.close(), loaders.test?.close()]);
      pipeline.close();
    },
  };
}

/** `n` images of `d` chosen at random from `seed` (all of them when fewer), or its first `n` when it streams. */
function sample(d: Dataset, n: number, seed: number, stream: number): { set: Dataset; count: number } {
  if (d.kind !== 'indexed') return { set: d, count: Math.min(n, d.lengthHint ?? n) };
  const order = new RandomStream({ seed, purpose: 'split', stream }).permutation(d.length);
  const picked = order.subarray(0, Math.min(n, d.length));
  return { set: subset(d, picked, `${picked.length} of ${d.describe()}`), count: picked.length };
}

export interface RealSets {
  /** The reference the generated images are compared with. */
  reference: DataLoader;
  /** Other real images, for the distance a perfect generator would get at this sample size (none when the source is too small). */
  other?: DataLoader;
  description: string;
  count: number;
}

/** Loaders of at most `n` real images each, prepared as the training batches (see the header). */
export async function realSets(data: GanData, n: number, seed: number): Promise<RealSets> {
  const p = data.pipeline;
  const loader = (d: Dataset) => p.preprocessing.loader(d, { batchSize: 256, seed, workers: p.spec.loader.workers, badSamples: { policy: p.spec.loader.badFiles } });
  if (p.testSet) {
    const ref = sample(p.testSet, n, seed, 1);
    const other = sample(p.trainSet, n, seed, 2);
    return { reference: await loader(ref.set), other: await loader(other.set), description: `${ref.count.toLocaleString('en-US')} images of ${p.testSet.describe()}`, count: ref.count };
  }
  // One sample of the training images, halved when large enough: the first half is the reference.
  const both = sample(p.trainSet, 2 * n, seed, 1);
  if (both.set.kind === 'indexed' && both.count >= 2 * n) {
    const idx = Int32Array.from({ length: both.count }, (_, i) => i);
    const [a, b] = [subset(both.set, idx.subarray(0, n)), subset(both.set, idx.subarray(n))];
    return { reference: await loader(a), other: await loader(b), description: `${n.toLocaleString('en-US')} training images`, count: n };
  }
  const ref = sample(p.trainSet, n, seed, 1);
  return { reference: await loader(ref.set), description: `${ref.count.toLocaleString('en-US')} training images`, count: ref.count };
}
