// Transfer learning in a run (`tessera train --pretrained resnet18.pt --model resnet18 …`): what the
// weights file decides before the data is read, the model built from it, and the fine-tuning
// recipe. The decisions, as the README's "Transfer learning" section states them:
//   - architecture: without --model, the file's (a Tessera run's model.json beside it, else
//     torchvision's ResNet layout: resnet18, resnet34, resnet50); anything else must be named.
//   - stem: a ResNet gets the stem the file's conv1.weight needs ([64, C, 7, 7]: 'imagenet',
//     torchvision's; [64, C, 3, 3]: 'small'), whatever the image size; a `model.stem` that
//     contradicts the file is refused. The stem is saved in model.json, so eval, predict and export
//     rebuild the model that was trained.
//   - channels: as the file's first convolution takes them (3 for torchvision's weights: grey
//     photos are then decoded as RGB), unless `data.channels` is set.
//   - normalisation: the statistics the weights were trained with — a Tessera run's own (its
//     model.json beside the file), else ImageNet's (torchvision's, timm's) — unless
//     `augment.normalize` is set ('measured' measures this data's).
//   - freezing: `--freeze-backbone` trains the head (the last Linear layer) only; `--unfreeze-after
//     N` trains the head only for N epochs, then the whole model (fastai's fine_tune with
//     freeze_epochs N). The whole backbone is unfrozen at once, and one LR schedule spans the run.
//   - batch norm in a frozen backbone is frozen too: parameters and running statistics, in eval
//     mode (Keras' fine-tuning rule), so frozen features do not drift; `--train-bn` lets it learn
//     (fastai's train_bn, its default).
//   - `--backbone-lr-mult x`: the backbone's parameter groups get lr × x (discriminative rates).
// Every choice is written into the config the run saves, or into model.json, and said in the log.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { fieldName } from '../config/flags.js';
import type { RunConfig } from '../config/schema.js';
import { loadStateDictFile } from '../io/state-dict.js';
import type { Module } from '../nn/module.js';
import { splitDecayParameters } from '../nn/regularization.js';
import { createModel, type ZooModel } from '../models/registry.js';
import { ResNet, resnetStemOf } from '../models/resnet.js';
import { evalFrozenBatchNorm, freezeBackbone, headPath, loadPretrained, unfreeze } from '../models/transfer.js';
import { scope } from '../tensor/memory.js';
import type { Callback, TrainContext } from '../train/events.js';
import type { OptimizerGroup } from './optim.js';
import { PreflightError } from './preflight.js';
import { readModelJson, type SavedModelOptions } from './saved-model.js';

type Log = (line: string) => void;

/** What the weights file holds, by key: shapes only. */
function shapesOf(file: string): Map<string, { shape: number[] }> {
  return scope(() => new Map([...loadStateDictFile(file)].map(([k, t]) => [k, { shape: t.shape }])));
}

/** The flags that fine-tuning options need together, checked before anything is read. */
function checkFineTuning(config: RunConfig): void {
  const m = config.model;
  const epochs = config.train.epochs;
  if (m.unfreezeAfter !== undefined && m.unfreezeAfter >= epochs)
    throw new PreflightError(`${fieldName('model.unfreezeAfter')} is ${m.unfreezeAfter} but the run has ${epochs} epoch${epochs === 1 ? '' : 's'} (${fieldName('train.epochs')}): the backbone would never be unfrozen; use --freeze-backbone to keep it frozen, or unfreeze earlier`);
  if (m.freezeBackbone && m.unfreezeAfter === undefined && m.backboneLrMult !== 1)
    throw new PreflightError(`${fieldName('model.backboneLrMult')} has no effect with --freeze-backbone alone: the backbone never trains; add --unfreeze-after N to train it after N epochs`);
  if (m.trainBn && !m.freezeBackbone && m.unfreezeAfter === undefined)
    throw new PreflightError(`${fieldName('model.trainBn')} applies to a frozen backbone: add --freeze-backbone or --unfreeze-after N (without freezing, batch norm trains anyway)`);
}

/**
 * The zoo model a weights file is for, when `--model` is not given: a Tessera run's (its model.json
 * beside the file), else torchvision's ResNet layout told by its blocks (resnet50: bottleneck blocks,
 * conv3; resnet34: six basic blocks in layer3; resnet18: two). Anything else has to be named.
 */
function architectureOf(file: string, shapes: Map<string, { shape: number[] }>): { name: string; why: string } {
  const json = join(dirname(file), 'model.json');
  if (basename(file) === 'model.safetensors' && existsSync(json))
    return { name: readModelJson(JSON.parse(readFileSync(json, 'utf8')), json).name, why: `the model of the run that made ${basename(file)} (${json})` };
  const blocks = new Set([...shapes.keys()].filter((k) => k.startsWith('layer3.')).map((k) => k.split('.')[1])).size;
  const resnet = shapes.has('layer1.0.conv1.weight') && shapes.has('fc.weight');
  const bottleneck = shapes.has('layer1.0.conv3.weight');
  const name = !resnet ? undefined : bottleneck ? (blocks === 6 ? 'resnet50' : undefined) : blocks === 6 ? 'resnet34' : blocks === 2 ? 'resnet18' : undefined;
  if (name === undefined)
    throw new PreflightError(`${fieldName('model.pretrained')}: ${file} is not laid out as one of the zoo's ResNets (resnet18, resnet34, resnet50): name the architecture the weights are for with --model`);
  return { name, why: `torchvision's ${name} layout (${bottleneck ? 'bottleneck' : 'basic'} blocks, ${blocks} in layer3)` };
}

/**
 * The config with what `model.pretrained` decides filled in (stem, channels, normalisation; see
 * the header), after checking the fine-tuning flags. Runs before the data is read.
 */
export function resolveTransfer(config: RunConfig, log: Log = () => {}): RunConfig {
  checkFineTuning(config);
  const file = config.model.pretrained;
  if (file === undefined) return config;
  const shapes = shapesOf(file);
  const model = { ...config.model };
  if (model.name === 'auto') {
    const arch = architectureOf(file, shapes);
    log(`model: ${arch.name}, as the weights in ${basename(file)} are: ${arch.why}; --model to choose`);
    model.name = arch.name;
  }
  const data = { ...config.data };
  const augment = { ...config.augment };

  // Only a ResNet file decides a stem: other models' conv1 (LeNet's 5×5, a seed CNN's 3×3) is no stem.
  const stem = shapes.has('layer1.0.conv1.weight') ? resnetStemOf(shapes) : null;
  if (stem !== null) {
    const conv1 = `conv1.weight [${shapes.get('conv1.weight')?.shape.join(', ')}]`;
    if (model.stem !== undefined && model.stem !== stem)
      throw new PreflightError(`model.stem is '${model.stem}' but ${file} needs stem '${stem}' (its ${conv1}); leave model.stem unset to take the stem the weights need`);
    if (model.stem === undefined) log(`model: stem '${stem}', as the weights in ${basename(file)} need (${conv1})`);
    model.stem = stem;
  }

  // The file's first 4-d tensor: the input convolution, in every zoo model and torchvision file.
  const first = [...shapes].find(([, t]) => t.shape.length === 4);
  const channels = first?.[1].shape[1];
  if (first && (channels === 1 || channels === 3)) {
    if (data.channels !== undefined && data.channels !== channels)
      throw new PreflightError(`data.channels is ${data.channels} but the first convolution of ${file} (${first[0]} [${first[1].shape.join(', ')}]) takes ${channels}`);
    if (data.channels === undefined) log(`data: ${channels === 3 ? 'colour (3 channels)' : 'grey (1 channel)'}, as the first convolution of ${basename(file)} takes`);
    data.channels = channels;
  }

  if (augment.normalize === undefined) {
    const run = dirname(file);
    if (basename(file) === 'model.safetensors' && existsSync(join(run, 'model.json'))) {
      const saved = readModelJson(JSON.parse(readFileSync(join(run, 'model.json'), 'utf8')), join(run, 'model.json')).preprocessing;
      augment.normalize = { mean: [...saved.mean], std: [...saved.std] };
      log(`data: normalisation of the run that made ${file} (mean [${saved.mean.map((v) => v.toFixed(3)).join(', ')}]); --normalize measured to measure this data's`);
    } else {
      augment.normalize = 'imagenet';
      log(`data: ImageNet normalisation, the statistics pretrained weights expect; --normalize measured to measure this data's`);
    }
  }
  return { ...config, model, data, augment };
}

/** The model a run trains: the zoo model (with the stem decided), the pretrained weights, the memory format. */
export function buildRunModel(config: RunConfig, data: { model: string; classes: number; channels: number; height: number }, log: Log): { model: ZooModel; options: SavedModelOptions } {
  // A reconstruction run has no classes; the zoo's structural options (config model.options) are the task's.
  const options: SavedModelOptions = { classes: Math.max(1, data.classes), inChannels: data.channels, imageSize: data.height, ...config.model.options, ...(config.model.stem ? { stem: config.model.stem } : {}) };
  const model = createModel(data.model, options);
  try {
    if (model instanceof ResNet) options.stem = model.stem; // saved, so eval/predict/export rebuild this stem whatever the size
    else if (config.model.stem !== undefined) {
      const weights = config.model.pretrained === undefined ? '' : ` (with --pretrained, the stem comes from ResNet weights: are ${config.model.pretrained}'s weights for ${data.model}?)`;
      throw new PreflightError(`model.stem applies to resnet18, resnet34 and resnet50; ${data.model} has no stem option${weights}`);
    }
    const file = config.model.pretrained;
    if (file !== undefined) {
      const r = loadPretrained(model, file, { skipHead: true });
      log(`loaded ${r.loaded.length} tensors from ${file}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (config.model.channelsLast === true) model.to({ memoryFormat: 'channelsLast' }); // the batches come channels_last too (data.ts); 'auto' is resolved by prepareRun
  return { model, options };
}

/** What fine-tuning adds to a run: optimizer groups (head, backbone) and the callback that freezes and unfreezes. */
export interface FineTuning {
  /** Parameter groups for buildOptimizer; absent when the run fine-tunes nothing (one rate, nothing frozen). */
  groups?: OptimizerGroup[];
  callbacks: Callback[];
}

/**
 * The head's and the backbone's parameter groups, each split into decayed weights and undecayed
 * norms/biases, head first (the `lr` a run logs is the head's). Frozen parameters are included:
 * they get no gradient, so the optimizer leaves them alone until they are unfrozen.
 */
function fineTuningGroups(model: Module, lr: number, weightDecay: number, backboneLrMult: number): OptimizerGroup[] {
  const head = headPath(model);
  const inHead = (name: string) => name.startsWith(`${head}.`);
  const wasTrainable = model.parameters().map((p) => [p, p.requiresGrad] as const);
  for (const [p] of wasTrainable) p.requiresGrad_(true); // splitDecayParameters lists trainable ones only
  const split = splitDecayParameters(model);
  for (const [p, r] of wasTrainable) p.requiresGrad_(r);
  const pick = (params: typeof split.decay, names: string[], h: boolean) => params.filter((_, i) => inHead(names[i] as string) === h);
  const backboneLr = lr * backboneLrMult;
  return [
    { params: pick(split.decay, split.decayNames, true), lr, weightDecay },
    { params: pick(split.noDecay, split.noDecayNames, true), lr, weightDecay: 0 },
    { params: pick(split.decay, split.decayNames, false), lr: backboneLr, weightDecay },
    { params: pick(split.noDecay, split.noDecayNames, false), lr: backboneLr, weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
}

/**
 * Freezes the backbone while `epoch < unfreezeAfter` (always, without unfreezeAfter), at the start
 * of every epoch: the state is a function of the epoch alone, so a resumed run has it too. Frozen
 * batch norm goes to eval mode after the trainer's model.train() (it runs before beforeEpoch).
 */
export class BackboneFreezing implements Callback {
  readonly name = 'backbone-freezing';
  #frozen: boolean | undefined;

  constructor(
    readonly model: Module,
    readonly options: { unfreezeAfter?: number; trainBn: boolean; log: Log },
  ) {}

  frozenAt(epoch: number): boolean {
    return this.options.unfreezeAfter === undefined || epoch < this.options.unfreezeAfter;
  }

  /** Puts the model in the state of `epoch`: backbone frozen or not, frozen batch norm in eval mode; says so when it changes (`announce`). */
  apply(epoch: number, announce = true): void {
    const frozen = this.frozenAt(epoch);
    if (frozen) {
      const tensors = freezeBackbone(this.model, { trainBatchNorm: this.options.trainBn });
      const norms = this.options.trainBn ? 0 : evalFrozenBatchNorm(this.model);
      if (announce && this.#frozen !== true)
        this.options.log(`epoch ${epoch + 1}: training the head only (${tensors.length} backbone tensors frozen${this.options.trainBn ? ', batch norm training' : `, ${norms} batch-norm layers in eval mode`})`);
    } else {
      unfreeze(this.model);
      if (announce && this.#frozen !== false) this.options.log(`epoch ${epoch + 1}: training the whole model (backbone unfrozen)`);
    }
    if (announce) this.#frozen = frozen;
  }

  beforeEpoch(ctx: TrainContext): void {
    this.apply(ctx.epoch);
  }
}

/** The run's fine-tuning (see the header): groups when the backbone has its own rate or is frozen, and the freezing callback. */
export function fineTuning(model: Module, config: RunConfig, log: Log): FineTuning {
  const m = config.model;
  const freezes = m.freezeBackbone || m.unfreezeAfter !== undefined;
  if (!freezes && m.backboneLrMult === 1) return { callbacks: [] };
  const o = config.train.optimizer;
  const groups = fineTuningGroups(model, o.lr, o.weightDecay, m.backboneLrMult);
  if (m.backboneLrMult !== 1) log(`optimizer: backbone lr × ${m.backboneLrMult} (${(o.lr * m.backboneLrMult).toPrecision(3)} at the peak; the head ${o.lr})`);
  if (!freezes) return { groups, callbacks: [] };
  const freezing = new BackboneFreezing(model, { ...(m.unfreezeAfter !== undefined ? { unfreezeAfter: m.unfreezeAfter } : {}), trainBn: m.trainBn, log });
  freezing.apply(0, false); // the state before the first epoch, for what runs before fit (lr-find, the parameter count); fit's first epoch says it
  return { groups, callbacks: [freezing] };
}
