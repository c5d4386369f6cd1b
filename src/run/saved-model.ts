// A trained model as `tessera eval` and `tessera predict` find it: the weights (safetensors, the
// PyTorch state-dict names) next to model.json, which says how to rebuild the module (zoo name and
// the options it was created with) and, under `preprocessing`, exactly how its inputs were prepared
// (data/pipeline/preprocessing.ts) — restored as saved, never re-derived — and under `task` what the
// model was trained to do (absent: classify) with the task's settings (src/run/tasks/).
//
// model.json of format tessera-model/1 (size, channels and normalisation as loose fields) still
// loads: it is converted to the preprocessing those runs used (Resize to exactly H×W, CenterCrop).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { z } from 'zod';

import { formatIssues } from '../config/load.js';
import { TASKS } from '../config/schema.js';
import { Preprocessing } from '../data/pipeline/preprocessing.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadStateDictFile, saveStateDict } from '../io/state-dict.js';
import type { Module } from '../nn/module.js';
import { createModel, type ZooModel } from '../models/registry.js';
import { resizeToShapes } from '../prune/resize.js';
import { noGrad } from '../tensor/autograd.js';
import { scope } from '../tensor/memory.js';
import type { TaskName, TaskSettings } from './tasks/task.js';

export const MODEL_FORMAT = 'tessera-model/2';

const ModelOptions = z
  .object({
    classes: z.number().int().positive(),
    inChannels: z.number().int().positive(),
    imageSize: z.number().int().positive(),
    // The zoo's structural options a run may set (config model.options).
    baseWidth: z.number().int().positive().optional(),
    depth: z.number().int().positive().optional(),
    upsampling: z.enum(['transposed', 'bilinear']).optional(),
    widths: z.array(z.number().int().positive()).optional(),
    output: z.enum(['sigmoid', 'linear']).optional(),
    noise: z.number().min(0).optional(),
    /** A ResNet's stem, as trained (chosen to fit `--pretrained` weights, or set): rebuilt as saved, never re-derived from the size. */
    stem: z.enum(['imagenet', 'small']).optional(),
  })
  .strict();

const TaskJson = z.object({ name: z.enum(TASKS), threshold: z.number().min(0).max(1).optional() }).strict();
export type SavedModelOptions = z.infer<typeof ModelOptions>;

/** A channel-pruned model (src/prune/): the shapes its tensors have instead of the zoo model's, by state-dict key. */
const PrunedShapes = z.record(z.string(), z.array(z.number().int().positive()));

const ModelJson = z
  .object({
    format: z.literal(MODEL_FORMAT),
    model: z.object({ name: z.string().min(1), options: ModelOptions, shapes: PrunedShapes.optional(), testFlip: z.boolean().optional(), precision: z.enum(['bf16', 'fp16']).optional() }).strict(),
    preprocessing: z.unknown(),
    task: TaskJson.optional(),
  })
  .strict();

const LegacyModelJson = z.object({
  format: z.literal('tessera-model/1'),
  model: z.string(),
  classes: z.array(z.string()).min(1),
  channels: z.union([z.literal(1), z.literal(3)]),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
});

export interface SavedModel {
  /** The zoo name and the options createModel() got. */
  name: string;
  options: SavedModelOptions;
  preprocessing: Preprocessing;
  /** Channel-pruned tensors' shapes (createModel's model is resized to them before the weights load). */
  shapes?: Readonly<Record<string, readonly number[]>>;
  /** What the model was trained to do, and the task's settings (absent: classify). */
  task?: { name: TaskName } & TaskSettings;
  /** Test-time flip (config `augment.testFlip`): eval and predict average each image's and its mirror image's logits, as the run's test pass did. */
  testFlip?: boolean;
  /** The autocast the run's test pass used (absent: float32); eval and predict use it too, so they repeat its numbers. */
  precision?: 'bf16' | 'fp16';
}

export function saveRunModel(dir: string, model: Module, saved: SavedModel): void {
  saveStateDict(join(dir, 'model.safetensors'), model);
  // A classifier's model.json stays as it was before tasks existed.
  const task = saved.task && saved.task.name !== 'classify' ? { task: saved.task } : {};
  const entry = { name: saved.name, options: saved.options, ...(saved.shapes ? { shapes: saved.shapes } : {}), ...(saved.testFlip ? { testFlip: true } : {}), ...(saved.precision ? { precision: saved.precision } : {}) };
  const json = { format: MODEL_FORMAT, model: entry, preprocessing: saved.preprocessing.toJSON(), ...task };
  writeFileAtomic(join(dir, 'model.json'), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
}

/** model.json → what it describes; tessera-model/1 files are converted (see the header). */
export function readModelJson(raw: unknown, where: string): SavedModel {
  const format = (raw as { format?: unknown } | null)?.format;
  if (format === 'tessera-model/1') {
    const parsed = LegacyModelJson.safeParse(raw);
    if (!parsed.success) throw new Error(`${where} is not a tessera model description:\n${formatIssues(parsed.error.issues)}`);
    const m = parsed.data;
    const preprocessing = Preprocessing.of({
      channels: m.channels,
      height: m.height,
      width: m.width,
      // What tessera-model/1 runs did: stretch to exactly H×W (then a no-op centre crop).
      transforms: [{ type: 'resize', size: [m.height, m.width] }, { type: 'centerCrop', size: [m.height, m.width] }],
      mean: m.mean,
      std: m.std,
      memoryFormat: 'contiguous',
      classes: m.classes,
    });
    return { name: m.model, options: { classes: m.classes.length, inChannels: m.channels, imageSize: m.height }, preprocessing };
  }
  const parsed = ModelJson.safeParse(raw);
  if (!parsed.success) {
    const known = typeof format === 'string' && format.startsWith('tessera-model/') ? ` (this Tessera reads ${MODEL_FORMAT} and tessera-model/1; ${format} is from another version)` : '';
    throw new Error(`${where} is not a tessera model description${known}:\n${formatIssues(parsed.error.issues)}`);
  }
  const m = parsed.data;
  const preprocessing = Preprocessing.fromJSON(m.preprocessing, `${where}: preprocessing`);
  if (preprocessing.classes.length !== m.model.options.classes)
    throw new Error(`${where}: the model has ${m.model.options.classes} outputs but preprocessing names ${preprocessing.classes.length} classes`);
  return { name: m.model.name, options: m.model.options, preprocessing, ...(m.model.shapes ? { shapes: m.model.shapes } : {}), ...(m.model.testFlip ? { testFlip: true } : {}), ...(m.model.precision ? { precision: m.model.precision } : {}), ...(m.task ? { task: m.task } : {}) };
}

/** A run directory, its model.json, or its model.safetensors → what its model.json says (no weights read). */
export function readRunModel(path: string): SavedModel & { dir: string } {
  const dir = path.endsWith('.json') || path.endsWith('.safetensors') ? dirname(path) : path;
  const metaPath = join(dir, 'model.json');
  if (!existsSync(metaPath)) throw new Error(`no trained model at ${path}: expected ${metaPath} (a run directory made by tessera train)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch (e) {
    throw new Error(`${metaPath} is not valid JSON: ${(e as Error).message}`);
  }
  return { ...readModelJson(raw, metaPath), dir };
}

/** A run directory, its model.json, or its model.safetensors → the rebuilt model in eval mode. */
export function loadRunModel(path: string): SavedModel & { model: ZooModel; dir: string } {
  const { dir, ...saved } = readRunModel(path);
  const model = createModel(saved.name, saved.options);
  const weights = loadStateDictFile(join(dir, 'model.safetensors'));
  try {
    if (saved.shapes) resizeToShapes(model, saved.shapes);
    model.loadStateDict(weights);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  if (saved.preprocessing.memoryFormat === 'channelsLast') model.to({ memoryFormat: 'channelsLast' }); // as it was trained
  model.eval();
  return { ...saved, model, dir };
}
