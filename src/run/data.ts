// A run's data: the run config mapped onto a DataPipeline (src/data/pipeline/), which opens the
// source, holds out and saves the splits, measures normalisation and makes the loaders. What the
// config leaves to the data — the model ('auto'), image size, channels, the test share — is decided
// by prepareRun() before the run directory is named, written into the config the run saves, and
// said in the log.
import type { RunConfig } from '../config/schema.js';
import { classCounts } from '../data/imbalance.js';
import type { DataLoader, DataLoaderOptions } from '../data/loader/loader.js';
import { DataPipeline, type DataPipelineSpec, type Shard } from '../data/pipeline/pipeline.js';
import type { Preprocessing } from '../data/pipeline/preprocessing.js';
import type { Dataset, IndexedDataset } from '../data/types.js';
import type { DatasetStats } from '../report/types.js';
import { taskOf } from './tasks/index.js';
import { modelInfo } from '../models/registry.js';
import { resolvePrecision } from '../runtime/precision.js';

export interface RunData {
  classes: readonly string[];
  channels: 1 | 3;
  height: number;
  width: number;
  /** The zoo model to build: the config's, or the one chosen for 'auto'. */
  model: string;
  train: DataLoader;
  val?: DataLoader;
  test?: DataLoader;
  /** The test samples, for the report's gallery (pixels of sample i). */
  testSet?: IndexedDataset;
  /** Whether the test set was held out of the training source (not its own, nor a separate one). */
  testHeldOut: boolean;
  /** Per-class training counts (class weights, the report). */
  trainCounts?: Int32Array;
  mean: readonly number[];
  std: readonly number[];
  /** Evaluation-time preprocessing: saved with the model, restored by eval and predict. */
  preprocessing: Preprocessing;
  stats: DatasetStats;
  /** What the data are, for the checkpoint fingerprint: a changed data set refuses a resume. */
  fingerprint: Record<string, unknown>;
  close(): Promise<void>;
}

export interface RunDataOptions {
  /** Where the splits are kept (the run directory's splits.json unless data.splitsFile says otherwise). */
  splitsPath?: string;
  logger?: DataLoaderOptions['logger'];
  /** Lines saying what was chosen from the data. */
  log?: (line: string) => void;
  /** The pipeline prepareRun() opened (else one is opened here). */
  pipeline?: DataPipeline;
  /** Data-parallel training: this rank's shard of the training and validation data (DataPipeline.loaders). */
  shard?: Shard;
}

/** The DataPipeline spec a run config describes. */
export function pipelineSpec(config: RunConfig, o: { splitsPath?: string } = {}): DataPipelineSpec {
  const { data: d, augment: a, train: t } = config;
  const file = d.splitsFile ?? o.splitsPath;
  return {
    source: { source: d.source, format: d.format, ...(d.classes !== undefined ? { classes: d.classes } : {}) },
    ...(config.task === 'classify' ? {} : { targets: taskOf(config.task).targets }),
    ...(d.test !== undefined ? { test: { source: d.test, ...(d.classes !== undefined ? { classes: d.classes } : {}) } } : {}),
    split: { val: d.valSplit, ...(d.testSplit !== undefined ? { test: d.testSplit } : {}), stratify: d.stratify, seed: t.seed, ...(file ? { file } : {}) },
    image: { ...(d.imageSize ? { size: d.imageSize } : {}), ...(d.channels ? { channels: d.channels } : {}), ...(config.model.stem === 'imagenet' ? { least: IMAGENET_STEM_LEAST } : {}) },
    augment: { cropPadding: a.cropPadding, hflip: a.hflip, vflip: a.vflip, erasing: a.erasing, mixup: a.mixup, cutmix: a.cutmix },
    ...normalizationSpec(a.normalize),
    loader: {
      batchSize: t.batchSize,
      dropLast: d.dropLast,
      workers: d.workers,
      badFiles: d.badFiles,
      seed: t.seed,
      sampler: t.sampler,
      weighting: t.classWeights === 'none' ? 'inverse' : t.classWeights,
    },
    memoryFormat: config.model.channelsLast === true ? 'channelsLast' : 'contiguous', // 'auto' is resolved by prepareRun
  };
}

export { chooseModel } from './tasks/classify.js';
/**
 * The least image size chosen for a ResNet with torchvision's stem (from --pretrained weights): its
 * stride-2 convolution and max pool shrink the input 4× before the first block, so 16 px photos would
 * be 1×1 from the third block on. 64 px is where torchvision's weights are known to work here (the
 * README's examples); --image-size still chooses any size.
 */
export const IMAGENET_STEM_LEAST = { px: 64, why: "the least for the ImageNet stem (it shrinks the input 4× before the first block)" } as const;

/** torchvision's ImageNet statistics, which its pretrained weights expect (`transforms.Normalize` in every torchvision recipe). */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** augment.normalize as the pipeline takes it: given statistics, or none (measured on the training set). */
function normalizationSpec(n: RunConfig['augment']['normalize']): Pick<DataPipelineSpec, 'normalize'> {
  if (n === undefined || n === 'measured') return {};
  return { normalize: n === 'imagenet' ? IMAGENET_NORMALIZATION : n };
}

/**
 * `model.channelsLast` for `model`: 'auto' is the zoo entry's measured preference. The format depends
 * on the model, which may be chosen from the data the pipeline has just opened, so the pipeline's
 * spec gets it here, before setup() and the loaders (its only readers) run.
 */
export function resolveChannelsLast(requested: boolean | 'auto', model: string, pipeline: DataPipeline): boolean {
  const channelsLast = requested === 'auto' ? prefersChannelsLast(model) : requested;
  pipeline.spec.memoryFormat = channelsLast ? 'channelsLast' : 'contiguous';
  return channelsLast;
}

/** The zoo's measured preference; false for a name it does not know (its callers report unknown names themselves). */
function prefersChannelsLast(model: string): boolean {
  try {
    return modelInfo(model).channelsLast === true;
  } catch {
    return false;
  }
}

export interface PreparedRun {
  /** The config with everything left to the data filled in. */
  config: RunConfig;
  pipeline: DataPipeline;
}

/**
 * Opens the run's data and decides what the config leaves open (see the header), before the run
 * directory is named (it carries the model's name) and the config is saved.
 */
export async function prepareRun(config: RunConfig, o: { log?: (line: string) => void; logger?: DataLoaderOptions['logger'] } = {}): Promise<PreparedRun> {
  const pipeline = await DataPipeline.open(pipelineSpec(config), o.logger ? { logger: o.logger } : {});
  for (const n of pipeline.notes) o.log?.(`data: ${n}`);
  const image = pipeline.resolveImage();
  let model = config.model.name;
  if (model === 'auto') {
    const chosen = taskOf(config.task).autoModel(image);
    model = chosen.name;
    o.log?.(`model: ${model} (chosen for ${chosen.why}; --model to choose)`);
  }
  const data = { ...config.data, imageSize: [image.height, image.width] as [number, number], channels: image.channels, testSplit: pipeline.testSplit };
  const precision = resolvePrecision(config.train.mixedPrecision);
  if (config.train.mixedPrecision === 'auto') o.log?.(`precision: ${precision.why} (--mixed-precision to choose)`);
  const train = { ...config.train, mixedPrecision: precision.precision };
  const channelsLast = resolveChannelsLast(config.model.channelsLast, model, pipeline);
  if (config.model.channelsLast === 'auto' && channelsLast) o.log?.(`memory format: channels_last (${model} trains faster in it; --set model.channelsLast=false to choose)`);
  return { config: { ...config, data, model: { ...config.model, name: model, channelsLast }, train }, pipeline };
}

/** A split's size, and its samples per class when each has one class (masks and multi-label samples have none). */
function splitStats(name: string, d: Dataset | undefined, classes: number, perClass: boolean): DatasetStats['splits'][number] | undefined {
  if (!d) return undefined;
  if (d.kind === 'indexed') return { name, count: d.length, ...(perClass ? { perClass: Array.from(classCounts(d, classes)) } : {}) };
  return d.lengthHint === undefined ? undefined : { name, count: d.lengthHint };
}

export async function openRunData(config: RunConfig, options: RunDataOptions = {}): Promise<RunData> {
  const spec = pipelineSpec(config, options.splitsPath ? { splitsPath: options.splitsPath } : {});
  const p = options.pipeline ?? (await DataPipeline.open(spec, options.logger ? { logger: options.logger } : {}));
  try {
    const before = p.notes.length;
    await p.setup(spec.split.file ? { splitsFile: spec.split.file } : {});
    for (const n of p.notes.slice(options.pipeline ? before : 0)) options.log?.(`data: ${n}`);
    const loaders = await p.loaders(options.shard);
    const classes = p.classes;
    const trainSet = p.trainSet;
    const trainCounts = trainSet.kind === 'indexed' ? classCounts(trainSet, classes.length) : undefined;
    const size = { channels: p.channels, height: p.height, width: p.width };
    const model = config.model.name === 'auto' ? taskOf(config.task).autoModel(size).name : config.model.name;
    const perClass = p.targets === 'class';
    const splits = [splitStats('train', trainSet, classes.length, perClass), splitStats('val', p.valSet, classes.length, perClass), splitStats('test', p.testSet, classes.length, perClass)];
    const count = (d: Dataset | undefined) => (d === undefined ? null : d.kind === 'indexed' ? d.length : (d.lengthHint ?? null));
    return {
      classes,
      ...size,
      model,
      ...loaders,
      ...(p.testSet?.kind === 'indexed' ? { testSet: p.testSet } : {}),
      testHeldOut: p.testHeldOut,
      ...(trainCounts ? { trainCounts } : {}),
      mean: p.preprocessing.mean,
      std: p.preprocessing.std,
      preprocessing: p.preprocessing,
      stats: {
        description: trainSet.describe(),
        classes: [...classes],
        imageSize: { width: size.width, height: size.height, channels: size.channels },
        splits: splits.filter((s): s is NonNullable<typeof s> => s !== undefined),
      },
      fingerprint: {
        source: trainSet.describe(),
        format: p.opened.format,
        classes: [...classes],
        train: count(trainSet),
        val: count(p.valSet),
        test: count(p.testSet),
      },
      async close() {
        await Promise.all([loaders.train.close(), loaders.val?.close(), loaders.test?.close()]);
        p.close();
      },
    };
  } catch (e) {
    p.close();
    throw e;
  }
}
