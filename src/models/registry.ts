// The zoo by name, for the command line and configuration files: `createModel('resnet18',
// { classes: 5 })`. Names are matched ignoring case, '-' and '_' (so `mobilenet_v2`, `mobilenetV2`
// and `mobilenet-v2` are one model); an unknown name is an error listing the known ones and the
// closest match. Each model has a task — what its output is — so a caller can refuse a model that
// does not fit the job (`modelInfo(name).task`) and list the zoo by task.
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { convAutoencoder, denoisingAutoencoder, type ReconstructionOutput } from './autoencoder.js';
import { lenet5, mlp } from './classic.js';
import { dcgan } from './dcgan.js';
import { fashionNet } from './fashion-net.js';
import { mobilenetV2 } from './mobilenetv2.js';
import { resnet18, resnet34, resnet50, type ResNetStem } from './resnet.js';
import { resnet9 } from './resnet9.js';
import { seedGan } from './gan-seed.js';
import { seedCifarCnn, seedFaceCropCnn, seedFacesCnn, seedImagenet64Cnn, seedMlp, seedMnistCnn, seedMnistFcn, type SeedInit } from './seeds.js';
import { unet, type UNetUpsampling } from './unet.js';
import { smallVgg, vgg11Bn, vgg13Bn, vgg16Bn, vgg19Bn, type VggConfig } from './vgg.js';

/**
 * What a model's output is: 'classify' (B, classes) logits; 'segment' (B, classes, H, W) logits per
 * pixel; 'reconstruct' (B, C, H, W) images of its input's shape; 'generate' (B, C, H, W) images from
 * (B, ...input) noise (the model is a `Gan`: generator and discriminator).
 */
export type ModelTask = 'classify' | 'segment' | 'reconstruct' | 'generate';

export const MODEL_TASKS: readonly ModelTask[] = ['classify', 'segment', 'reconstruct', 'generate'];

/** What createModel passes on; each model reads the options that apply to it and ignores the rest. */
export interface CreateModelOptions {
  /** Output classes of a classify or segment model (default: the model's own, see listModels). */
  classes?: number;
  /** Image channels (1 grey, 3 RGB): of the input, or for a generator of the images it makes. */
  inChannels?: number;
  /**
   * Square image side. Fixes the flatten size of models without global pooling (mlp, LeNet, seeds)
   * and the size a generator makes (dcgan: b·2^k, b in 4..7, e.g. 28, 32, 64).
   */
  imageSize?: number;
  /** Dropout where the model has one (mlp, mobilenet, vgg, fashion-net). */
  dropout?: number;
  /** mlp: hidden widths (default [256]). */
  hidden?: readonly number[];
  /** mobilenet-v2: width multiplier. */
  widthMult?: number;
  /**
   * resnet18/34/50: the stem, 'imagenet' (torchvision's: 7×7/2 conv + max pool, what its weights
   * need) or 'small' (3×3/1 conv, no pool). Not given: 'small' when imageSize ≤ 64, else 'imagenet'
   * (`resnetStemOf(stateDict)` tells which one a weights file needs).
   */
  stem?: ResNetStem;
  /** small-vgg: features configuration. */
  config?: VggConfig;
  /** Seeds' models: Keras or PyTorch initialisation. */
  init?: SeedInit;
  /** dcgan: length of the noise vector (default 100). */
  nz?: number;
  /** dcgan: generator and discriminator widths (default 64 each). */
  ngf?: number;
  ndf?: number;
  /** unet: channels of the first level (default 64). */
  baseWidth?: number;
  /** unet: number of 2× poolings (default 4). */
  depth?: number;
  /** unet: 'transposed' convolutions (default) or 'bilinear' upsampling. */
  upsampling?: UNetUpsampling;
  /** Autoencoders: encoder widths, one 2× pooling each (default [32, 16, 8]). */
  widths?: readonly number[];
  /** Autoencoders: 'sigmoid' outputs in [0, 1] (default, for BCE) or 'linear' (unbounded, for MSE). */
  output?: ReconstructionOutput;
  /** Autoencoders: std of the Gaussian noise added to inputs in training (denoising-autoencoder: default 0.3). */
  noise?: number;
}

export interface ModelInfo {
  name: string;
  description: string;
  task: ModelTask;
  /**
   * The input it was designed for, (C, H, W); models with global pooling and fully convolutional
   * ones accept other sizes. A generator's input is its noise, (nz, 1, 1).
   */
  input: readonly [number, number, number];
  /** Its output for that input, without the batch: (classes), (classes, H, W) or (C, H, W) (see ModelTask). */
  output: readonly number[];
  /** Default number of classes of a classify or segment model; absent for the other tasks. */
  classes?: number;
  /** The PyTorch/torchvision model with the same state-dict keys, if any. */
  twin?: string;
  /**
   * Trains measurably faster in channels_last (NHWC strides, oneDNN's native layout): what
   * `model.channelsLast: auto` (the default) picks. Set only where measured (BENCHMARKS.md).
   */
  channelsLast?: true;
}

/** A zoo model: a Module mapping a (B, ...input) batch to (B, ...output) (see ModelTask). */
export type ZooModel = Module & { forward(x: Tensor): Tensor };

interface Entry extends ModelInfo {
  create(o: CreateModelOptions, info: ModelInfo): ZooModel;
}

/** A classifier's entry: its output is (classes). */
const classifier = (e: Omit<Entry, 'task' | 'output'> & { classes: number }): Entry => ({ ...e, task: 'classify', output: [e.classes] });

// Resolved options: the caller's, or the entry's defaults.
const ch = (o: CreateModelOptions, i: ModelInfo) => o.inChannels ?? i.input[0];
const size = (o: CreateModelOptions, i: ModelInfo) => o.imageSize ?? i.input[1];
const k = (o: CreateModelOptions, i: ModelInfo) => o.classes ?? (i.classes as number);
const opt = <T>(key: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [key]: v });

const resnet = (f: typeof resnet18) => (o: CreateModelOptions, i: ModelInfo) =>
  f({ numClasses: k(o, i), inChannels: ch(o, i), stem: o.stem ?? (size(o, i) <= 64 ? 'small' : 'imagenet') });
const vgg = (f: typeof vgg11Bn) => (o: CreateModelOptions, i: ModelInfo) => f({ numClasses: k(o, i), inChannels: ch(o, i), ...opt('dropout', o.dropout) });
const seed = (f: typeof seedCifarCnn) => (o: CreateModelOptions, i: ModelInfo) =>
  f({ numClasses: k(o, i), inChannels: ch(o, i), imageSize: size(o, i), ...opt('init', o.init) });

const CLASSIFIERS: Parameters<typeof classifier>[0][] = [
  { name: 'fashion-net', description: 'Compact residual CNN (~0.46 M parameters) for Fashion-MNIST: the main job\'s default', input: [1, 28, 28], classes: 10, channelsLast: true,
    create: (o, i) => fashionNet({ numClasses: k(o, i), inChannels: ch(o, i), ...opt('dropout', o.dropout) }) },
  { name: 'mlp', description: 'Multilayer perceptron on flattened pixels (hidden widths via `hidden`)', input: [1, 28, 28], classes: 10,
    create: (o, i) => mlp({ inputs: ch(o, i) * size(o, i) ** 2, hidden: o.hidden ?? [256], classes: k(o, i), ...opt('dropout', o.dropout) }) },
  { name: 'lenet5', description: 'LeNet-5 (tanh, average pooling), for 32×32 or 28×28 grey images', input: [1, 32, 32], classes: 10,
    create: (o, i) => lenet5({ numClasses: k(o, i), inChannels: ch(o, i), imageSize: size(o, i) }) },
  { name: 'resnet9', description: 'ResNet-9 of the DAWNBench CIFAR-10 entry (6.5 M parameters)', input: [3, 32, 32], classes: 10,
    create: (o, i) => resnet9({ numClasses: k(o, i), inChannels: ch(o, i) }) },
  { name: 'resnet18', description: 'ResNet-18; `stem`: small (default at ≤ 64 px) or imagenet', input: [3, 224, 224], classes: 1000, channelsLast: true, twin: 'torchvision.models.resnet18', create: resnet(resnet18) },
  { name: 'resnet34', description: 'ResNet-34; `stem`: small (default at ≤ 64 px) or imagenet', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.resnet34', create: resnet(resnet34) },
  { name: 'resnet50', description: 'ResNet-50 (bottleneck, v1.5); `stem`: small (default at ≤ 64 px) or imagenet', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.resnet50', create: resnet(resnet50) },
  { name: 'mobilenet-v2', description: 'MobileNetV2 (width multiplier via `widthMult`)', input: [3, 224, 224], classes: 1000, channelsLast: true, twin: 'torchvision.models.mobilenet_v2',
    create: (o, i) => mobilenetV2({ numClasses: k(o, i), inChannels: ch(o, i), ...opt('widthMult', o.widthMult), ...opt('dropout', o.dropout) }) },
  { name: 'vgg11-bn', description: 'VGG-11 with batch norm', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.vgg11_bn', create: vgg(vgg11Bn) },
  { name: 'vgg13-bn', description: 'VGG-13 with batch norm', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.vgg13_bn', create: vgg(vgg13Bn) },
  { name: 'vgg16-bn', description: 'VGG-16 with batch norm', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.vgg16_bn', create: vgg(vgg16Bn) },
  { name: 'vgg19-bn', description: 'VGG-19 with batch norm', input: [3, 224, 224], classes: 1000, twin: 'torchvision.models.vgg19_bn', create: vgg(vgg19Bn) },
  { name: 'small-vgg', description: 'VGG-style BN features (32·32·M·64·64·M·128·128·M) + global pool + linear, for 28×28/32×32', input: [1, 28, 28], classes: 10,
    create: (o, i) => smallVgg({ numClasses: k(o, i), inChannels: ch(o, i), ...opt('config', o.config), ...opt('dropout', o.dropout) }) },
  { name: 'seed-cifar-cnn', description: 'Seed 000: conv32-pool-conv64-pool-dense128-dense10 (Keras, CIFAR-10)', input: [3, 32, 32], classes: 10, create: seed(seedCifarCnn) },
  { name: 'seed-mnist-cnn', description: 'Seed 001: conv32/64/128 with pools, dense128-dense10 (Keras)', input: [1, 28, 28], classes: 10, channelsLast: true, create: seed(seedMnistCnn) },
  { name: 'seed-mnist-fcn', description: 'Seed 001: dense128-dense10 on flattened pixels (Keras)', input: [1, 28, 28], classes: 10,
    create: (o, i) => seedMnistFcn({ inputs: ch(o, i) * size(o, i) ** 2, numClasses: k(o, i), ...opt('init', o.init) }) },
  { name: 'seed-face-crop-cnn', description: 'Seed 002: conv32-pool-dense512-dense10 on 32×32 face crops (Keras)', input: [3, 32, 32], classes: 10, create: seed(seedFaceCropCnn) },
  { name: 'seed-faces-cnn', description: 'Seed 002: conv32/64/128 with pools, dense128-dense5 on 64×64 faces (Keras)', input: [3, 64, 64], classes: 5, create: seed(seedFacesCnn) },
  { name: 'seed-imagenet64-cnn', description: 'Seed 003: conv32-pool-conv64-pool-conv64-dense64-dense10 on 64×64 (Keras)', input: [3, 64, 64], classes: 10, create: seed(seedImagenet64Cnn) },
  { name: 'seed-mlp', description: 'Seed 004: fc1 784→500, fc2 500→10 (PyTorch)', input: [1, 28, 28], classes: 10,
    create: (o, i) => seedMlp({ inputs: ch(o, i) * size(o, i) ** 2, numClasses: k(o, i), ...opt('init', o.init) }) },
];

const autoencoder = (f: typeof convAutoencoder) => (o: CreateModelOptions, i: ModelInfo) =>
  f({ inChannels: ch(o, i), ...opt('widths', o.widths), ...opt('output', o.output), ...opt('noise', o.noise) });

const OTHERS: Entry[] = [
  { name: 'unet', task: 'segment', description: 'U-Net (milesial/Pytorch-UNet names): `baseWidth` 64, `depth` 4, `upsampling` transposed or bilinear; any H, W ≥ 2^depth', input: [3, 128, 128],
    output: [2, 128, 128], classes: 2, twin: 'milesial/Pytorch-UNet UNet',
    create: (o, i) => unet({ inChannels: ch(o, i), numClasses: k(o, i), ...opt('baseWidth', o.baseWidth), ...opt('depth', o.depth), ...opt('upsampling', o.upsampling) }) },
  { name: 'conv-autoencoder', task: 'reconstruct', description: 'Convolutional autoencoder (conv-pool ×3 to a 4×4×8 code, transposed convs back), sigmoid or linear output', input: [1, 28, 28],
    output: [1, 28, 28], create: autoencoder(convAutoencoder) },
  { name: 'denoising-autoencoder', task: 'reconstruct', description: 'The convolutional autoencoder trained on inputs with Gaussian noise (`noise` σ, default 0.3)', input: [1, 28, 28],
    output: [1, 28, 28], create: autoencoder(denoisingAutoencoder) },
  { name: 'dcgan', task: 'generate', description: 'DCGAN of PyTorch\'s example (netG/netD `main.N` keys, N(0, 0.02) init); `nz`, `ngf`, `ndf`, imageSize b·2^k (64, 32, 28)', input: [100, 1, 1],
    output: [3, 64, 64], twin: 'pytorch/examples dcgan _netG/_netD',
    create: (o) => dcgan({ ...opt('nz', o.nz), ...opt('ngf', o.ngf), ...opt('ndf', o.ndf), ...opt('nc', o.inChannels), ...opt('imageSize', o.imageSize) }) },
  { name: 'seed-gan', task: 'generate', description: 'Seed 001: create_gan, dense generator of 4×4×3 images and conv32/64/128 discriminator (Keras; made to run)', input: [100, 1, 1],
    output: [3, 4, 4], create: (o) => seedGan({ ...opt('init', o.init) }) },
];

const ENTRIES: readonly Entry[] = [...CLASSIFIERS.map(classifier), ...OTHERS];

const normalize = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');
const BY_KEY = new Map(ENTRIES.map((e) => [normalize(e.name), e]));

const infoOf = ({ create: _, ...info }: Entry): ModelInfo => ({ ...info });

/** The zoo (or the models of one task): name, description, task, designed-for input and output, default classes, twin. */
export function listModels(filter: { task?: ModelTask } = {}): ModelInfo[] {
  if (filter.task !== undefined && !MODEL_TASKS.includes(filter.task)) throw new RangeError(`listModels: unknown task '${String(filter.task)}': expected one of ${MODEL_TASKS.join(', ')}`);
  return ENTRIES.filter((e) => filter.task === undefined || e.task === filter.task).map(infoOf);
}

/** What the zoo says about `name` (its task, input, output), without building it; throws as createModel does for an unknown name. */
export function modelInfo(name: string): ModelInfo {
  return infoOf(entryOf(name));
}

/** A fresh model by zoo name; throws naming the known models (and the closest) for an unknown one. */
export function createModel(name: string, options: CreateModelOptions = {}): ZooModel {
  const entry = entryOf(name);
  return entry.create(options, infoOf(entry));
}

/** The zoo entry of `name` (case, `-` and `_` ignored); throws naming the known models (and the closest) for an unknown one. */
function entryOf(name: string): Entry {
  const entry = BY_KEY.get(normalize(name));
  if (entry) return entry;
  const closest = ENTRIES.map((e) => [e.name, editDistance(normalize(name), normalize(e.name))] as const).sort((a, b) => a[1] - b[1])[0];
  const hint = closest && closest[1] <= Math.max(2, Math.floor(normalize(name).length / 3)) ? ` Did you mean '${closest[0]}'?` : '';
  throw new RangeError(`unknown model '${name}'.${hint} Known models: ${ENTRIES.map((e) => e.name).join(', ')}`);
}

/** Optimal-string-alignment distance: insert, delete, substitute, swap two neighbours (1 each). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  return at(a.length, b.length);
}
