// DataPipeline: the whole way from a source spec to training batches, as one object (fastai's
// DataBlock is the model):
//
//   source spec ─▶ opener ─▶ splits ─▶ per-sample pipeline ─▶ collate ─▶ batch steps
//   (source.ts)   (open.ts)  (held out,  (decode, resize/crop,   (uint8     (crop/flip, normalise,
//                            saved)      flips; on workers)      N×C×H×W)   erase, mix, layout)
//
// `open()` opens the source and looks at a few samples; `setup()` resolves everything left open
// (image size and channels from the data, the held-out splits, normalisation measured through the
// loader), saying what it chose in `notes`; then `loaders()` gives the train/val/test loaders,
// `preprocessing` the evaluation-time preprocessing a model is saved with, and `summary()` walks
// one sample through every step (summary.ts). `toJSON()` is the spec with every resolved value
// filled in: `fromJSON()` of it sets up the same pipeline again without measuring anything.
import { existsSync } from 'node:fs';

import { sampleWeights, type ClassWeighting } from '../imbalance.js';
import { DataLoader, type DataLoaderOptions } from '../loader/loader.js';
import { DistributedSampler } from '../sampling/distributed.js';
import { RandomSampler, WeightedRandomSampler } from '../sampling/samplers.js';
import { datasetFingerprint, loadSplits, randomSplit, saveSplits, stratifiedSplit, type Splits } from '../splits.js';
import { subset } from '../subset.js';
import { compose, type ComposedPipeline } from '../transforms/compose.js';
import { jointCompose, type JointPipeline } from '../transforms/joint.js';
import type { TransformSpec } from '../transforms/spec.js';
import type { Dataset, IndexedDataset } from '../types.js';
import type { Augmentation, BatchStep, MemoryFormat } from './batch-steps.js';
import { measureNormalization } from './normalization.js';
import { evaluationPart, namedPart, openSource, trainingPart, type OpenedSource } from './open.js';
import { fitTransforms, Preprocessing } from './preprocessing.js';
import { defaultChannels, defaultImageSize, probeSamples, type MinimumSide, type Probe } from './probe.js';
import { streamPart, streamSplit, type StreamSplitRule } from './shards.js';
import { DataSourceError, type SourceSpec } from './source.js';
import { explainPipeline, type ExplainOptions, type PipelineExplanation } from './summary.js';
import { checkTargets, evalTransformsFor, trainBatchStepsFor, type PipelineTargets } from './targets.js';

export const PIPELINE_FORMAT = 'tessera-pipeline/1';

/** Share of a source held out as its test split when it has none and no test source is given. */
export const DEFAULT_TEST_SPLIT = 0.1;

export interface DataPipelineSpec {
  source: SourceSpec;
  /** What the batches' y holds (targets.ts): class indices (default), masks, several labels, or the images themselves. */
  targets?: PipelineTargets;
  /** A separate test set (its 'test' part, or all of it). */
  test?: SourceSpec;
  split: {
    /** Share held out for validation (unless the source has a 'val' part). */
    val: number;
    /** Share held out for testing; absent: DEFAULT_TEST_SPLIT when the source has no test set and none is given, else 0. */
    test?: number;
    stratify: boolean;
    seed: number;
    /** Where held-out splits are kept, so a resumed or repeated run sees the same ones. */
    file?: string;
  };
  /** The model's input; absent fields are chosen from the data (probe.ts), a size no smaller than `least`. */
  image: { size?: readonly [number, number]; channels?: 1 | 3; least?: MinimumSide };
  augment: Augmentation;
  /** Per-channel mean and std (fractions of 255); absent: measured at setup(). */
  normalize?: { mean: readonly number[]; std: readonly number[] };
  loader: {
    batchSize: number;
    /** Evaluation batches (default max(batchSize, 256)). */
    evalBatchSize?: number;
    /** Drop the last short training batch (default false, as PyTorch's DataLoader). */
    dropLast: boolean;
    workers: number;
    badFiles: 'skip' | 'fail';
    seed: number;
    sampler: 'random' | 'weighted';
    /** The weighted sampler's class weighting. */
    weighting?: ClassWeighting;
  };
  memoryFormat: MemoryFormat;
  /** Images normalisation is measured on (default 2000). */
  normalizationSamples?: number;
}

export interface PipelineOptions {
  logger?: DataLoaderOptions['logger'];
  signal?: AbortSignal;
  /** The labels are not trained on (a GAN learns the images alone): a source of one class will do. */
  unlabelled?: boolean;
}

export class DataPipeline {
  readonly notes: string[] = [];
  /** Set by open(). */
  opened!: OpenedSource;
  testSource: OpenedSource | undefined;
  probe!: Probe;
  /** Set by setup(). */
  trainSet!: Dataset;
  valSet: Dataset | undefined;
  testSet: Dataset | undefined;
  channels!: 1 | 3;
  height!: number;
  width!: number;
  preprocessing!: Preprocessing;
  /** Whether training samples go through the per-sample pipeline (else: stored pixels as they are). */
  decodes!: boolean;
  private testShare = 0;
  private splitsFile: string | undefined;
  private savedSplits = false;

  private constructor(readonly spec: DataPipelineSpec, private readonly options: PipelineOptions) {
    this.splitsFile = spec.split.file;
  }

  /** Opens the source (and the test source) and probes a few samples. */
  static async open(spec: DataPipelineSpec, options: PipelineOptions = {}): Promise<DataPipeline> {
    const p = new DataPipeline(spec, options);
    p.opened = await openSource(spec.source);
    try {
      p.notes.push(...p.opened.notes);
      const train = trainingPart(p.opened);
      const targets = p.targets;
      checkTargets(targets, p.opened, spec.augment);
      // An unlabelled run (a GAN) needs images; a multi-label model may answer one yes/no question;
      // reconstruction uses no labels at all.
      const least = options.unlabelled ? 1 : targets === 'image' ? 0 : targets === 'labels' ? 1 : 2;
      if (train.classes.length < least)
        throw new DataSourceError(`${train.describe()} has ${train.classes.length} class${train.classes.length === 1 ? '' : 'es'}; ${options.unlabelled ? 'it holds no images to learn from' : `training ${targets === 'mask' ? 'a segmentation model' : 'a classifier'} needs at least ${least}`}`);
      if (spec.test) {
        p.testSource = await openSource(spec.test, { shuffleShards: false });
        checkTargets(targets, p.testSource, spec.augment, `test set ${spec.test.source}`);
        const test = evaluationPart(p.testSource);
        if (targets !== 'image' && test.classes.join('\u0000') !== train.classes.join('\u0000'))
          throw new DataSourceError(`test set ${spec.test.source} has classes [${test.classes.join(', ')}] but the training set has [${train.classes.join(', ')}]`);
      }
      p.probe = await probeSamples(train);
    } catch (e) {
      p.close();
      throw e;
    }
    return p;
  }

  /** A pipeline from toJSON()'s output: the same spec, nothing left to measure. */
  static async fromJSON(json: unknown, options: PipelineOptions = {}): Promise<DataPipeline> {
    const j = json as { format?: unknown; spec?: DataPipelineSpec };
    if (j?.format !== PIPELINE_FORMAT || typeof j.spec !== 'object') throw new Error(`not a tessera pipeline (expected format ${PIPELINE_FORMAT})`);
    return DataPipeline.open(j.spec, options);
  }

  get classes(): readonly string[] {
    return this.opened.classes;
  }

  /** What the batches' y holds (targets.ts). */
  get targets(): PipelineTargets {
    return this.spec.targets ?? 'class';
  }

  /** The test share this spec asks for, once defaults are applied (known after open()). */
  get testSplit(): number {
    const own = namedPart(this.opened, 'test') !== undefined || this.testSource !== undefined;
    return this.spec.split.test ?? (own ? 0 : DEFAULT_TEST_SPLIT);
  }

  /** The input size and channels, given or chosen from the probed samples. */
  resolveImage(): { channels: 1 | 3; height: number; width: number } {
    const channels = this.spec.image.channels ?? defaultChannels(this.probe);
    if (this.spec.image.size) return { channels, height: this.spec.image.size[0], width: this.spec.image.size[1] };
    const chosen = defaultImageSize(this.probe, this.spec.image.least);
    return { channels, height: chosen.height, width: chosen.width };
  }

  /**
   * Resolves sizes, splits and normalisation; see the header. `splitsFile` replaces the spec's (a run
   * knows its directory only once the data have named it); `savedSplits` refuses to draw held-out
   * splits anew (evaluating a finished run: they must come from its file); `measure: false` uses
   * mean 0.5, std 0.5 instead of measuring.
   */
  async setup(o: { measure?: boolean; splitsFile?: string; savedSplits?: boolean } = {}): Promise<this> {
    if (o.splitsFile !== undefined) this.splitsFile = o.splitsFile;
    this.savedSplits = o.savedSplits ?? false;
    const { spec } = this;
    const img = this.resolveImage();
    [this.channels, this.height, this.width] = [img.channels, img.height, img.width];
    if (!spec.image.size) this.notes.push(`image size ${img.height}×${img.width} (${defaultImageSize(this.probe, spec.image.least).why}; set --image-size to choose)`);
    if (!spec.image.channels && img.channels !== this.probe.first.channels) this.notes.push(`channels: ${img.channels} (some samples are colour)`);
    const { first } = this.probe;
    // Stored pixels of the input size need no per-sample pipeline (the loader's fast path), unless a
    // per-sample step is asked for that the batch steps cannot do (a vertical flip).
    this.decodes = !(first.pixels && first.width === img.width && first.height === img.height && first.channels === img.channels && !spec.augment.vflip);
    this.makeSplits();
    const norm = spec.normalize ?? (o.measure === false ? { mean: Array(img.channels).fill(0.5), std: Array(img.channels).fill(0.5) } : await this.measure());
    this.preprocessing = Preprocessing.of({ ...img, transforms: this.evalTransforms(), mean: norm.mean, std: norm.std, memoryFormat: spec.memoryFormat, classes: this.classes, targets: this.targets });
    return this;
  }

  private evalTransforms(): TransformSpec[] {
    return evalTransformsFor(this.targets, this.height, this.width);
  }

  /** decode + transforms; with masks, the joint pipeline that moves them with the images. */
  private samplePipeline(transforms: TransformSpec[]): ComposedPipeline | JointPipeline {
    const o = { decode: { channels: this.channels === 1 ? ('grey' as const) : ('rgb' as const) }, transforms };
    return this.targets === 'mask' ? jointCompose(o) : compose(o);
  }

  /** The training per-sample pipeline: the evaluation geometry plus the flips. */
  trainSamplePipeline(): ComposedPipeline | JointPipeline | undefined {
    if (!this.decodes) return undefined;
    const t: TransformSpec[] = this.evalTransforms();
    if (this.spec.augment.hflip) t.push({ type: 'horizontalFlip' });
    if (this.spec.augment.vflip) t.push({ type: 'verticalFlip' });
    return this.samplePipeline(t);
  }

  trainBatchSteps(): BatchStep[] {
    return trainBatchStepsFor(this.targets, {
      augment: this.spec.augment,
      flipInBatch: !this.decodes,
      mean: this.preprocessing.mean,
      std: this.preprocessing.std,
      numClasses: this.classes.length,
      memoryFormat: this.spec.memoryFormat,
    });
  }

  private async measure(): Promise<{ mean: number[]; std: number[] }> {
    const evalPipeline = this.decodes ? this.samplePipeline(this.evalTransforms()) : undefined;
    const n = await measureNormalization(this.trainSet, {
      ...(evalPipeline ? { pipeline: evalPipeline } : {}),
      channels: this.channels,
      limit: this.spec.normalizationSamples ?? 2000,
      workers: this.spec.loader.workers,
      seed: this.spec.loader.seed,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    this.notes.push(`normalisation measured on ${n.samples.toLocaleString('en-US')} training images`);
    return n;
  }

  /** Train/val/test: the source's own parts, a test source, and shares held out (saved in the splits file). */
  private makeSplits(): void {
    const { split } = this.spec;
    const whole = trainingPart(this.opened);
    const ownVal = namedPart(this.opened, 'val');
    const ownTest = this.testSource ? evaluationPart(this.testSource) : namedPart(this.opened, 'test');
    const val = ownVal ? 0 : split.val;
    const test = ownTest ? 0 : this.testSplit;
    this.testShare = test;
    if (!ownTest && split.test === undefined && test > 0)
      this.notes.push(`test: ${Math.round(test * 100)}% of the training source held out (the source has no test set of its own and none was given: --test to give one)`);
    this.valSet = ownVal;
    this.testSet = ownTest;
    if (val + test === 0) {
      this.trainSet = whole;
      return;
    }
    if (whole.kind === 'streaming') {
      const rule: StreamSplitRule = { seed: split.seed, val, test };
      const count = (part: 'train' | 'val' | 'test') => this.opened.scan?.ids.filter((id) => streamPart(id, rule) === part).length;
      this.trainSet = streamSplit(whole, 'train', rule, count('train'));
      if (val > 0) this.valSet = streamSplit(whole, 'val', rule, count('val'));
      if (test > 0) this.testSet = streamSplit(whole, 'test', rule, count('test'));
      this.notes.push('a streamed source is split by sample id (not stratified)');
      return;
    }
    const file = this.splitsFile;
    if (this.savedSplits && !(file && existsSync(file))) throw new DataSourceError(`the held-out splits were saved in ${file ?? 'a splits file'}, which is gone; give the data to use with --data`);
    const s = heldOut(whole, { train: 1 - val - test, ...(val > 0 ? { val } : {}), ...(test > 0 ? { test } : {}) }, { ...split, ...(file ? { file } : {}) });
    this.trainSet = subset(whole, s.train as Int32Array);
    if (val > 0) this.valSet = subset(whole, s.val as Int32Array);
    if (test > 0) this.testSet = subset(whole, s.test as Int32Array);
  }

  /** Whether the test set is a share of the training source (not the source's own, nor a separate one). */
  get testHeldOut(): boolean {
    return this.testShare > 0;
  }

  /**
   * The training loader and evaluation loaders for val and test. With `shard` (data-parallel
   * training), this rank's part: `loader.batchSize` is the global batch, of which each of the
   * worldSize ranks loads an equal share — the training order is split by DistributedSampler
   * (rank r takes positions r, r + worldSize, …, so global batch b holds the same samples for any
   * world size), a stream by the source's rank split — and validation is split into disjoint
   * shards (not padded, so that summing the ranks' metrics gives the whole set's). The test loader
   * stays whole: one process runs the final test pass.
   */
  async loaders(shard: Shard = { rank: 0, worldSize: 1 }): Promise<{ train: DataLoader; val?: DataLoader; test?: DataLoader }> {
    const l = this.spec.loader;
    const { rank, worldSize } = shard;
    if (l.batchSize % worldSize !== 0)
      throw new DataSourceError(`the batch size ${l.batchSize} does not split evenly over ${worldSize} ranks: the batch size is the global batch, so it must be a multiple of the number of ranks`);
    const split = worldSize > 1 ? { rank, worldSize } : {};
    const common: Partial<DataLoaderOptions> = {
      seed: l.seed,
      workers: l.workers,
      badSamples: { policy: l.badFiles },
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    };
    const t = this.trainSet;
    if (l.sampler === 'weighted' && t.kind !== 'indexed') throw new DataSourceError(`weighted sampling (train.sampler) needs random access, and ${t.describe()} is streamed: pack it first (tessera data pack)`);
    const weighted = l.sampler === 'weighted' && t.kind === 'indexed' ? new WeightedRandomSampler(sampleWeights(t, l.weighting ?? 'inverse'), t.length, { seed: l.seed }) : undefined;
    const whole = weighted ?? (t.kind === 'indexed' && worldSize > 1 ? new RandomSampler(t.length, { seed: l.seed }) : undefined);
    const sampler = whole && worldSize > 1 ? new DistributedSampler(whole, { rank, worldSize }) : whole;
    const pipeline = this.trainSamplePipeline();
    const train = new DataLoader(t, {
      ...common,
      ...(t.kind === 'streaming' ? split : {}),
      batchSize: l.batchSize / worldSize,
      ...(sampler ? { sampler } : { shuffle: true }),
      dropLast: l.dropLast,
      ...(pipeline ? { pipeline } : {}),
      batchTransforms: this.trainBatchSteps().map((s) => s.transform),
    });
    const evalBatch = { ...common, batchSize: l.evalBatchSize ?? Math.max(l.batchSize, 256) };
    const val = this.valSet ? await this.preprocessing.loader(...evaluationShard(this.valSet, shard, evalBatch)) : undefined;
    const test = this.testSet ? await this.preprocessing.loader(this.testSet, evalBatch) : undefined;
    return { train, ...(val ? { val } : {}), ...(test ? { test } : {}) };
  }

  /** One sample walked through every step, naming the one that fails (summary.ts). After setup(). */
  summary(o: ExplainOptions = {}): Promise<PipelineExplanation> {
    return explainPipeline(this, o);
  }

  /** The spec with every value setup() resolved filled in (image size, channels, normalisation, test share). */
  toJSON(): { format: string; spec: DataPipelineSpec } {
    const resolved: DataPipelineSpec = {
      ...this.spec,
      split: { ...this.spec.split, test: this.testShare, ...(this.splitsFile ? { file: this.splitsFile } : {}) },
      image: { size: [this.height, this.width], channels: this.channels },
      normalize: { mean: [...this.preprocessing.mean], std: [...this.preprocessing.std] },
    };
    return { format: PIPELINE_FORMAT, spec: JSON.parse(JSON.stringify(resolved)) as DataPipelineSpec };
  }

  /** Frees what the opened sources hold in memory. */
  close(): void {
    this.opened?.dispose();
    this.testSource?.dispose();
  }
}

/** This rank's part of a data-parallel job. */
export interface Shard {
  rank: number;
  worldSize: number;
}

/**
 * A rank's disjoint share of an evaluation set and its loader options: samples rank, rank +
 * worldSize, … of indexed data (shares differ by at most one sample: nothing is padded or
 * dropped), a stream's rank split otherwise.
 */
export function evaluationShard<O extends object>(d: Dataset, shard: Shard, options: O): [Dataset, O] {
  const { rank, worldSize } = shard;
  if (worldSize === 1) return [d, options];
  if (d.kind === 'streaming') return [d, { ...options, rank, worldSize }];
  const mine = Int32Array.from({ length: Math.max(0, Math.ceil((d.length - rank) / worldSize)) }, (_, k) => rank + k * worldSize);
  return [subset(d, mine, `rank ${rank} of ${worldSize}`), options];
}

/** Held-out indices: from the splits file when it exists (checked against the data), else drawn and saved. */
function heldOut(d: IndexedDataset, ratios: Record<string, number>, o: DataPipelineSpec['split']): Splits {
  const identity = { length: d.length, fingerprint: datasetFingerprint(d) };
  if (o.file && existsSync(o.file)) {
    const s = loadSplits(o.file, identity);
    for (const k of Object.keys(ratios)) if (!s[k]) throw new DataSourceError(`${o.file} has no '${k}' split (it has ${Object.keys(s).join(', ')}): it was made for other split settings; remove it or give data.splitsFile`);
    return s;
  }
  const s = o.stratify ? stratifiedSplit(d, ratios, { seed: o.seed }) : randomSplit(d, ratios, { seed: o.seed });
  if (o.file) saveSplits(o.file, s, identity);
  return s;
}
