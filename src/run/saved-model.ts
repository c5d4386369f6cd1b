// A trained model as `tessera eval` and `tessera predict` find it: the weights (safetensors, the
// PyTorch state-dict names) next to model.json, which says how to rebuild the module and how its
// inputs were prepared (size, channels, normalisation) — inference must repeat exactly that.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { z } from 'zod';

import type { RunConfig } from '../config/schema.js';
import { formatIssues } from '../config/load.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadStateDictFile, saveStateDict } from '../io/state-dict.js';
import type { Module } from '../nn/module.js';
import { createModel, type ZooModel } from '../models/registry.js';

const ModelMeta = z.object({
  format: z.literal('tessera-model/1'),
  model: z.string(),
  classes: z.array(z.string()).min(1),
  channels: z.union([z.literal(1), z.literal(3)]),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
});
export type ModelMeta = z.infer<typeof ModelMeta>;

export interface SaveRunModelInfo {
  config: RunConfig;
  classes: readonly string[];
  channels: 1 | 3;
  height: number;
  width: number;
  mean: number[];
  std: number[];
}

export function saveRunModel(dir: string, model: Module, info: SaveRunModelInfo): void {
  saveStateDict(join(dir, 'model.safetensors'), model);
  const meta: ModelMeta = {
    format: 'tessera-model/1',
    model: info.config.model.name,
    classes: [...info.classes],
    channels: info.channels,
    height: info.height,
    width: info.width,
    mean: info.mean,
    std: info.std,
  };
  writeFileAtomic(join(dir, 'model.json'), [Buffer.from(`${JSON.stringify(meta, null, 2)}\n`)]);
}

/** A run directory, its model.json, or its model.safetensors → the rebuilt model in eval mode. */
export function loadRunModel(path: string): { model: ZooModel; meta: ModelMeta; dir: string } {
  const dir = path.endsWith('.json') || path.endsWith('.safetensors') ? dirname(path) : path;
  const metaPath = join(dir, 'model.json');
  if (!existsSync(metaPath)) throw new Error(`no trained model at ${path}: expected ${metaPath} (a run directory made by tessera train)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(metaPath, 'utf8'));
  } catch (e) {
    throw new Error(`${metaPath} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = ModelMeta.safeParse(raw);
  if (!parsed.success) throw new Error(`${metaPath} is not a tessera model description:\n${formatIssues(parsed.error.issues)}`);
  const meta = parsed.data;
  const model = createModel(meta.model, { classes: meta.classes.length, inChannels: meta.channels, imageSize: meta.height });
  const weights = loadStateDictFile(join(dir, 'model.safetensors'));
  try {
    model.loadStateDict(weights);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  model.eval();
  return { model, meta, dir };
}
