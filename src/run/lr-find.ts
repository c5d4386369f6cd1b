// `tessera lr-find`: the run's data, model and optimizer, swept from a tiny to a huge learning rate
// over a few hundred batches; the smoothed loss curve suggests where to set `train.optimizer.lr`.
// The weights are thrown away afterwards: this only measures.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import { writeFileAtomic } from '../io/atomic.js';
import { setNumThreads } from '../runtime/threads.js';
import { manualSeed } from '../tensor/random.js';
import { lrFind, type LrFindResult } from '../train/lr-find.js';
import { openRunData } from './data.js';
import { buildOptimizer } from './optim.js';
import { taskOf } from './tasks/index.js';
import { buildRunModel, fineTuning, resolveTransfer } from './transfer.js';

export interface LrFindRunOptions {
  startLr?: number;
  endLr?: number;
  numIter?: number;
  log?: (line: string) => void;
}

export async function runLrFind(requested: RunConfig, options: LrFindRunOptions = {}): Promise<LrFindResult & { dir: string }> {
  const log = options.log ?? ((l: string) => console.log(l));
  const config = resolveTransfer(requested, log); // the model the run would train: pretrained weights, stem, frozen backbone, groups
  if (config.train.threads) setNumThreads(config.train.threads);
  manualSeed(config.train.seed);
  const dir = resolve(config.outDir, config.name ?? `lr-find-${config.model.name}`);
  mkdirSync(dir, { recursive: true });
  const data = await openRunData({ ...config, data: { ...config.data, valSplit: 0 } });
  try {
    const { model } = buildRunModel(config, { model: data.model, classes: data.classes.length, channels: data.channels, height: data.height }, log);
    const optimizer = buildOptimizer(model, config.train.optimizer, fineTuning(model, config, log).groups);
    const t = config.train;
    // The task's training objective (src/run/tasks/): what the run would minimise.
    const { loss, owned } = taskOf(config.task).losses(config, data.classes.length, data.trainCounts);
    const result = await lrFind({
      model,
      train: data.train,
      optimizer,
      loss,
      startLr: options.startLr ?? 1e-6,
      endLr: options.endLr ?? 10,
      numIter: options.numIter ?? 200,
      seed: t.seed,
    });
    writeFileAtomic(join(dir, 'lr-find.svg'), [Buffer.from(result.svg)]);
    const { svg: _, ...json } = result;
    writeFileAtomic(join(dir, 'lr-find.json'), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
    log(`lr-find: ${result.lrs.length} batches, ${result.ended}; suggested lr ${result.suggestion === undefined ? 'none (the loss never fell)' : result.suggestion.toExponential(2)}`);
    log(`plot: ${join(dir, 'lr-find.svg')}`);
    model.dispose();
    for (const o of owned ?? []) o.dispose();
    return { ...result, dir };
  } finally {
    await data.close();
  }
}
