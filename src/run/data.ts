// A run's data: the sources (sources.ts), a validation split held out of training (stratified,
// saved so that a resumed or repeated run sees the same one), augmentation, normalisation measured
// on the training set, and one loader per split.
import { existsSync } from 'node:fs';

import type { RunConfig } from '../config/schema.js';
import { classCounts } from '../data/imbalance.js';
import { DataLoader, type DataLoaderOptions } from '../data/loader/loader.js';
import { WeightedRandomSampler } from '../data/sampling/samplers.js';
import { sampleWeights } from '../data/imbalance.js';
import { datasetFingerprint, loadSplits, randomSplit, saveSplits, type Splits, stratifiedSplit } from '../data/splits.js';
import { subset } from '../data/subset.js';
import { probeImage } from '../data/image/decode.js';
import { centerCrop, horizontalFlip, resize, verticalFlip } from '../data/transforms/geometric.js';
import { type BatchTransform, normalize, randomCropFlip } from '../data/transforms/batch.js';
import { compose } from '../data/transforms/compose.js';
import type { Transform } from '../data/transforms/spec.js';
import type { Dataset, IndexedDataset, RawImage, SamplePipeline } from '../data/types.js';
import type { DatasetStats } from '../report/types.js';
import { openSources, DataSourceError } from './sources.js';

export interface RunData {
  classes: readonly string[];
  channels: 1 | 3;
  height: number;
  width: number;
  train: DataLoader;
  val?: DataLoader;
  test?: DataLoader;
  /** The test samples, for the report's gallery (pixels of sample i). */
  testSet?: IndexedDataset;
  /** Per-class training counts (class weights, the report). */
  trainCounts?: Int32Array;
  mean: number[];
  std: number[];
  stats: DatasetStats;
  /** What the data are, for the checkpoint fingerprint: a changed data set refuses a resume. */
  fingerprint: Record<string, unknown>;
  close(): Promise<void>;
}

export type Size = { channels: 1 | 3; height: number; width: number };

/**
 * Channels and size of the first readable sample (decoded pixels, or an image header), and whether
 * the source holds decoded pixels (no per-sample decoding needed); bad files are skipped.
 */
async function probeFirst(d: Dataset, channels: 1 | 3 | undefined): Promise<Size & { pixels: boolean }> {
  if (d.kind !== 'indexed') throw new DataSourceError(`${d.describe()}: set data.imageSize and data.channels for a streamed source`);
  const errors: string[] = [];
  for (let i = 0; i < Math.min(d.length, 100); i++) {
    try {
      const r = await d.read(i);
      if (r.input.kind === 'pixels') {
        const img = r.input.image;
        return { channels: channels ?? img.channels, height: img.height, width: img.width, pixels: true };
      }
      const info = await probeImage(r.input.bytes, r.id);
      return { channels: channels ?? (info.bands >= 3 ? 3 : 1), height: info.height, width: info.width, pixels: false };
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  throw new DataSourceError(`${d.describe()}: none of the first ${errors.length} samples could be read (${errors.slice(0, 3).join('; ')})`);
}

/** Per-channel mean and std of up to `limit` training images, as fractions of 255. */
async function measureNormalization(d: IndexedDataset, pipeline: SamplePipeline | undefined, channels: number, limit = 2000): Promise<{ mean: number[]; std: number[] }> {
  const n = Math.min(d.length, limit);
  const step = d.length / n;
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let count = 0;
  for (let k = 0; k < n; k++) {
    const index = Math.floor(k * step);
    let img: RawImage;
    try {
      const r = await d.read(index);
      img = pipeline ? await pipeline.run(r.input, { seed: 0, epoch: 0, index }, r.id) : (r.input as { image: RawImage }).image;
    } catch {
      continue; // a bad file: the loader reports it (by path and reason) when training meets it
    }
    const px = img.data;
    for (let i = 0; i < px.length; i++) {
      const c = img.channels === channels ? i % channels : 0;
      const v = (px[i] as number) / 255;
      sum[c] = (sum[c] as number) + v;
      sq[c] = (sq[c] as number) + v * v;
    }
    count += px.length / img.channels;
  }
  if (count === 0) throw new DataSourceError(`${d.describe()}: no readable image among the ${n} sampled to measure normalisation`);
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(s / count - (mean[c] as number) ** 2, 1e-12)));
  return { mean, std };
}

function pipelineFor(size: Size, augment: RunConfig['augment'] | undefined): SamplePipeline {
  const transforms: Transform[] = [resize({ size: [size.height, size.width] }), centerCrop({ size: [size.height, size.width] })];
  if (augment?.hflip) transforms.push(horizontalFlip({}));
  if (augment?.vflip) transforms.push(verticalFlip({}));
  return compose({ decode: { channels: size.channels === 1 ? 'grey' : 'rgb' }, transforms });
}

function trainBatchTransforms(augment: RunConfig['augment'], pixels: boolean, mean: number[], std: number[]): BatchTransform[] {
  const out: BatchTransform[] = [];
  // For pixel sources the flip rides along with the crop (one gather); decoded images were flipped by the pipeline.
  if (augment.cropPadding > 0 || (pixels && augment.hflip)) out.push(randomCropFlip({ padding: augment.cropPadding, flip: pixels && augment.hflip }));
  out.push(normalize(mean, std));
  return out;
}

function splitStats(name: string, d: IndexedDataset | undefined, classes: number): DatasetStats['splits'][number] | undefined {
  if (!d) return undefined;
  return { name, count: d.length, perClass: Array.from(classCounts(d, classes)) };
}

/** Train/val indices: from the splits file when it exists (checked against the data), else made and saved. */
function validationSplit(train: IndexedDataset, data: RunConfig['data'], seed: number, splitsPath: string | undefined): Splits {
  const identity = { length: train.length, fingerprint: datasetFingerprint(train) };
  if (splitsPath && existsSync(splitsPath)) return loadSplits(splitsPath, identity);
  const ratios = { train: 1 - data.valSplit, val: data.valSplit };
  const splits = data.stratify ? stratifiedSplit(train, ratios, { seed }) : randomSplit(train, ratios, { seed });
  if (splitsPath) saveSplits(splitsPath, splits, identity);
  return splits;
}

/** Batches of `d` in order, resized (when decoding) and normalised: for validation, testing, `tessera eval`. */
export function evaluationLoader(
  d: IndexedDataset,
  o: { size: Size; needsPipeline: boolean; mean: number[]; std: number[]; batchSize: number; common?: Partial<DataLoaderOptions> },
): DataLoader {
  return new DataLoader(d, { ...o.common, batchSize: o.batchSize, ...(o.needsPipeline ? { pipeline: pipelineFor(o.size, undefined) } : {}), batchTransforms: [normalize(o.mean, o.std)] });
}

/** Whether a data set must be decoded/resized to reach `size` (else its pixels are used as they are). */
export async function needsDecoding(d: IndexedDataset, size: Size): Promise<boolean> {
  const first = await probeFirst(d, undefined);
  return !first.pixels || first.height !== size.height || first.width !== size.width || first.channels !== size.channels;
}

export interface OpenRunDataOptions {
  /** Where the splits are kept (the run directory's splits.json unless data.splitsFile says otherwise). */
  splitsPath?: string;
  logger?: DataLoaderOptions['logger'];
}

export async function openRunData(config: RunConfig, options: OpenRunDataOptions = {}): Promise<RunData> {
  const { data, augment, train: t } = config;
  const opened = await openSources(data);
  const classes = opened.train.classes;
  if (classes.length < 2) throw new DataSourceError(`${opened.train.describe()} has ${classes.length} class${classes.length === 1 ? '' : 'es'}; training a classifier needs at least 2`);
  const first = await probeFirst(opened.train, data.channels);
  const pixels = first.pixels;
  const size: Size = data.imageSize
    ? { channels: first.channels, height: data.imageSize[0], width: data.imageSize[1] }
    : { channels: first.channels, height: first.height, width: first.width };
  // Decoded images (and pixel sources asked to change size or channels) go through a per-sample pipeline.
  const needsPipeline = !pixels || data.imageSize !== undefined || (data.channels !== undefined && data.channels !== first.channels);
  const trainPipeline = needsPipeline ? pipelineFor(size, augment) : undefined;
  const evalPipeline = needsPipeline ? pipelineFor(size, undefined) : undefined; // for measuring normalisation

  let trainSet: Dataset = opened.train;
  let valSet: IndexedDataset | undefined = opened.val;
  if (!valSet && data.valSplit > 0) {
    if (opened.train.kind !== 'indexed') throw new DataSourceError(`${opened.train.describe()} is streamed: a validation split cannot be held out of it; set data.valSplit to 0`);
    const splits = validationSplit(opened.train, data, t.seed, data.splitsFile ?? options.splitsPath);
    trainSet = subset(opened.train, splits.train as Int32Array);
    valSet = subset(opened.train, splits.val as Int32Array);
  }
  let testSet = opened.test;
  if (!testSet && data.testSplit > 0) {
    if (trainSet.kind !== 'indexed') throw new DataSourceError('a test split cannot be held out of a streamed source; give data.test');
    const ratios = { train: 1 - data.testSplit, test: data.testSplit };
    const s = data.stratify ? stratifiedSplit(trainSet, ratios, { seed: t.seed + 1 }) : randomSplit(trainSet, ratios, { seed: t.seed + 1 });
    testSet = subset(trainSet, s.test as Int32Array);
    trainSet = subset(trainSet, s.train as Int32Array);
  }

  const norm = augment.normalize ?? (trainSet.kind === 'indexed' ? await measureNormalization(trainSet, evalPipeline, size.channels) : { mean: [0.5], std: [0.5] });
  const common: Partial<DataLoaderOptions> = {
    seed: t.seed,
    workers: data.workers,
    badSamples: { policy: data.badFiles },
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const trainCounts = trainSet.kind === 'indexed' ? classCounts(trainSet, classes.length) : undefined;
  const sampler =
    t.sampler === 'weighted' && trainSet.kind === 'indexed'
      ? new WeightedRandomSampler(sampleWeights(trainSet, t.classWeights === 'none' ? 'inverse' : t.classWeights), trainSet.length, { seed: t.seed })
      : undefined;
  const train = new DataLoader(trainSet, {
    ...common,
    batchSize: t.batchSize,
    ...(sampler ? { sampler } : { shuffle: true }),
    dropLast: true,
    ...(trainPipeline ? { pipeline: trainPipeline } : {}),
    batchTransforms: trainBatchTransforms(augment, !needsPipeline, norm.mean, norm.std),
  });
  const evalLoader = (d: IndexedDataset) => evaluationLoader(d, { size, needsPipeline, mean: norm.mean, std: norm.std, batchSize: Math.max(t.batchSize, 256), common });
  const val = valSet ? evalLoader(valSet) : undefined;
  const test = testSet ? evalLoader(testSet) : undefined;

  const splits = [splitStats('train', trainSet.kind === 'indexed' ? trainSet : undefined, classes.length), splitStats('val', valSet, classes.length), splitStats('test', testSet, classes.length)];
  return {
    classes,
    ...size,
    train,
    ...(val ? { val } : {}),
    ...(test ? { test, testSet } : {}),
    ...(trainCounts ? { trainCounts } : {}),
    mean: norm.mean,
    std: norm.std,
    stats: {
      description: opened.train.describe(),
      classes: [...classes],
      imageSize: { width: size.width, height: size.height, channels: size.channels },
      splits: splits.filter((s): s is NonNullable<typeof s> => s !== undefined),
    },
    fingerprint: {
      source: opened.train.describe(),
      format: opened.format,
      classes: [...classes],
      train: trainSet.kind === 'indexed' ? trainSet.length : null,
      val: valSet?.length ?? null,
      test: testSet?.length ?? null,
    },
    async close() {
      await Promise.all([train.close(), val?.close(), test?.close()]);
    },
  };
}
