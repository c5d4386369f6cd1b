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
    /** How to read `source`; 'auto' tells from the path (a folder's contents, an extension, `fashion-mnist`). */
    format: z
      .enum(['auto', 'fashion-mnist', 'idx', 'image-folder', 'segmentation', 'manifest', 'cifar10', 'cifar100', 'npy', 'packed', 'webdataset'])
      .default('auto'),
    /** A separate test set (same format); without it, `testSplit` of the source is held out. */
    test: z.string().min(1).optional(),
    /** Share of the training set held out for validation (0 = none: `best` then follows train_loss). */
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
    /** 1 (grey) or 3 (colour); default: from the data, or what `model.pretrained` takes. */
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** Worker threads that decode and augment; 0 runs them on the main thread's event loop. */
    workers: z.number().int().min(0).max(LIMITS.workers, `at most ${LIMITS.workers} (each worker is a thread with its own memory)`).default(0),
    /** A file that cannot be decoded: skipped (and listed in the report and metrics.json), or the run fails. */
    badFiles: z.enum(['skip', 'fail']).default('skip'),
    /** Reuse (or create) a splits file, so that every run sees the same split. */
    splitsFile: z.string().optional(),
  })
  .strict();

export const AugmentConfig = z
  .object({
    /** Random crop after zero padding by this many pixels (0 = off). */
    cropPadding: z.number().int().min(0).default(2),
    /** Random horizontal flip (half the images). */
    hflip: z.boolean().default(true),
    /** Random vertical flip (half the images). */
    vflip: z.boolean().default(false),
    /** Random erasing probability (0 = off). */
    erasing: fraction.default(0),
    /** MixUp's α: pairs of images and labels blended with a Beta(α, α) weight (0 = off; with cutmix, each batch gets one of the two). */
    mixup: z.number().min(0).default(0),
    /** CutMix's α: a box of another image pasted in, labels mixed by area (0 = off). */
    cutmix: z.number().min(0).default(0),
    /**
     * Test-time flip: the test pass (and `tessera eval`/`predict`/`serve` of the saved model, and
     * its ONNX export unless --no-test-flip) averages the logits of each image and of its mirror
     * image. Default: on when training flips (`hflip`);
     * classification only (a mask or a reconstruction would have to be flipped back).
     */
    testFlip: z.boolean().optional(),
    /**
     * Per-channel mean and std, 'imagenet' (torchvision's: mean [0.485, 0.456, 0.406], std [0.229,
     * 0.224, 0.225]) or 'measured' (on the training set). Default: 'measured', but with
     * `model.pretrained` the statistics the weights were trained with (src/run/transfer.ts).
     */
    normalize: z
      .union([z.enum(['imagenet', 'measured']), z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) }).strict()])
      .optional(),
  })
  .strict();

/** The zoo's structural options a run may set (each read by the models of one task; run/tasks refuses the others). */
export const ModelOptionsConfig = z
  .object({
    /** unet: channels of the first level (default 64). */
    baseWidth: upTo(4096, 'channels').optional(),
    /** unet: number of 2× poolings (default 4). */
    depth: upTo(8, 'poolings').optional(),
    /** unet: 'transposed' convolutions or 'bilinear' upsampling. */
    upsampling: z.enum(['transposed', 'bilinear']).optional(),
    /** Autoencoders: encoder widths, one 2× pooling each (default [32, 16, 8]). */
    widths: z.array(upTo(4096, 'channels')).min(1).max(8).optional(),
    /** Autoencoders: 'sigmoid' outputs in [0, 1] (default) or 'linear'. */
    output: z.enum(['sigmoid', 'linear']).optional(),
    /** Autoencoders: std of the noise added to inputs in training (denoising-autoencoder: default 0.3). */
    noise: z.number().min(0).optional(),
  })
  .strict();

export const ModelConfig = z
  .object({
    /** A zoo model, or 'auto': chosen from the data and the task (classify: fashion-net for small grey images such as Fashion-MNIST, resnet9 for colour or larger ones; segment: unet; reconstruct: conv-autoencoder), or with `pretrained` the weights' own (torchvision's ResNet layouts, a Tessera run's model.json). */
    name: z.string().min(1).default('auto'),
    /** Structural options of the zoo model (unet's width and depth, the autoencoders' widths, output and noise). */
    options: ModelOptionsConfig.optional(),
    /** Weights to start from (.pt or .safetensors), loaded by key; a mismatched head is re-initialised. */
    pretrained: z.string().optional(),
    /** ResNets' stem: 'imagenet' (7×7/2 conv + max pool) or 'small' (3×3/1 conv); default: what `pretrained` needs, else 'small' at ≤ 64 px. */
    stem: z.enum(['imagenet', 'small']).optional(),
    /** Train the head only: every parameter outside the model's last Linear layer is frozen (see `unfreezeAfter`). */
    freezeBackbone: z.boolean().default(false),
    /** Freeze the backbone for this many epochs, then train the whole model (fastai's fine_tune; implies freezeBackbone until then). */
    unfreezeAfter: positiveInt.optional(),
    /** The backbone's learning rate as a fraction of the head's (discriminative learning rates; 1 = one rate for all). */
    backboneLrMult: z.number().gt(0).max(1).default(1),
    /** Batch norm in a frozen backbone keeps training (fastai's train_bn): its scale and shift learn, its statistics update. Default: frozen with the rest, in eval mode. */
    trainBn: z.boolean().default(false),
    /**
     * Model and batches in channels_last memory format (NHWC strides: oneDNN's native layout). 'auto'
     * (the default): on for the zoo models measured faster that way (fashion-net, seed-mnist-cnn,
     * resnet18, mobilenet-v2), else off.
     */
    channelsLast: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  })
  .strict();

export const OptimizerConfig = z
  .object({
    /** The optimizer (PyTorch's, with its defaults for what is not set here). */
    name: z.enum(['sgd', 'adam', 'adamw', 'rmsprop', 'lion']).default('sgd'),
    /** The peak learning rate: where one-cycle peaks, what cosine and step start from (the head's, with `model.backboneLrMult`). */
    lr: z.number().positive().default(0.1),
    /** Momentum of SGD and RMSprop; one-cycle moves it ±0.05 around this value, against the lr (0.9: PyTorch's 0.95 → 0.85 → 0.95). */
    momentum: fraction.default(0.9),
    /** Nesterov momentum (SGD). */
    nesterov: z.boolean().default(true),
    /** Weight decay (decoupled for AdamW and Lion); never on norm layers and biases. */
    weightDecay: z.number().min(0).default(5e-4),
  })
  .strict();

export const ScheduleConfig = z
  .object({
    /** How the learning rate moves over the run, once per optimizer step. */
    name: z.enum(['one-cycle', 'cosine', 'step', 'constant']).default('one-cycle'),
    /** Fraction of the run spent warming up (one-cycle's pct_start, cosine's linear warm-up). */
    warmup: fraction.default(0.2),
    /** Step schedule: epochs between two multiplications by `gamma`. */
    stepEpochs: positiveInt.default(10),
    /** Step schedule: the factor applied every `stepEpochs`. */
    gamma: z.number().positive().max(1).default(0.1),
  })
  .strict();

export const EarlyStoppingConfig = z
  .object({
    /** Epochs without improvement before the run stops. */
    patience: positiveInt,
    /** The logged value watched (`val_loss`, `val_accuracy`, …): lower is better for losses, higher for the rest. */
    monitor: z.string().default('val_loss'),
  })
  .strict();

export const TrainConfig = z
  .object({
    /** Passes over the training set. */
    epochs: upTo(LIMITS.epochs, 'passes over the data').default(9),
    /** Images per batch (the last, shorter one is kept unless `data.dropLast`). */
    batchSize: upTo(LIMITS.batchSize, 'images per step').default(128),
    optimizer: OptimizerConfig.default(OptimizerConfig.parse({})),
    schedule: ScheduleConfig.default(ScheduleConfig.parse({})),
    /** Label smoothing of the training loss (validation and test losses are the plain cross-entropy). */
    labelSmoothing: z.number().min(0).max(0.5).default(0.1),
    /**
     * The objective; default: the task's (classify and segment: cross-entropy, multilabel: bce,
     * reconstruct: mse). segment also takes dice and dice+cross-entropy; reconstruct bce (sigmoid outputs).
     */
    loss: z.enum(['cross-entropy', 'dice', 'dice+cross-entropy', 'bce', 'mse']).optional(),
    /** Autocast: 'auto' (the default) is bf16 on a CPU with native bf16 arithmetic, else off (src/runtime/precision.ts); the saved config has the choice. fp16 on CUDA only (with a gradient scaler). */
    mixedPrecision: z.enum(['auto', 'off', 'bf16', 'fp16']).default('auto'),
    /** Batches whose gradients add up to one optimizer step. */
    gradAccumulation: upTo(LIMITS.gradAccumulation, 'batches per optimizer step').default(1),
    /** Clip the gradients' joint L2 norm to this before each step (off when unset). */
    clipGradNorm: z.number().positive().optional(),
    /** Decay of an exponential moving average of the weights, which becomes the run's model (off when unset; 0.999 is usual). */
    ema: z.number().gt(0).lt(1).optional(),
    /** Weight the loss by inverse class frequency (an imbalanced data set); with the weighted sampler, the sampler's weights instead. */
    classWeights: z.enum(['none', 'inverse', 'inverse-sqrt', 'effective']).default('none'),
    /** 'weighted' draws classes equally often (by `classWeights`' rule, inverse by default) instead of shuffling. */
    sampler: z.enum(['random', 'weighted']).default('random'),
    /** Stop when the monitored value has not improved for `patience` epochs, keeping the best epoch's weights (off when unset). */
    earlyStopping: EarlyStoppingConfig.optional(),
    /** Seed of the weights, the splits, the order and the augmentation: the same seed gives the same run. */
    seed: z.number().int().min(0).default(0),
    /** LibTorch threads; default: every core. */
    threads: upTo(LIMITS.threads, 'threads; more than the cores only adds contention').optional(),
    /** A non-finite loss: 'halt' stops the run as failed (exit 1); 'skip' drops that batch and goes on. */
    nanGuard: z.enum(['halt', 'skip']).default('halt'),
  })
  .strict();

export const CheckpointConfig = z
  .object({
    /** Save `last` every this many steps as well as at each epoch's end (0 = epochs only). */
    everySteps: z.number().int().min(0).default(0),
    /** Generations of `last` kept (the newest and older ones, for a checkpoint damaged by a crash). */
    keep: upTo(LIMITS.checkpointsKept, 'each is a full copy of model and optimizer').default(2),
    /** Metric that picks `best` (and its direction). */
    monitor: z.string().default('val_accuracy'),
    /** Whether `monitor` is better when higher ('max') or lower ('min'). */
    mode: z.enum(['max', 'min']).default('max'),
  })
  .strict();

/** What the run trains a model to do (src/run/tasks/); the long names are accepted as they are written in prose. */
export const TASKS = ['classify', 'segment', 'multilabel', 'reconstruct'] as const;
const TASK_ALIASES: Record<string, (typeof TASKS)[number]> = { classification: 'classify', segmentation: 'segment', 'multi-label': 'multilabel', reconstruction: 'reconstruct' };

export const RunConfig = z
  .object({
    /** The run's name, its directory under `outDir`; default `<model>-<source>` (a finished run's name gets -2, -3, …). */
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only').optional(),
    /** What the model learns (src/run/tasks/): 'classify', 'segment' (masks), 'multilabel' (several labels an image) or 'reconstruct' (autoencoders); the long names (`segmentation`, …) are accepted too. */
    task: z.preprocess((v) => (typeof v === 'string' ? (TASK_ALIASES[v] ?? v) : v), z.enum(TASKS)).default('classify'),
    /** multilabel: a label is predicted when its probability is above this (default 0.5); refused for the other tasks. */
    threshold: fraction.optional(),
    /** Where run directories go. */
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
