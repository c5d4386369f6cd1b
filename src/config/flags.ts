// The command line's names for config fields: `--epochs 5` is `train.epochs: 5`. The CLI builds
// its options from this table, and messages about a field name the flag a user typed alongside
// its config path, so an error reads in the words of whoever made it.

export interface Shorthand {
  /** The flag with its argument, as commander declares it: `--epochs <n>`. */
  flag: string;
  /** The config path it sets. */
  path: string;
  help: string;
  /** The value is a name or a path, kept as a string (numbers and booleans are parsed as JSON). */
  text?: boolean;
}

export const SHORTHANDS: readonly Shorthand[] = [
  { flag: '--task <name>', path: 'task', help: 'classify (default), segment, multilabel or reconstruct', text: true },
  { flag: '--model <name>', path: 'model.name', help: 'model from the zoo (see `tessera models`)', text: true },
  { flag: '--loss <name>', path: 'train.loss', help: "the task's objective: cross-entropy, dice, dice+cross-entropy, bce or mse", text: true },
  { flag: '--threshold <x>', path: 'threshold', help: 'multilabel: probability above which a label is predicted (default 0.5)' },
  { flag: '--epochs <n>', path: 'train.epochs', help: 'passes over the training set' },
  { flag: '--batch-size <n>', path: 'train.batchSize', help: 'images per step' },
  { flag: '--lr <x>', path: 'train.optimizer.lr', help: 'peak learning rate' },
  { flag: '--optimizer <name>', path: 'train.optimizer.name', help: 'sgd, adam, adamw, rmsprop or lion', text: true },
  { flag: '--schedule <name>', path: 'train.schedule.name', help: 'one-cycle, cosine, step or constant', text: true },
  { flag: '--label-smoothing <x>', path: 'train.labelSmoothing', help: 'label smoothing of the cross-entropy' },
  { flag: '--seed <n>', path: 'train.seed', help: 'seed for weights, order and augmentation' },
  { flag: '--threads <n>', path: 'train.threads', help: 'LibTorch threads (default: every core)' },
  { flag: '--mixed-precision <mode>', path: 'train.mixedPrecision', help: 'auto (bf16 where the CPU has native bf16), off, bf16 (CPU/CUDA) or fp16 (CUDA)', text: true },
  { flag: '--val-split <x>', path: 'data.valSplit', help: 'share of the training set held out for validation' },
  { flag: '--test <source>', path: 'data.test', help: 'a separate test set', text: true },
  { flag: '--workers <n>', path: 'data.workers', help: 'decoding/augmentation worker threads' },
  { flag: '--image-size <HxW>', path: 'data.imageSize', help: 'resize images to this size, e.g. 64 or 64x48 (data.imageSize)' },
  { flag: '--name <name>', path: 'name', help: 'run name (the directory under --out-dir)', text: true },
  { flag: '--out-dir <dir>', path: 'outDir', help: 'where run directories go (default runs)', text: true },
  { flag: '--pretrained <file>', path: 'model.pretrained', help: 'start from these weights (.pt or .safetensors); a ResNet gets the stem they need', text: true },
  { flag: '--freeze-backbone', path: 'model.freezeBackbone', help: 'train the head only (the last Linear layer); the backbone, batch norm included, stays as loaded' },
  { flag: '--unfreeze-after <epochs>', path: 'model.unfreezeAfter', help: 'train the head only for this many epochs, then the whole model' },
  { flag: '--backbone-lr-mult <x>', path: 'model.backboneLrMult', help: "the backbone's learning rate as a fraction of --lr (e.g. 0.1)" },
  { flag: '--train-bn', path: 'model.trainBn', help: 'batch norm in a frozen backbone keeps training (fastai: train_bn)' },
  { flag: '--normalize <stats>', path: 'augment.normalize', help: "imagenet or measured (default: measured; with --pretrained, the weights' own)", text: true },
];

/** `--epochs` for `train.epochs`, or undefined for a field without a shorthand. */
export function flagOf(path: string): string | undefined {
  return SHORTHANDS.find((s) => s.path === path)?.flag.split(' ')[0];
}

/** A field as messages name it: `train.epochs (--epochs)`, or the path alone. */
export function fieldName(path: string): string {
  const flag = flagOf(path);
  return flag ? `${path} (${flag})` : path;
}
