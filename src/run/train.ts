// `tessera train`: config → data → model → Learner.fit → test evaluation → saved model, metrics
// and report, all in one run directory:
//   runs/<name>/config.json     the resolved config, as used
//   runs/<name>/log.jsonl, .csv per-epoch (and per-100-batch) logs
//   runs/<name>/checkpoints/    last (generations), best; a rerun with the same name resumes here
//   runs/<name>/model.safetensors + model.json   final weights and what `predict` needs to use them
//   runs/<name>/metrics.json    test metrics (or where and why the training stopped); its presence marks the run finished
// A run that fails (diverges, halts on a non-finite loss) writes no non-finite model, records the
// stop in metrics.json and the report, and the CLI exits 1.
//   runs/<name>/report.html + report.json
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import type { BatchSource } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ModelEMA } from '../optim/ema.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { EpochRecord } from '../report/types.js';
import { manualSeed } from '../tensor/random.js';
import { runtimeInfo } from '../runtime/info.js';
import { autocastOf } from '../runtime/precision.js';
import { setNumThreads } from '../runtime/threads.js';
import { describeNames } from '../train/checkpoint.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { EMACallback } from '../train/callbacks/ema.js';
import { GradientAccumulation, GradientClipping } from '../train/callbacks/gradients.js';
import { History } from '../train/callbacks/history.js';
import { CsvLogger, JsonlLogger } from '../train/callbacks/logs.js';
import { ModelCheckpoint } from '../train/callbacks/checkpoint.js';
import { NonFiniteGuard } from '../train/callbacks/nan-guard.js';
import { Progress } from '../train/callbacks/progress.js';
import { SchedulerCallback } from '../train/callbacks/schedule.js';
import type { Callback, Stopped } from '../train/events.js';
import { nonFiniteEntries } from '../train/finite.js';
import { Learner } from '../train/learner.js';
import { openRunData, prepareRun, type RunData } from './data.js';
import { buildOptimizer, buildSchedule } from './optim.js';
import { evaluateAndReport, testFlipOf, type RunSummary } from './evaluate.js';
import { checkBeforeData } from './preflight.js';
import { openRunDirectory } from './run-dir.js';
import { saveRunModel } from './saved-model.js';
import { checkTask, type Task } from './tasks/index.js';
import { buildRunModel, fineTuning, resolveTransfer } from './transfer.js';
import type { RankRun } from './distributed.js';

export interface TrainRunOptions {
  /** Continue the named run's last checkpoint (a finished run is left alone). */
  resume?: boolean;
  /** Resume even when the config or data changed since the checkpoint. */
  force?: boolean;
  /** Lines for the user (progress goes to `progressStream`). */
  log?: (line: string) => void;
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** One rank of a data-parallel run (src/run/distributed.ts): it trains its shard; rank 0 alone writes and logs. */
  ranks?: RankRun;
}

/** The run's directory: `outDir/name`; a finished run of that name gets a fresh `name-2`, `name-3`… unless resuming. */
export function runDirectory(config: { name?: string | undefined; outDir: string; model: { name: string }; data: { source: string } }, resume: boolean): { dir: string; name: string; resuming: boolean } {
  const base = config.name ?? `${config.model.name}-${basename(config.data.source).replace(/[^\w.-]+/g, '_')}`;
  for (let k = 1; ; k++) {
    const name = k === 1 ? base : `${base}-${k}`;
    const dir = resolve(config.outDir, name);
    const finished = existsSync(join(dir, 'metrics.json'));
    const started = existsSync(join(dir, 'checkpoints'));
    if (!started) return { dir, name, resuming: false };
    if (!finished) return { dir, name, resuming: true }; // an interrupted run: continue it
    if (resume) return { dir, name, resuming: true };
  }
}

/**
 * Refuses a run whose epochs hold no batch (a training split smaller than one batch, with the last
 * partial batch dropped): it would take no optimizer step and report an untrained model.
 */
export function checkTrainable(train: BatchSource & { batchSize?: number; dropLast?: boolean }, samples: number | undefined): void {
  if (train.batchesPerEpoch !== 0) return;
  const size = train.batchSize === undefined ? '' : ` and the batch size is ${train.batchSize}`;
  const tail = train.dropLast ? ' with the last partial batch dropped' : '';
  throw new Error(
    `no training step would be taken: the training split has ${samples ?? 'too few'} images${size}${tail}, so an epoch holds no batch; ` +
      `lower --batch-size (train.batchSize)${samples ? ` to at most ${samples}` : ''}${train.dropLast ? ' or keep the last partial batch' : ''}`,
  );
}

/** The callbacks of a run: history, progress, logs, the NaN guard, checkpoints, the schedule and what the config asks for. */
function runCallbacks(config: RunConfig, task: Task, dir: string, data: RunData, history: History, scheduler: SchedulerCallback, ema: ModelEMA | undefined, o: TrainRunOptions, extra: Callback[]): Callback[] {
  const t = config.train;
  // checkpoint.monitor left at its default (val_accuracy, classification's) follows the task's own metric.
  const monitor = config.checkpoint.monitor === 'val_accuracy' && config.checkpoint.mode === 'max' ? task.monitor : { key: config.checkpoint.monitor, mode: config.checkpoint.mode };
  const callbacks: Callback[] = [
    history,
    new Progress({ ...(o.progressStream ? { stream: o.progressStream } : {}) }),
    new JsonlLogger({ path: join(dir, 'log.jsonl'), everyNBatches: 100 }),
    new CsvLogger({ path: join(dir, 'log.csv') }),
    new NonFiniteGuard({ action: t.nanGuard }),
    new ModelCheckpoint({
      dir: join(dir, 'checkpoints'),
      keep: config.checkpoint.keep,
      monitor: data.val ? monitor.key : 'train_loss',
      mode: data.val ? monitor.mode : 'min',
      ...(config.checkpoint.everySteps > 0 ? { everyNSteps: config.checkpoint.everySteps } : {}),
    }),
    scheduler,
    ...extra,
  ];
  if (t.gradAccumulation > 1) callbacks.push(new GradientAccumulation(t.gradAccumulation));
  if (t.clipGradNorm) callbacks.push(new GradientClipping(t.clipGradNorm));
  if (ema) callbacks.push(new EMACallback(ema, { validate: data.val !== undefined }));
  if (t.earlyStopping) callbacks.push(new EarlyStopping({ monitor: t.earlyStopping.monitor, patience: t.earlyStopping.patience, restoreBestWeights: true }));
  return callbacks;
}

/** A history row (`train_loss`, `val_accuracy`, `lr`, …) as the report's epoch record. */
function epochRecord(r: Record<string, number>): EpochRecord {
  const pick = (prefix: string) => Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), Number.isFinite(v) ? v : null]));
  return {
    epoch: (r['epoch'] as number) + 1,
    train: pick('train_'),
    val: pick('val_'),
    ...(r['lr'] !== undefined ? { lr: r['lr'] } : {}),
    ...(r['epoch_time'] !== undefined ? { seconds: r['epoch_time'] } : {}),
    ...(r['images_per_second'] !== undefined ? { imagesPerSecond: r['images_per_second'] } : {}),
  };
}

export async function runTraining(requested: RunConfig, options: TrainRunOptions = {}): Promise<RunSummary> {
  const ranks = options.ranks;
  const say = options.log ?? ((l: string) => console.log(l));
  const log = ranks ? ranks.quiet(say) : say;
  const started = performance.now();
  checkBeforeData(requested); // an unknown model or a missing --pretrained file fails before the data scan
  await ranks?.checkSameConfig(requested);
  const logger = { warn: (m: string) => log(`warning: ${m}`) };
  // What the config leaves to the data (model 'auto', image size, test split) is decided first: the run's name and saved config carry it.
  // What --pretrained weights decide (a ResNet's stem, channels, normalisation) is decided before the data, as the rest of the config.
  const { config, pipeline } = await prepareRun(resolveTransfer(requested, log), { log, logger });
  const task = checkTask(config, config.model.name); // 'auto' is a model by now: it must fit the task too
  const settings = task.settings(config);
  const where = () => runDirectory(config, options.resume ?? false);
  const { dir, name, resuming } = ranks ? await ranks.fromRank0(where) : where();
  const writes = ranks?.writes ?? true; // data-parallel: rank 0 alone writes in the run directory
  using _run = writes ? openRunDirectory(dir, { log }) : undefined; // locked; removed again if the run fails before its first checkpoint
  if (config.train.threads) setNumThreads(config.train.threads);
  manualSeed(config.train.seed);
  if (writes) writeFileAtomic(join(dir, 'config.json'), [Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]);

  const splitsPath = ranks ? ranks.splitsPath(join(dir, 'splits.json')) : join(dir, 'splits.json');
  const open = () => openRunData(config, { ...(splitsPath ? { splitsPath } : {}), logger, log, pipeline, ...(ranks ? { shard: ranks.shard } : {}) });
  const data = ranks ? await ranks.rank0First(open) : await open();
  const owned: { dispose(): void }[] = []; // freed when the run ends, however it ends
  try {
    await ranks?.checkSameData(data);
    log(`data: ${data.stats.description}; ${data.stats.splits.map((s) => `${s.name} ${s.count}`).join(', ')}; ${data.channels}×${data.height}×${data.width}`);
    const built = buildRunModel(config, { model: config.model.name, classes: data.classes.length, channels: data.channels, height: data.height }, log);
    const { options: modelOptions } = built;
    const model = ranks ? ranks.model(built.model) : built.model; // data-parallel: SyncBatchNorm when asked
    owned.push(model);
    const tuning = fineTuning(model, config, log);
    checkTrainable(data.train, data.stats.splits.find((s) => s.name === 'train')?.count);
    const trainable = model.numParameters({ trainableOnly: true });
    log(`model: ${config.model.name}, ${model.numParameters().toLocaleString('en-US')} parameters${trainable < model.numParameters() ? ` (${trainable.toLocaleString('en-US')} trainable in the first epoch)` : ''}`);
    const t = config.train;
    const info = runtimeInfo();
    const precision = autocastOf(t.mixedPrecision);
    log(`engine: ${info.threads.intraOp} thread${info.threads.intraOp === 1 ? "" : "s"}, LibTorch's ${info.libtorch.capability ?? 'default'} CPU kernels, ${t.mixedPrecision === 'off' ? 'float32' : `${t.mixedPrecision} autocast`}`);
    const optimizer: Optimizer = buildOptimizer(model, t.optimizer, tuning.groups);
    owned.push(optimizer);
    const batches = data.train.batchesPerEpoch ?? 1;
    const scheduler = new SchedulerCallback(buildSchedule(optimizer, t.schedule, t.epochs, Math.ceil(batches / t.gradAccumulation)), { every: 'step' });
    // The task's objective, and the loss validation and the test pass report (tasks/).
    const { loss, evalLoss, owned: held, notes } = task.losses(config, data.classes.length, data.trainCounts);
    owned.push(...(held ?? []));
    for (const n of notes) log(n);
    // Warm-up (timm's): the first updates track the weights closely instead of remembering the initialisation.
    const ema = t.ema === undefined ? undefined : new ModelEMA(model, { decay: t.ema, warmup: true });
    if (ema) owned.push(ema);
    const history = new History({ lrEvery: Math.max(1, Math.floor(batches / 20)) });
    const learner = new Learner({
      model, loss, evalLoss, metrics: task.metrics(data.classes.length, settings),
      precision, warn: (m) => log(`warning: ${m}`), ...(ranks ? { reduce: ranks.reduce } : {}),
    });
    if (resuming) log(`resuming ${dir}`);
    const callbacks = runCallbacks(config, task, dir, data, history, scheduler, ema, options, tuning.callbacks);
    const resume = resuming ? (ranks ? ranks.resume(join(dir, 'checkpoints')) : 'auto') : undefined;
    const fit = await learner.fit({
      train: ranks ? ranks.trainSource(data.train) : data.train,
      ...(data.val ? { val: data.val } : {}),
      epochs: t.epochs,
      optimizer,
      callbacks: ranks ? ranks.callbacks(callbacks) : callbacks,
      seed: t.seed,
      ...(resume ? { resume } : {}),
      fingerprint: { config: { ...config, name: undefined, outDir: undefined }, data: data.fingerprint, ...ranks?.fingerprint },
      ...(options.force ? { force: true } : {}),
    });
    // Data-parallel: the ranks' skipped files go to rank 0, which alone saves, tests and reports.
    const skippedElsewhere = ranks ? await ranks.finish(data) : [];
    if (!writes) return { dir, name, reportPath: join(dir, 'report.html'), seconds: (performance.now() - started) / 1000 };
    let stopped: Stopped | undefined = fit.stopped;
    if (stopped) log(`${stopped.failed ? 'training failed' : 'stopped early'}: ${stopped.reason}`);
    if (ema && !stopped?.failed) {
      ema.copyTo(model);
      log(`model: the EMA of the weights (decay ${t.ema}, ${ema.updates} updates) is saved as the run's model${t.earlyStopping ? ', not early stopping\'s best epoch' : ''}`);
    }
    const bad = nonFiniteEntries(model.stateDict());
    if (bad.length) {
      if (!stopped?.failed) stopped = { reason: `non-finite values in ${describeNames(bad)}`, epoch: stopped?.epoch ?? fit.epochsCompleted, batch: stopped?.batch ?? 0, step: fit.step, failed: true };
      log(`model not saved: non-finite values in ${describeNames(bad)}`);
    } else {
      saveRunModel(dir, model, { name: config.model.name, options: modelOptions, preprocessing: data.preprocessing, task: { name: task.name, ...settings }, testFlip: testFlipOf(config), ...(precision ? { precision } : {}) });
    }
    return await evaluateAndReport({
      dir,
      name,
      config,
      task,
      settings,
      evalLoss,
      model,
      data,
      history: history.rows.map(epochRecord),
      lrCurve: history.lrCurve,
      timings: fit.timings,
      trainSeconds: (performance.now() - started) / 1000,
      ...(stopped ? { stopped } : {}),
      ...(skippedElsewhere.length > 0 ? { skippedElsewhere } : {}),
      log,
    });
  } finally {
    for (const o of owned) o.dispose();
    await data.close();
  }
}
