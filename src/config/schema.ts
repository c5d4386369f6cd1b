// The training run's configuration: one schema for flags, JSON and YAML files, checked with zod so
// that a bad value is named by its path (`train.optimizer.lr: must be > 0`). Defaults are the main
// job's recipe: `tessera train` with no arguments trains the default model on Fashion-MNIST.
import { z } from 'zod';

import { LIMITS } from './limits.js';

const positiveInt = z.number().int().positive();
/** A positive integer with an upper bound, and a message that says why there is one. */
const upTo = (max: number, why: string) => positiveInt.max(max, `at most ${max.toLocaleString('en-US')} (${why})`);
const fraction = z.number().min(0).max(1);

export const DataConfig = z
  .object({
    /** `fashion-mnist`, or a path: image folder, manifest (.csv/.jsonl), CIFAR or IDX dir, NPY/NPZ, packed dir, tar shards (src/data/pipeline/source.ts). */
    source: z.string().min(1).default('fashion-mnist'),
    format: z
      .enum(['auto', 'fashion-mnist', 'idx', 'image-folder', 'manifest', 'cifar10', 'cifar100', 'npy', 'packed', 'webdataset'])
      .default('auto'),
    /** A separate test set (same format); without it, `testSplit` of the source is held out. */
    test: z.string().min(1).optional(),
    valSplit: fraction.default(0.1),
    /** Share held out for testing; default: 0.1 when the source has no test set of its own and `test` is not given, else 0. */
    testSplit: fraction.optional(),
    /**
     * Class names for integer labels (NPY, IDX, WebDataset) or a manifest's class order: a list, or a
     * text file with one name a line. WebDataset without it: a classes.txt beside the shards, else the
     * shards' own .cls/.txt/.json labels.
     */
    classes: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
    /** Drop the last training batch when it is short (default false: kept, as PyTorch's DataLoader does). */
    dropLast: z.boolean().default(false),
    /** Stratify the splits by class. */
    stratify: z.boolean().default(true),
    /** Images are resized (shorter side, never stretched) and centre-cropped to this size (height, width); default: chosen from the data. */
    imageSize: z.tuple([upTo(LIMITS.imageSide, 'pixels per side; larger images exhaust memory'), upTo(LIMITS.imageSide, 'pixels per side; larger images exhaust memory')]).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** Worker threads that decode and augment; 0 runs them on the main thread's event loop. */
    workers: z.number().int().min(0).max(LIMITS.workers, `at most ${LIMITS.workers} (each worker is a thread with its own memory)`).default(0),
    badFiles: z.enum(['skip', 'fail']).default('skip'),
    /** Reuse (or create) a splits file, so that every run sees the same split. */
    splitsFile: z.string().optional(),
  })
  .strict();

export const AugmentConfig = z
  .object({
    /** Random crop after zero padding by this many pixels (0 = off). */
    cropPadding: z.number().int().min(0).default(2),
    hflip: z.boolean().default(true),
    vflip: z.boolean().default(false),
    /** Random erasing probability (0 = off). */
    erasing: fraction.default(0),
    mixup: z.number().min(0).default(0),
    cutmix: z.number().min(0).default(0),
    /**
     * Test-time flip: the test pass (and `tessera eval`/`predict` of the saved model) averages the
     * logits of each image and of its mirror image. Default: on when training flips (`hflip`).
     */
    testFlip: z.boolean().optional(),
    /** Per-channel mean and std; default: measured on the training set. */
    normalize: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).strict().optional(),
  })
  .strict();

export const ModelConfig = z
  .object({
    /** A zoo model, or 'auto': chosen from the data (fashion-net for small grey images such as Fashion-MNIST, resnet9 for colour or larger ones). */
    name: z.string().min(1).default('auto'),
    /** Weights to start from (.pt or .safetensors), loaded by key; a mismatched head is re-initialised. */
    pretrained: z.string().optional(),
    freezeBackbone: z.boolean().default(false),
    /**
     * Model and batches in channels_last memory format (NHWC strides: oneDNN's native layout). 'auto'
     * (the default): on for the zoo models measured faster that way (fashion-net), else off.
     */
    channelsLast: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  })
  .strict();

export const OptimizerConfig = z
  .object({
    name: z.enum(['sgd', 'adam', 'adamw', 'rmsprop', 'lion']).default('sgd'),
    lr: z.number().positive().default(0.1),
    momentum: fraction.default(0.9),
    nesterov: z.boolean().default(true),
    weightDecay: z.number().min(0).default(5e-4),
  })
  .strict();

export const ScheduleConfig = z
  .object({
    name: z.enum(['one-cycle', 'cosine', 'step', 'constant']).default('one-cycle'),
    /** Fraction of the run spent warming up (one-cycle's pct_start, cosine's linear warm-up). */
    warmup: fraction.default(0.2),
    /** Step schedule: multiply by `gamma` every `stepEpochs`. */
    stepEpochs: positiveInt.default(10),
    gamma: z.number().positive().max(1).default(0.1),
  })
  .strict();

export const TrainConfig = z
  .object({
    epochs: upTo(LIMITS.epochs, 'passes over the data').default(9),
    batchSize: upTo(LIMITS.batchSize, 'images per step').default(128),
    optimizer: OptimizerConfig.default(OptimizerConfig.parse({})),
    schedule: ScheduleConfig.default(ScheduleConfig.parse({})),
    labelSmoothing: z.number().min(0).max(0.5).default(0.1),
    /** Autocast: 'auto' (the default) is bf16 on a CPU with native bf16 arithmetic, else off (src/runtime/precision.ts); the saved config has the choice. */
    mixedPrecision: z.enum(['auto', 'off', 'bf16', 'fp16']).default('auto'),
    gradAccumulation: upTo(LIMITS.gradAccumulation, 'batches per optimizer step').default(1),
    clipGradNorm: z.number().positive().optional(),
    ema: z.number().gt(0).lt(1).optional(),
    classWeights: z.enum(['none', 'inverse', 'inverse-sqrt', 'effective']).default('none'),
    sampler: z.enum(['random', 'weighted']).default('random'),
    earlyStopping: z.object({ patience: positiveInt, monitor: z.string().default('val_loss') }).strict().optional(),
    seed: z.number().int().min(0).default(0),
    /** LibTorch threads; default: every core. */
    threads: upTo(LIMITS.threads, 'threads; more than the cores only adds contention').optional(),
    nanGuard: z.enum(['halt', 'skip']).default('halt'),
  })
  .strict();

export const CheckpointConfig = z
  .object({
    /** Save `last` every this many steps as well as at each epoch's end (0 = epochs only). */
    everySteps: z.number().int().min(0).default(0),
    keep: upTo(LIMITS.checkpointsKept, 'each is a full copy of model and optimizer').default(2),
    /** Metric that picks `best` (and its direction). */
    monitor: z.string().default('val_accuracy'),
    mode: z.enum(['max', 'min']).default('max'),
  })
  .strict();

export const RunConfig = z
  .object({
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only').optional(),
    outDir: z.string().default('runs'),
    data: DataConfig.default(DataConfig.parse({})),
    augment: AugmentConfig.default(AugmentConfig.parse({})),
    model: ModelConfig.default(ModelConfig.parse({})),
    train: TrainConfig.default(TrainConfig.parse({})),
    checkpoint: CheckpointConfig.default(CheckpointConfig.parse({})),
    /** Report gallery size (highest-loss test images). */
    gallery: z.number().int().min(0).max(LIMITS.gallery, `at most ${LIMITS.gallery} (every image is inlined in the report)`).default(24),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;
