// Every field of the run config changes what a run does, or is refused with a message: for each
// leaf of the schema (src/config/reference.ts walks it), a small run with the field changed is
// compared with the same run without the change — its weights, splits, saved model, logs,
// checkpoints or report must differ in the way the field says. A field that nothing reads, or a
// schema field without a case here, fails. Runs are tiny (72 16×16 images, an MLP, one thread).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { resolveConfig, type Override } from '../../src/config/load.js';
import { configFields } from '../../src/config/reference.js';
import { openRunData } from '../../src/run/data.js';
import { runTraining } from '../../src/run/train.js';
import { autoPrecision } from '../../src/runtime/precision.js';
import { getNumThreads, setNumThreads } from '../../src/runtime/threads.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { quiet, writeFolder } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-walk-'));
const runs = join(root, 'runs');
const folder = join(root, 'colours'); // 3 classes × 24
const threads = getNumThreads();

/** Copies `n` images of each named class of the main folder into `dir` (an imbalanced or smaller set). */
function subset(dir: string, perClass: Record<string, number>): string {
  for (const [c, n] of Object.entries(perClass)) {
    mkdirSync(join(dir, c), { recursive: true });
    for (let i = 0; i < n; i++) cpSync(join(folder, c, `${i}.png`), join(dir, c, `${i}.png`));
  }
  return dir;
}
const sources = { twoClasses: join(root, 'two'), testSet: join(root, 'test-set'), imbalanced: join(root, 'imbalanced'), corrupt: join(root, 'corrupt') };

before(async () => {
  setNumThreads(1);
  await writeFolder(folder, 24);
  subset(sources.twoClasses, { red: 24, blue: 24 });
  subset(sources.testSet, { blue: 4, green: 4, red: 4 });
  subset(sources.imbalanced, { blue: 24, green: 8, red: 4 });
  subset(sources.corrupt, { blue: 24, green: 24, red: 24 });
  writeFileSync(join(sources.corrupt, 'red', 'broken.png'), 'not a png');
});
after(() => {
  setNumThreads(threads);
  rmSync(root, { recursive: true, force: true });
});

/** What a run left behind, read back. */
interface Outcome {
  dir: string;
  error?: Error;
  lines: string[];
  /** LibTorch threads right after the run. */
  threads: number;
  weights?: string;
  modelJson?: { task?: { name: string }; model: { name: string; options: Record<string, unknown>; testFlip?: boolean }; preprocessing: { input: { height: number; channels: number }; memoryFormat: string; normalize: { mean: number[] } } };
  report?: { history: unknown[]; dataset: { classes: string[] }; test?: { numSamples: number }; gallery: unknown[] };
  metrics?: Record<string, unknown>;
  splits?: { splits: Record<string, number[]> };
  /** log.jsonl's epoch rows. */
  epochs: Record<string, number>[];
  checkpoints: string[];
}

const BASE: Override[] = [
  ['data.source', JSON.stringify(folder)],
  ['data.valSplit', '0.25'],
  ['data.testSplit', '0.25'],
  ['model.name', 'mlp'],
  ['train.epochs', '2'],
  ['train.batchSize', '8'],
  ['train.threads', '1'],
  ['outDir', JSON.stringify(runs)],
];

const read = <T>(file: string): T | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined);
let counter = 0;

async function run(overrides: Override[]): Promise<Outcome> {
  const name = `run-${++counter}`;
  const lines: string[] = [];
  let error: Error | undefined;
  let dir = join(runs, name);
  try {
    dir = (await runTraining(resolveConfig({ overrides: [...BASE, ['name', JSON.stringify(name)], ...overrides] }), { ...quiet, log: (l) => lines.push(l) })).dir;
  } catch (e) {
    error = e as Error;
  }
  const file = (f: string) => join(dir, f);
  const weights = existsSync(file('model.safetensors')) ? createHash('sha256').update(readFileSync(file('model.safetensors'))).digest('hex') : undefined;
  const log = existsSync(file('log.jsonl')) ? readFileSync(file('log.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, number>) : [];
  return {
    dir, lines, threads: getNumThreads(),
    ...(error ? { error } : {}),
    ...(weights ? { weights } : {}),
    modelJson: read(file('model.json')), report: read(file('report.json')), metrics: read(file('metrics.json')), splits: read(file('splits.json')),
    epochs: log.filter((r) => r['train_loss'] !== undefined && r['batch'] === undefined),
    checkpoints: existsSync(file('checkpoints')) ? readdirSync(file('checkpoints')).sort() : [],
  };
}

/** Baselines, one per distinct `base`, shared by the cases that use it. */
const baselines = new Map<string, Promise<Outcome>>();
const baseline = (base: Override[]) => {
  const key = JSON.stringify(base);
  if (!baselines.has(key)) baselines.set(key, run(base));
  return baselines.get(key) as Promise<Outcome>;
};

type Check = (base: Outcome, changed: Outcome) => void;

interface Case {
  /** Overrides both runs share (the field's context: another source, a schedule that makes it matter). */
  base?: Override[];
  /** The change: overrides applied on top of `base` (a function when it needs the baseline's outputs). */
  set: Override[] | ((base: Outcome) => Override[]);
  /** What must differ; default: the trained weights. */
  expect?: Check;
}

const ok = (o: Outcome) => assert.equal(o.error, undefined, o.error?.message);
const weightsDiffer: Check = (b, c) => {
  ok(b);
  ok(c);
  assert.ok(b.weights && c.weights && b.weights !== c.weights, 'the trained weights differ');
};
const refused = (message: RegExp): Check => (b, c) => {
  ok(b);
  assert.ok(c.error, 'the changed run is refused');
  assert.match(c.error.message, message);
};
const count = (o: Outcome, split: string) => o.splits?.splits[split]?.length;
const lastStep = (o: Outcome) => o.epochs.at(-1)?.['step'];
const checkpointMeta = (o: Outcome, f: string) => {
  const snap = readCheckpoint(join(o.dir, 'checkpoints', f));
  for (const t of snap.tensors.values()) t.dispose();
  return snap.meta;
};
const named = (o: Outcome) => o.checkpoints.filter((f) => f.startsWith('epoch='));

/** A reconstruction run (an autoencoder on the same folder): the context of the autoencoders' options. */
const AUTOENCODER: Override[] = [['task', '"reconstruct"'], ['model.name', '"conv-autoencoder"']];

const CASES: Record<string, Case> = {
  name: { set: [['name', '"renamed"']], expect: (b, c) => (ok(c), assert.equal(c.dir, join(runs, 'renamed'))) },
  outDir: { set: [['outDir', JSON.stringify(join(root, 'elsewhere'))]], expect: (b, c) => (ok(c), assert.ok(c.dir.startsWith(join(root, 'elsewhere')) && existsSync(join(c.dir, 'model.json')))) },

  'data.source': { set: [['data.source', JSON.stringify(sources.twoClasses)]], expect: (b, c) => (ok(c), assert.deepEqual([b.report?.dataset.classes.length, c.report?.dataset.classes], [3, ['blue', 'red']])) },
  'data.format': { set: [['data.format', '"cifar10"']], expect: refused(/no CIFAR binary batches here/) },
  'data.test': {
    set: [['data.test', JSON.stringify(sources.testSet)]],
    expect: (b, c) => (ok(c), assert.equal(c.report?.test?.numSamples, 12), assert.notEqual(b.report?.test?.numSamples, 12), assert.equal(count(c, 'test'), undefined, 'nothing held out')),
  },
  'data.valSplit': { set: [['data.valSplit', '0.5']], expect: (b, c) => (ok(c), assert.ok((count(c, 'val') ?? 0) > (count(b, 'val') ?? 0))) },
  'data.testSplit': { set: [['data.testSplit', '0.1']], expect: (b, c) => (ok(c), assert.ok((count(c, 'test') ?? 0) < (count(b, 'test') ?? 0))) },
  'data.classes': { set: [['data.classes', '["blue","green","red"]']], expect: refused(/an image folder's classes are its sub-folders/) },
  'data.dropLast': { set: [['data.dropLast', 'true']], expect: (b, c) => (ok(c), assert.deepEqual([lastStep(b), lastStep(c)], [10, 8], '36 training images in batches of 8: 5 steps an epoch, 4 without the short one')) },
  'data.stratify': { set: [['data.stratify', 'false']], expect: (b, c) => (ok(c), assert.notDeepEqual(c.splits?.splits['val'], b.splits?.splits['val'])) },
  'data.imageSize': { set: [['data.imageSize', '[8,8]']], expect: (b, c) => (ok(c), assert.deepEqual([b.modelJson?.preprocessing.input.height, c.modelJson?.preprocessing.input.height], [16, 8])) },
  'data.channels': { set: [['data.channels', '1']], expect: (b, c) => (ok(c), assert.deepEqual([b.modelJson?.preprocessing.input.channels, c.modelJson?.preprocessing.input.channels], [3, 1])) },
  'data.workers': {
    set: [['data.workers', '1']],
    expect: async (b, c) => {
      // The documented invariance: workers change where samples are decoded, never the result.
      ok(c);
      assert.equal(c.weights, b.weights, 'the same weights with a worker thread');
      const data = await openRunData(resolveConfig({ overrides: [...BASE, ['data.workers', '1'], ['data.imageSize', '[16,16]']] }));
      try {
        assert.equal(data.train.workers, 1, 'the loader got one worker');
      } finally {
        await data.close();
      }
    },
  },
  'data.badFiles': {
    base: [['data.source', JSON.stringify(sources.corrupt)]],
    set: [['data.badFiles', '"fail"']],
    expect: (b, c) => {
      ok(b);
      assert.match(JSON.stringify(b.metrics), /broken\.png/, 'skipped and listed');
      assert.match(c.error?.message ?? '', /broken\.png/);
    },
  },
  'data.splitsFile': {
    set: [['data.splitsFile', JSON.stringify(join(root, 'my-splits.json'))]],
    expect: (b, c) => (ok(c), assert.deepEqual(Object.keys(read<{ splits: object }>(join(root, 'my-splits.json'))?.splits ?? {}).sort(), ['test', 'train', 'val'])),
  },

  // The task and its settings (src/run/tasks/): a reconstruction run on the same folder, and the
  // fields no classifier reads refused by name.
  task: { set: [['task', '"reconstruct"'], ['model.name', '"conv-autoencoder"']], expect: (b, c) => (ok(b), ok(c), assert.deepEqual([b.modelJson?.task, c.modelJson?.task?.name], [undefined, 'reconstruct'])) },
  threshold: { set: [['threshold', '0.3']], expect: refused(/threshold \(--threshold\) is for multi-label classification/) },
  'train.loss': { base: AUTOENCODER, set: [['train.loss', '"bce"']] },
  'model.options.baseWidth': { set: [['model.options.baseWidth', '8']], expect: refused(/model\.options\.baseWidth does not apply to the models of task classify/) },
  'model.options.depth': { set: [['model.options.depth', '2']], expect: refused(/model\.options\.depth does not apply to the models of task classify/) },
  'model.options.upsampling': { set: [['model.options.upsampling', '"bilinear"']], expect: refused(/model\.options\.upsampling does not apply to the models of task classify/) },
  'model.options.widths': { base: AUTOENCODER, set: [['model.options.widths', '[4]']], expect: (b, c) => (weightsDiffer(b, c), assert.deepEqual(c.modelJson?.model.options['widths'], [4])) },
  'model.options.output': { base: AUTOENCODER, set: [['model.options.output', '"linear"']] },
  'model.options.noise': { base: [['task', '"reconstruct"'], ['model.name', '"denoising-autoencoder"']], set: [['model.options.noise', '0']] },

  'augment.cropPadding': { set: [['augment.cropPadding', '0']] },
  'augment.hflip': { set: [['augment.hflip', 'false']] },
  'augment.vflip': { set: [['augment.vflip', 'true']] },
  'augment.erasing': { set: [['augment.erasing', '0.5']] },
  'augment.mixup': { set: [['augment.mixup', '0.4']] },
  'augment.cutmix': { set: [['augment.cutmix', '1']] },
  // On by default when training flips (hflip is on here): saved with the model, and the test line says so.
  'augment.testFlip': {
    set: [['augment.testFlip', 'false']],
    expect: (b, c) => (ok(b), ok(c), assert.deepEqual([b.modelJson?.model.testFlip, c.modelJson?.model.testFlip], [true, undefined]), assert.ok(b.lines.some((l) => l.includes('with the test-time flip')) && !c.lines.some((l) => l.includes('with the test-time flip')))),
  },
  'augment.normalize': {
    set: [['augment.normalize', '{"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]}']],
    expect: (b, c) => (weightsDiffer(b, c), assert.deepEqual(c.modelJson?.preprocessing.normalize.mean, [0.5, 0.5, 0.5])),
  },

  'model.name': { set: [['model.name', '"seed-mlp"']], expect: (b, c) => (ok(c), assert.equal(c.modelJson?.model.name, 'seed-mlp')) },
  'model.pretrained': {
    set: (b) => [['model.pretrained', JSON.stringify(join(b.dir, 'model.safetensors'))]],
    expect: (b, c) => (weightsDiffer(b, c), assert.ok(c.lines.some((l) => /^loaded \d+ tensors from .*model\.safetensors/.test(l)))),
  },
  'model.stem': {
    base: [['model.name', 'resnet18'], ['train.epochs', '1'], ['data.dropLast', 'true']],
    set: [['model.stem', '"imagenet"']],
    // The ImageNet stem shrinks its input 4×: a size chosen from the data is raised to 64 px for it.
    expect: (b, c) => (ok(b), ok(c), assert.deepEqual([b.modelJson?.model.options['stem'], c.modelJson?.model.options['stem'], b.modelJson?.preprocessing.input.height, c.modelJson?.preprocessing.input.height], ['small', 'imagenet', 16, 64])),
  },
  'model.freezeBackbone': { set: [['model.freezeBackbone', 'true']], expect: (b, c) => (weightsDiffer(b, c), assert.ok(c.lines.includes('epoch 1: training the head only (2 backbone tensors frozen, 0 batch-norm layers in eval mode)'))) },
  'model.unfreezeAfter': { set: [['model.unfreezeAfter', '1']], expect: (b, c) => (weightsDiffer(b, c), assert.ok(c.lines.includes('epoch 2: training the whole model (backbone unfrozen)'))) },
  'model.backboneLrMult': { set: [['model.backboneLrMult', '0.5']] },
  'model.trainBn': { base: [['model.name', 'fashion-net'], ['model.freezeBackbone', 'true']], set: [['model.trainBn', 'true']] },
  'model.channelsLast': { set: [['model.channelsLast', 'true']], expect: (b, c) => (ok(c), assert.deepEqual([b.modelJson?.preprocessing.memoryFormat, c.modelJson?.preprocessing.memoryFormat], ['contiguous', 'channelsLast'])) },

  'train.epochs': { set: [['train.epochs', '1']], expect: (b, c) => (ok(c), assert.deepEqual([b.epochs.length, c.epochs.length], [2, 1])) },
  'train.batchSize': { set: [['train.batchSize', '4']], expect: (b, c) => (ok(c), assert.deepEqual([lastStep(b), lastStep(c)], [10, 18])) },
  'train.optimizer.name': { set: [['train.optimizer.name', '"adam"']] },
  'train.optimizer.lr': { set: [['train.optimizer.lr', '0.01']] },
  'train.optimizer.momentum': { set: [['train.optimizer.momentum', '0.5']] },
  'train.optimizer.nesterov': { set: [['train.optimizer.nesterov', 'false']] },
  'train.optimizer.weightDecay': { set: [['train.optimizer.weightDecay', '0.1']] },
  'train.schedule.name': { set: [['train.schedule.name', '"cosine"']] },
  'train.schedule.warmup': { set: [['train.schedule.warmup', '0.5']] },
  'train.schedule.stepEpochs': { base: [['train.schedule.name', '"step"']], set: [['train.schedule.stepEpochs', '1']] },
  'train.schedule.gamma': { base: [['train.schedule.name', '"step"'], ['train.schedule.stepEpochs', '1']], set: [['train.schedule.gamma', '0.5']] },
  'train.labelSmoothing': { set: [['train.labelSmoothing', '0']] },
  // 'auto' (the default) is bf16 on a CPU with native bf16, else float32: the case asks for the other one.
  'train.mixedPrecision': { set: [['train.mixedPrecision', autoPrecision().precision === 'bf16' ? '"off"' : '"bf16"']] },
  'train.gradAccumulation': { set: [['train.gradAccumulation', '2']] },
  'train.clipGradNorm': { set: [['train.clipGradNorm', '0.01']] },
  'train.ema': { set: [['train.ema', '0.9']] },
  'train.classWeights': { base: [['data.source', JSON.stringify(sources.imbalanced)]], set: [['train.classWeights', '"inverse"']] },
  'train.sampler': { set: [['train.sampler', '"weighted"']] },
  // Early stopping on the lr of a constant schedule: it never improves, so the run stops after `patience` epochs more.
  'train.earlyStopping.patience': {
    base: [['train.schedule.name', '"constant"'], ['train.epochs', '3'], ['train.earlyStopping', '{"patience":2,"monitor":"lr"}']],
    set: [['train.earlyStopping.patience', '1']],
    expect: (b, c) => (ok(c), assert.deepEqual([b.epochs.length, c.epochs.length], [3, 2])),
  },
  'train.earlyStopping.monitor': {
    base: [['train.schedule.name', '"constant"'], ['train.epochs', '3'], ['train.earlyStopping', '{"patience":1,"monitor":"lr"}']],
    set: [['train.earlyStopping.monitor', '"epoch"']],
    expect: (b, c) => (ok(c), assert.deepEqual([b.epochs.length, c.epochs.length], [2, 3])),
  },
  'train.seed': { set: [['train.seed', '1']] },
  'train.threads': { set: [['train.threads', '2']], expect: (b, c) => (ok(c), assert.deepEqual([b.threads, c.threads], [1, 2])) },
  'train.nanGuard': {
    base: [['train.optimizer.lr', '1e6']],
    set: [['train.nanGuard', '"skip"']],
    expect: (b, c) => (assert.match(JSON.stringify(b.metrics), /non-finite: loss is NaN/), ok(c), assert.doesNotMatch(JSON.stringify(c.metrics ?? {}), /non-finite: loss is NaN/)),
  },

  'checkpoint.everySteps': {
    base: [['checkpoint.keep', '4']],
    set: [['checkpoint.everySteps', '2']],
    expect: (b, c) => {
      ok(c);
      const positions = (o: Outcome) => o.checkpoints.filter((f) => f.startsWith('last')).map((f) => checkpointMeta(o, f).batchesDone);
      assert.ok(positions(b).every((n) => n === 0), 'epoch ends only');
      assert.ok(positions(c).some((n) => n > 0), `a checkpoint inside an epoch (${positions(c).join(', ')} batches done)`);
    },
  },
  'checkpoint.keep': { set: [['checkpoint.keep', '1']], expect: (b, c) => (ok(c), assert.ok(b.checkpoints.includes('last.1.ckpt') && !c.checkpoints.includes('last.1.ckpt'))) },
  'checkpoint.monitor': { set: [['checkpoint.monitor', '"val_loss"'], ['checkpoint.mode', '"min"']], expect: (b, c) => (ok(c), assert.match(named(b).join(), /val_accuracy/), assert.match(named(c).join(), /val_loss/)) },
  'checkpoint.mode': {
    base: [['checkpoint.monitor', '"val_loss"']],
    set: [['checkpoint.mode', '"min"']],
    expect: (b, c) => (ok(c), assert.notDeepEqual(named(b), named(c), 'the best epoch by the highest val_loss is not the one by the lowest')),
  },
  gallery: { set: [['gallery', '0']], expect: (b, c) => (ok(c), assert.ok((b.report?.gallery.length ?? 0) > 0 && c.report?.gallery.length === 0)) },
};

describe('the run config, field by field', () => {
  it('every field of the schema has a case here, and every case is a field', () => {
    const fields = configFields().map((f) => f.path);
    assert.deepEqual(Object.keys(CASES).filter((k) => !fields.includes(k)), [], 'cases for fields the schema does not have');
    assert.deepEqual(fields.filter((f) => !(f in CASES)), [], 'schema fields without a case: each must change what runs, or be refused');
  });

  for (const [path, c] of Object.entries(CASES)) {
    it(`${path} changes what runs`, async () => {
      const base = await baseline(c.base ?? []);
      const changed = await run([...(c.base ?? []), ...(typeof c.set === 'function' ? c.set(base) : c.set)]);
      await (c.expect ?? weightsDiffer)(base, changed);
    });
  }
});
