// Transfer learning: load pretrained weights by key, swap the classifier for a new task, freeze
// the backbone, and give the head its own learning rate.
//
//     const model = models.resnet18({ numClasses: 5 });
//     const report = loadPretrained(model, 'resnet18.pt', { skipHead: true }); // 1000-way fc skipped
//     freezeBackbone(model);                                                  // train the head first
//     const opt = new optim.SGD(discriminativeGroups(model, { backboneLr: 1e-4, headLr: 1e-2 }), { lr: 1e-2 });
//     model.train(); evalFrozenBatchNorm(model);                              // before each epoch: frozen statistics stay
//
// The head is the model's last Linear layer in registration order: `fc` (ResNet, ResNet-9),
// `classifier.1` (MobileNetV2), `classifier.6` (VGG), `classifier.N` (seeds' CNNs, LeNet, small VGG),
// `head.1` (FashionNet), `layers.N` (mlp), `fc2` (seed MLP).
import { noGrad } from '../tensor/autograd.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadStateDictFile, type LoadStateDictFileOptions } from '../io/state-dict.js';
import { Linear } from '../nn/layers/linear.js';
import { NormBase } from '../nn/layers/batchnorm.js';
import { StateDictError, type Module } from '../nn/module.js';
import { ResNet, stemOfConv1 } from './resnet.js';

export interface LoadPretrainedOptions extends LoadStateDictFileOptions {
  /** Missing, unexpected or mismatched keys are an error (default); false loads what fits and reports the rest. */
  strict?: boolean;
  /** Leave the head as initialised when the file's head has another shape (or is absent): the usual fine-tuning case. */
  skipHead?: boolean;
  /** Renames file keys by prefix before matching, longest prefix first: `{ 'module.': '' }` for DataParallel checkpoints, `{ 'backbone.': '' }`. */
  prefixMap?: Readonly<Record<string, string>>;
}

export interface ShapeMismatch {
  key: string;
  file: number[];
  model: number[];
}

export interface LoadPretrainedReport {
  /** Model keys whose values came from the file. */
  loaded: string[];
  /** Model keys the file lacks (left as they were). */
  missing: string[];
  /** File keys (after prefixMap) the model lacks. */
  unexpected: string[];
  /** Keys present on both sides with different shapes (left as they were). */
  mismatched: ShapeMismatch[];
  /** Human-readable remarks: the skipped head, counters restored to zero. */
  notes: string[];
}

/** The state-dict path of the model's classifier head: its last Linear layer. */
export function headPath(model: Module): string {
  let found: string | null = null;
  for (const [path, m] of model.namedModules()) if (m instanceof Linear) found = path;
  if (found === null) throw new Error(`${model.constructor.name} has no Linear layer to treat as its head`);
  if (found === '') throw new Error('the model is itself a Linear layer: there is no backbone to transfer');
  return found;
}

const isHeadKey = (head: string, key: string) => key.startsWith(`${head}.`);

/**
 * Loads weights from a .pt or .safetensors file into `model` by state-dict key, converting dtype
 * and device, and reports what was loaded, missing, unexpected and shape-mismatched.
 */
export function loadPretrained(model: Module, file: string, options: LoadPretrainedOptions = {}): LoadPretrainedReport {
  const strict = options.strict ?? true;
  const head = headPath(model);
  const skippable = (key: string) => options.skipHead === true && isHeadKey(head, key);
  const fileOptions: LoadStateDictFileOptions = { ...(options.format ? { format: options.format } : {}), ...(options.select !== undefined ? { select: options.select } : {}) };
  return scope(() => {
    const raw = loadStateDictFile(file, fileOptions);
    const source = renameKeys(raw, options.prefixMap ?? {}, file);
    const own = model.stateDict();
    const report: LoadPretrainedReport = { loaded: [], missing: [], unexpected: [], mismatched: [], notes: [] };
    const toCopy: [Tensor, Tensor][] = [];
    for (const [key, t] of own) {
      const v = source.get(key);
      if (!v) report.missing.push(key);
      else if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) report.mismatched.push({ key, file: v.shape, model: t.shape });
      else {
        toCopy.push([t, v]);
        report.loaded.push(key);
      }
    }
    for (const key of source.keys()) if (!own.has(key)) report.unexpected.push(key);

    // What strict mode forgives: the head when skipHead, and batch-norm counters that checkpoints
    // from before PyTorch 0.4.1 lack (PyTorch itself starts them at zero then).
    const headSkipped = [...report.mismatched.map((m) => m.key), ...report.missing].filter(skippable);
    if (headSkipped.length) report.notes.push(`head '${head}' kept as initialised (${describeHead(report, head)}): ${headSkipped.join(', ')}`);
    const counters = report.missing.filter((k) => k.endsWith('.num_batches_tracked') && !skippable(k));
    if (counters.length) report.notes.push(`${counters.length} num_batches_tracked counter(s) absent from the file, left at their current value`);
    const fatal = [
      ...report.missing.filter((k) => !skippable(k) && !counters.includes(k)).map((k) => `missing key ${k}`),
      ...report.unexpected.map((k) => `unexpected key ${k}`),
      ...report.mismatched.filter((m) => !skippable(m.key)).map((m) => `size mismatch for ${m.key}: the file has [${m.file.join(', ')}], the model [${m.model.join(', ')}]${stemHint(model, m)}`),
    ];
    if (strict && fatal.length) {
      const hint = report.mismatched.some((m) => isHeadKey(head, m.key)) && !options.skipHead ? ' (pass skipHead: true to keep a new head)' : '';
      throw new StateDictError(`loadPretrained ${file} into ${model.constructor.name}${hint}:\n  ${fatal.join('\n  ')}`);
    }
    noGrad(() => {
      for (const [t, v] of toCopy) t.copy_(v);
    });
    return report;
  });
}

/** For a ResNet's conv1: which stem the file's weights need, and which one the model has. */
function stemHint(model: Module, m: ShapeMismatch): string {
  if (!(model instanceof ResNet) || m.key !== 'conv1.weight') return '';
  const needed = stemOfConv1(m.file);
  return needed && needed !== model.stem ? ` (these weights need stem: '${needed}'; the model was built with stem: '${model.stem}')` : '';
}

function describeHead(r: LoadPretrainedReport, head: string): string {
  const m = r.mismatched.find((x) => x.key === `${head}.weight`);
  return m ? `file [${m.file.join(', ')}], model [${m.model.join(', ')}]` : 'absent from the file';
}

function renameKeys(sd: Map<string, Tensor>, prefixMap: Readonly<Record<string, string>>, file: string): Map<string, Tensor> {
  const rules = Object.entries(prefixMap).sort((a, b) => b[0].length - a[0].length);
  if (rules.length === 0) return sd;
  const out = new Map<string, Tensor>();
  for (const [key, t] of sd) {
    const rule = rules.find(([from]) => key.startsWith(from));
    const renamed = rule ? rule[1] + key.slice(rule[0].length) : key;
    if (out.has(renamed)) throw new StateDictError(`loadPretrained ${file}: prefixMap maps two keys to '${renamed}'`);
    out.set(renamed, t);
  }
  return out;
}

/**
 * Replaces the head with a fresh Linear(inFeatures, classes) initialised as PyTorch's nn.Linear
 * (U(±1/√in) weights and bias), on the old head's device and dtype; the old head is disposed.
 * Returns the new layer. Rebuild optimizers afterwards: they hold the old parameters.
 */
export function replaceHead(model: Module, classes: number): Linear {
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`replaceHead: classes must be a positive integer, got ${classes}`);
  const path = headPath(model);
  const old = model.getSubmodule(path) as Linear;
  const fresh = new Linear(old.inFeatures, classes, { bias: old.bias !== null });
  fresh.to({ device: old.weight.device, dtype: old.weight.dtype });
  fresh.train(old.training);
  model.setSubmodule(path, fresh); // re-points the parent's field (a ResNet's `fc`) too
  old.dispose();
  return fresh;
}

export interface FreezeBackboneOptions {
  /**
   * Leave the backbone's norm layers trainable (fastai's `train_bn=True`): their scale and shift
   * learn while the rest stays frozen. Default false: frozen with the rest.
   */
  trainBatchNorm?: boolean;
}

/** Freezes every parameter outside the head (requiresGrad false); returns the frozen keys. */
export function freezeBackbone(model: Module, options: FreezeBackboneOptions = {}): string[] {
  const head = headPath(model);
  const norms = new Set<Tensor>();
  if (options.trainBatchNorm) for (const m of model.modules()) if (m instanceof NormBase) for (const p of m.parameters()) norms.add(p);
  const frozen: string[] = [];
  for (const [key, p] of model.namedParameters()) {
    const train = isHeadKey(head, key) || norms.has(p);
    p.requiresGrad_(train);
    if (!train) frozen.push(key);
  }
  return frozen;
}

/**
 * Puts every batch-norm layer of a frozen part (all its parameters frozen) in eval mode, so it
 * normalises with its running statistics and no longer updates them: a frozen backbone then
 * computes the same features for the same image in every epoch (PyTorch's
 * `m.eval() for frozen BatchNorm`, fastai's `set_bn_eval`). Call it after each `model.train()`
 * (the trainer sets train mode on the whole model); returns how many layers it switched.
 */
export function evalFrozenBatchNorm(model: Module): number {
  let n = 0;
  for (const m of model.modules()) {
    if (!(m instanceof NormBase) || m.runningMean === null) continue;
    if (m.parameters().some((p) => p.requiresGrad)) continue;
    if (m.training) n++;
    m.training = false;
  }
  return n;
}

/** Makes every parameter trainable again. */
export function unfreeze(model: Module): void {
  for (const p of model.parameters()) p.requiresGrad_(true);
}

export interface ParamGroupSpec {
  params: Tensor[];
  lr: number;
}

/**
 * Optimizer parameter groups with one learning rate for the backbone and another for the head
 * (fine-tuning: pretrained layers move slowly, the new head fast). Frozen parameters are left out;
 * an empty group is omitted.
 */
export function discriminativeGroups(model: Module, lrs: { backboneLr: number; headLr: number }): ParamGroupSpec[] {
  const head = headPath(model);
  const backbone: Tensor[] = [];
  const headParams: Tensor[] = [];
  for (const [key, p] of model.namedParameters()) if (p.requiresGrad) (isHeadKey(head, key) ? headParams : backbone).push(p);
  return [
    { params: backbone, lr: lrs.backboneLr },
    { params: headParams, lr: lrs.headLr },
  ].filter((g) => g.params.length > 0);
}
