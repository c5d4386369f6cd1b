// Fine-tuning a pruned model with the trainer (src/train/), on the run's own data: its training
// split as saved (splits file), its augmentation and loss (label smoothing), normalised with the
// model's saved preprocessing (never re-measured), validated each epoch on its validation split.
// The run's optimizer at a lower learning rate (the weights are already trained: a tenth of the
// run's by default), cosine-annealed over the fine-tuning epochs without warm-up; unstructured
// masks stay applied (MaskCallback).
import type { RunConfig } from '../config/schema.js';
import type { Preprocessing } from '../data/pipeline/preprocessing.js';
import { createMetric } from '../metrics/metrics.js';
import type { ZooModel } from '../models/registry.js';
import { crossEntropy } from '../nn/losses.js';
import { openRunData } from '../run/data.js';
import { buildOptimizer, buildSchedule } from '../run/optim.js';
import type { Tensor } from '../tensor/tensor.js';
import { Progress, type ProgressStream } from '../train/callbacks/progress.js';
import { SchedulerCallback } from '../train/callbacks/schedule.js';
import type { Callback } from '../train/events.js';
import { Learner } from '../train/learner.js';
import { MaskCallback } from './magnitude.js';

export interface FinetuneOptions {
  epochs: number;
  lr: number;
  /** Unstructured pruning's masks, kept applied while training. */
  masks?: ReadonlyMap<string, Tensor>;
  /** Progress lines (default: none). */
  progressStream?: ProgressStream;
  log?: (line: string) => void;
}

/** One row per epoch (train_loss, val_accuracy, lr, …), as the trainer's History keeps them. */
export async function finetune(model: ZooModel, config: RunConfig, splitsFile: string, preprocessing: Preprocessing, o: FinetuneOptions): Promise<Record<string, number>[]> {
  const normalize = { mean: [...preprocessing.mean], std: [...preprocessing.std] };
  const cfg: RunConfig = { ...config, augment: { ...config.augment, normalize } };
  const log = o.log ?? (() => {});
  const data = await openRunData(cfg, { splitsPath: splitsFile, logger: { warn: (m) => log(`warning: ${m}`) } });
  const t = cfg.train;
  const optimizer = buildOptimizer(model, { ...t.optimizer, lr: o.lr });
  try {
    const steps = data.train.batchesPerEpoch ?? 1;
    const schedule = buildSchedule(optimizer, { ...t.schedule, name: 'cosine', warmup: 0 }, o.epochs, steps);
    const callbacks: Callback[] = [new SchedulerCallback(schedule, { every: 'step' })];
    if (o.masks) callbacks.push(new MaskCallback(o.masks));
    if (o.progressStream) callbacks.push(new Progress({ stream: o.progressStream }));
    const learner = new Learner({
      model,
      loss: (out, y) => crossEntropy(out, y, { labelSmoothing: t.labelSmoothing }),
      evalLoss: (out, y) => crossEntropy(out, y),
      metrics: [createMetric('accuracy', data.classes.length)],
      warn: (m) => log(`warning: ${m}`),
    });
    const fit = await learner.fit({ train: data.train, ...(data.val ? { val: data.val } : {}), epochs: o.epochs, optimizer, callbacks, seed: t.seed });
    if (fit.stopped?.failed) throw new Error(`fine-tuning failed: ${fit.stopped.reason}`);
    return fit.history;
  } finally {
    optimizer.dispose();
    await data.close();
  }
}
