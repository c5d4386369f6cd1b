// `tessera gan`'s configuration: its own schema (a GAN run has two models, two optimizers, sample
// grids and a quality figure, and no classes, splits or augmentation), read like `tessera train`'s —
// a JSON/YAML file, then flags, then --set, then defaults — with the same bounds on what can only
// exhaust the machine (../../config/limits.ts) and messages that name the flag as typed.
// Defaults are PyTorch's DCGAN example (pytorch/examples dcgan/main.py): nz 100, ngf/ndf 64, batch
// 64, Adam lr 2e-4 with β1 0.5, a grid of 64 samples; the image size is the data's (see imageSizeFor).
import { z } from 'zod';

import { fitCount, LIMITS, ResourceLimitError, thisMachine, type Machine } from '../../config/limits.js';
import { ConfigError, resolveWith, type Override } from '../../config/load.js';
import { DataConfig, ScheduleConfig } from '../../config/schema.js';

const positiveInt = z.number().int().positive();
const upTo = (max: number, why: string) => positiveInt.max(max, `at most ${max.toLocaleString('en-US')} (${why})`);

export const GAN_MODELS = ['dcgan', 'seed-gan'] as const;
export type GanModelName = (typeof GAN_MODELS)[number];

const GanData = z
  .object({
    source: DataConfig.shape.source,
    format: DataConfig.shape.format,
    /** Square side of the images the generator makes; default: from the data and the model (imageSizeFor). */
    imageSize: upTo(LIMITS.imageSide, 'pixels per side; larger images exhaust memory').optional(),
    /** 1 (grey) or 3; default: the data's (seed-gan: 3, its generator's). */
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    workers: DataConfig.shape.workers,
    badFiles: DataConfig.shape.badFiles,
  })
  .strict();

const GanModel = z
  .object({
    name: z.enum(GAN_MODELS).default('dcgan'),
    /** dcgan only: noise length (default 100) and the widths of G and D (default 64 each). */
    nz: upTo(4096, 'noise dimensions').optional(),
    ngf: upTo(4096, 'channels').optional(),
    ndf: upTo(4096, 'channels').optional(),
  })
  .strict();

const GanTrain = z
  .object({
    epochs: upTo(LIMITS.epochs, 'passes over the data').default(5),
    batchSize: upTo(LIMITS.batchSize, 'images per step').default(64),
    /** Adam's lr and β1, the same for both models. */
    lr: z.number().positive().max(1).default(2e-4),
    beta1: z.number().min(0).lt(1).default(0.5),
    /** One-sided: the discriminator's target for real images is 1 − labelSmoothing. */
    labelSmoothing: z.number().min(0).lt(0.5).default(0),
    /** Each model's lr schedule (one per optimizer, stepped by its own steps); constant, as the example. */
    schedule: ScheduleConfig.extend({ name: ScheduleConfig.shape.name.unwrap().default('constant') }).default(ScheduleConfig.parse({ name: 'constant' })),
    seed: z.number().int().min(0).default(0),
    threads: upTo(LIMITS.threads, 'threads; more than the cores only adds contention').optional(),
  })
  .strict();

const GanQuality = z
  .object({
    /** A classification run of `tessera train` whose penultimate features the Fréchet distance uses. */
    classifier: z.string().min(1).optional(),
    /** Generated and real images each set of statistics is computed from. */
    samples: z.number().int().min(16).max(100_000).default(2000),
    /** A class is covered when at least this share of the generated images is classified as it. */
    minShare: z.number().gt(0).max(1).default(0.02),
  })
  .strict();

const GanCheckpoint = z
  .object({
    /** Save `last` every this many steps as well as at each epoch's end (0 = epochs only). */
    everySteps: z.number().int().min(0).default(0),
    keep: upTo(LIMITS.checkpointsKept, 'each is a full copy of both models and optimizers').default(2),
  })
  .strict();

export const GanConfig = z
  .object({
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only').optional(),
    outDir: z.string().default('runs'),
    data: GanData.default(GanData.parse({})),
    model: GanModel.default(GanModel.parse({})),
    train: GanTrain.default(GanTrain.parse({})),
    /** Images in each epoch's grid, drawn from one fixed noise batch. */
    samples: z.number().int().min(1).max(1024, 'at most 1,024 (every grid is inlined in the report)').default(64),
    quality: GanQuality.default(GanQuality.parse({})),
    checkpoint: GanCheckpoint.default(GanCheckpoint.parse({})),
  })
  .strict();

export type GanConfig = z.infer<typeof GanConfig>;

/** The command line's names for config fields, as SHORTHANDS for `tessera train`. */
export const GAN_FLAGS: readonly { flag: string; path: string; help: string; text?: boolean }[] = [
  { flag: '--model <name>', path: 'model.name', help: 'dcgan (PyTorch example\'s) or seed-gan (seed 001\'s)', text: true },
  { flag: '--image-size <n>', path: 'data.imageSize', help: 'side of the generated images (dcgan: b·2^k, b in 4..7, e.g. 28, 32, 64)' },
  { flag: '--channels <n>', path: 'data.channels', help: '1 (grey) or 3 (colour); default: the data\'s' },
  { flag: '--nz <n>', path: 'model.nz', help: 'dcgan: length of the noise vector (default 100)' },
  { flag: '--ngf <n>', path: 'model.ngf', help: 'dcgan: generator width (default 64)' },
  { flag: '--ndf <n>', path: 'model.ndf', help: 'dcgan: discriminator width (default 64)' },
  { flag: '--epochs <n>', path: 'train.epochs', help: 'passes over the data (default 5)' },
  { flag: '--batch-size <n>', path: 'train.batchSize', help: 'real images per step (default 64)' },
  { flag: '--lr <x>', path: 'train.lr', help: 'Adam learning rate of both models (default 2e-4)' },
  { flag: '--beta1 <x>', path: 'train.beta1', help: 'Adam β1 (default 0.5)' },
  { flag: '--label-smoothing <x>', path: 'train.labelSmoothing', help: 'one-sided: real images\' target is 1 − x (default 0)' },
  { flag: '--schedule <name>', path: 'train.schedule.name', help: 'each model\'s lr schedule: constant (default), cosine, step or one-cycle', text: true },
  { flag: '--seed <n>', path: 'train.seed', help: 'seed for weights, noise and order' },
  { flag: '--threads <n>', path: 'train.threads', help: 'LibTorch threads (default: every core)' },
  { flag: '--workers <n>', path: 'data.workers', help: 'decoding worker threads' },
  { flag: '--samples <n>', path: 'samples', help: 'images in each epoch\'s sample grid (default 64)' },
  { flag: '--classifier <run>', path: 'quality.classifier', help: 'a `tessera train` run whose features the Fréchet distance and class coverage use', text: true },
  { flag: '--quality-samples <n>', path: 'quality.samples', help: 'images per set for the Fréchet distance (default 2000)' },
  { flag: '--name <name>', path: 'name', help: 'run name (the directory under --out-dir)', text: true },
  { flag: '--out-dir <dir>', path: 'outDir', help: 'where run directories go (default runs)', text: true },
];

/** `data.imageSize (--image-size)`: a field as messages name it. */
export function ganField(path: string): string {
  const flag = GAN_FLAGS.find((f) => f.path === path)?.flag.split(' ')[0];
  return flag ? `${path} (${flag})` : path;
}

/** The config from a file (optional) and dotted-path overrides, checked; a ConfigError names the field and what was typed. */
export function resolveGanConfig(o: { file?: string; overrides?: readonly Override[] } = {}): GanConfig {
  const config = resolveWith(GanConfig, o);
  if (config.model.name === 'seed-gan') {
    // Seed 001's pair is fixed by the article: no options to accept and then ignore.
    for (const k of ['nz', 'ngf', 'ndf'] as const)
      if (config.model[k] !== undefined) throw new ConfigError(`${ganField(`model.${k}`)} applies to dcgan; seed-gan's noise (100) and widths are the article's`);
    if (config.data.imageSize !== undefined && config.data.imageSize !== 4) throw new ConfigError(`${ganField('data.imageSize')}: seed-gan makes 4×4 images, got ${config.data.imageSize}`);
    if (config.data.channels === 1) throw new ConfigError(`${ganField('data.channels')}: seed-gan makes 3-channel images`);
  } else if (config.data.imageSize !== undefined && !isDcganSize(config.data.imageSize)) {
    throw new ConfigError(`${ganField('data.imageSize')}: DCGAN makes images of b·2^k pixels a side, b in 4..7 and k ≥ 1 (8, 10, 12, 14, 16, 20, …, 28, 32, 40, 48, 56, 64, 80, …), got ${config.data.imageSize}`);
  }
  return config;
}

/** b·2^k with b in 4..7, k ≥ 1: the sides models.dcgan builds. */
export function isDcganSize(n: number): boolean {
  let b = n;
  let k = 0;
  while (b % 2 === 0 && b / 2 >= 4) {
    b /= 2;
    k++;
  }
  return k >= 1 && b <= 7;
}

/**
 * The side when none is given: seed-gan's 4; for dcgan the largest DCGAN size not above the images'
 * own side (their shorter side, capped at the example's 64), so 28×28 Fashion-MNIST trains at 28 and
 * photos at 64, never upsampled.
 */
export function imageSizeFor(model: GanModelName, dataSide: number): { size: number; why: string } {
  if (model === 'seed-gan') return { size: 4, why: "seed-gan's generator makes 4×4 images" };
  const cap = Math.min(dataSide, 64);
  for (let s = cap; s >= 8; s--) if (isDcganSize(s)) return { size: s, why: s === dataSide ? "the images' own" : `the largest DCGAN size up to ${cap} px, from ${dataSide}-px images` };
  throw new ConfigError(`the images are ${dataSide} px a side; DCGAN needs at least 8 (${ganField('data.imageSize')} to upsample them)`);
}

/** Threads and workers lowered to the cores here (a warning says so); a batch of images over a quarter of the memory refused. */
export function fitGanToMachine(config: GanConfig, size: number, channels: number, warn: (line: string) => void, machine: Machine = thisMachine()): GanConfig {
  // Real and generated images, and D's input gradients: a few copies of the batch at least.
  const bytes = config.train.batchSize * channels * size * size * 4;
  if (bytes > machine.memoryBytes / 4)
    throw new ResourceLimitError(`${ganField('train.batchSize')} ${config.train.batchSize} of ${size}×${size}×${channels} images needs ${(bytes / 1e9).toFixed(1)} GB for one batch, more than a quarter of this machine's memory; lower it`);
  const threads = config.train.threads === undefined ? undefined : fitCount('train.threads', config.train.threads, warn, machine);
  return { ...config, data: { ...config.data, workers: fitCount('data.workers', config.data.workers, warn, machine) }, train: { ...config.train, ...(threads === undefined ? {} : { threads }) } };
}
