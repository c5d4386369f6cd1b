// `tessera train`: config → data → model → Trainer.fit → test evaluation → saved model, metrics
// and report, all in one run directory:
//   runs/<name>/config.json     the resolved config, as used
//   runs/<name>/log.jsonl, .csv per-epoch (and per-100-batch) logs
//   runs/<name>/checkpoints/    last (generations), best; a rerun with the same name resumes here
//   runs/<name>/model.safetensors + model.json   final weights and what `predict` needs to use them
//   runs/<name>/metrics.json    test metrics; its presence marks the run finished
//   runs/<name>/report.html + report.json
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import { classWeights } from '../data/imbalance.js';
import { writeFileAtomic } from '../io/atomic.js';
import { createMetric } from '../metrics/metrics.js';
import { crossEntropy } from '../nn/losses.js';
import { createModel, type ZooModel } from '../models/registry.js';
import { freezeBackbone, loadPretrained } from '../models/transfer.js';
import type { EpochRecord } from '../report/types.js';
import { manualSeed } from '../tensor/random.js';
import { tensor } from '../tensor/factories.js';
import { persist } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { setNumThreads } from '../runtime/threads.js';
import { Trainer } from '../train/trainer.js';
import type { Callback, TrainContext } from '../train/events.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { CsvLogger, JsonlLogger } from '../train/callbacks/logs.js';
import { ModelCheckpoint } from '../train/callbacks/checkpoint.js';
import { NonFiniteGuard } from '../train/callbacks/nan-guard.js';
import { Progress } from '../train/callbacks/progress.js';
import { openRunData, type RunData } from './data.js';
import { buildOptimizer, buildSchedule } from './optim.js';
import { evaluateAndReport, type RunSummary } from './evaluate.js';
import { checkBeforeData } from './preflight.js';
import { openRunDirectory } from './run-dir.js';
import { saveRunModel } from './saved-model.js';

export interface TrainRunOptions {
  /** Continue the named run's last checkpoint (a finished run is left alone). */
  resume?: boolean;
  /** Resume even when the config or data changed since the checkpoint. */
  force?: boolean;
  /** Lines for the user (progress goes to `progressStream`). */
  log?: (line: string) => void;
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The run's directory: `outDir/name`; a finished run of that name gets a fresh `name-2`, `name-3`… unless resuming. */
export function runDirectory(config: RunConfig, resume: boolean): { dir: string; name: string; resuming: boolean } {
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

/** Records the learning rate every few steps, for the report's LR curve. */
class LrRecorder implements Callback {
  readonly name = 'lrRecorder';
  readonly points: { step: number; lr: number }[] = [];
  constructor(private readonly every: number) {}
  afterStep(ctx: TrainContext): void {
    if (ctx.step % this.every === 0) this.points.push({ step: ctx.step, lr: ctx.lrs[0] as number });
  }
}

function buildModel(config: RunConfig, data: RunData, log: (l: string) => void): ZooModel {
  const model = createModel(config.model.name, { classes: data.classes.length, inChannels: data.channels, imageSize: data.height });
  if (config.model.pretrained) {
    const r = loadPretrained(model, config.model.pretrained, { skipHead: true });
    log(`loaded ${r.loaded.length} tensors from ${config.model.pretrained}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`);
  }
  if (config.model.freezeBackbone) log(`froze ${freezeBackbone(model).length} backbone tensors`);
  return model;
}

/** The epoch rows of a JSONL log (a resumed run's history includes the epochs before the resume). */
function historyFromLog(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  const rows = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number | null | string>);
  return rows
    .filter((r) => r['kind'] === 'epoch')
    .map((r) => {
      const pick = (prefix: string) => Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), typeof v === 'number' ? v : null]));
      const seconds = typeof r['epoch_time'] === 'number' ? r['epoch_time'] : undefined;
      return {
        epoch: Number(r['epoch']) + 1,
        train: pick('train_'),
        val: pick('val_'),
        ...(typeof r['lr'] === 'number' ? { lr: r['lr'] } : {}),
        ...(seconds !== undefined ? { seconds } : {}),
        ...(typeof r['images_per_second'] === 'number' ? { imagesPerSecond: r['images_per_second'] } : {}),
      };
    });
}

export async function runTraining(config: RunConfig, options: TrainRunOptions = {}): Promise<RunSummary> {
  const log = options.log ?? ((l: string) => console.log(l));
  const started = performance.now();
  checkBeforeData(config);
  const { dir, name, resuming } = runDirectory(config, options.resume ?? false);
  using _run = openRunDirectory(dir, { log }); // locked; removed again if the run fails before its first checkpoint
  if (config.train.threads) setNumThreads(config.train.threads);
  manualSeed(config.train.seed);
  writeFileAtomic(join(dir, 'config.json'), [Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]);

  const data = await openRunData(config, { splitsPath: join(dir, 'splits.json'), logger: { warn: (m: string) => log(`warning: ${m}`) } });
  const owned: { dispose(): void }[] = []; // freed when the run ends, however it ends
  try {
    log(`data: ${data.stats.description}; ${data.stats.splits.map((s) => `${s.name} ${s.count}`).join(', ')}; ${data.channels}×${data.height}×${data.width}`);
    const model = buildModel(config, data, log);
    owned.push(model);
    log(`model: ${config.model.name}, ${model.numParameters().toLocaleString('en-US')} parameters`);
    const t = config.train;
    const optimizer = buildOptimizer(model, t.optimizer);
    owned.push(optimizer);
    const batches = data.train.batchesPerEpoch ?? 1;
    const scheduler = buildSchedule(optimizer, t.schedule, t.epochs, Math.ceil(batches / t.gradAccumulation));
    let weight: Tensor | undefined;
    if (t.classWeights !== 'none' && t.sampler !== 'weighted' && data.trainCounts)
      owned.push((weight = persist(tensor(Float32Array.from(classWeights(data.trainCounts, t.classWeights))))));
    const loss = (out: Tensor, y: Tensor) => crossEntropy(out, y, { labelSmoothing: t.labelSmoothing, ...(weight ? { weight } : {}) });
    const lr = new LrRecorder(Math.max(1, Math.floor(batches / 20)));
    const checkpoint = new ModelCheckpoint({
      dir: join(dir, 'checkpoints'),
      keep: config.checkpoint.keep,
      monitor: data.val ? config.checkpoint.monitor : 'train_loss',
      mode: data.val ? config.checkpoint.mode : 'min',
      ...(config.checkpoint.everySteps > 0 ? { everyNSteps: config.checkpoint.everySteps } : {}),
    });
    const callbacks: Callback[] = [
      new Progress({ ...(options.progressStream ? { stream: options.progressStream } : {}) }),
      new JsonlLogger({ path: join(dir, 'log.jsonl'), everyNBatches: 100 }),
      new CsvLogger({ path: join(dir, 'log.csv') }),
      new NonFiniteGuard({ action: t.nanGuard }),
      checkpoint,
      lr,
    ];
    if (t.earlyStopping) callbacks.push(new EarlyStopping({ monitor: t.earlyStopping.monitor, patience: t.earlyStopping.patience, restoreBestWeights: true }));
    if (resuming) log(`resuming ${dir}`);
    const fit = await new Trainer({ warn: (m) => log(`warning: ${m}`) }).fit({
      model,
      train: data.train,
      ...(data.val ? { val: data.val } : {}),
      epochs: t.epochs,
      optimizer,
      loss,
      metrics: [createMetric('accuracy', data.classes.length)],
      scheduler,
      schedulerStep: 'batch',
      callbacks,
      gradAccumulation: t.gradAccumulation,
      ...(t.clipGradNorm ? { clipGradNorm: t.clipGradNorm } : {}),
      mixedPrecision: t.mixedPrecision === 'off' ? false : t.mixedPrecision,
      seed: t.seed,
      ...(resuming ? { resume: 'auto' as const } : {}),
      fingerprint: { config: { ...config, name: undefined, outDir: undefined }, data: data.fingerprint },
      ...(options.force ? { force: true } : {}),
    });
    if (fit.stopped) log(`stopped early: ${fit.stopped.reason}`);
    saveRunModel(dir, model, { config, classes: data.classes, channels: data.channels, height: data.height, width: data.width, mean: data.mean, std: data.std });
    return await evaluateAndReport({
      dir,
      name,
      config,
      model,
      data,
      history: historyFromLog(join(dir, 'log.jsonl')),
      lrCurve: lr.points,
      timings: fit.timings,
      trainSeconds: (performance.now() - started) / 1000,
      log,
    });
  } finally {
    for (const o of owned) o.dispose();
    await data.close();
  }
}
