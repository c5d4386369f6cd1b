// `tessera gan`: config → data (the one pipeline) → GAN → Learner.fit with the GAN step → sample
// grids, weights, quality figure and report, all in one run directory:
//   runs/<name>/config.json          the resolved config, as used
//   runs/<name>/log.jsonl, log.csv   per-epoch logs (and, in log.jsonl, GanHistory's per-batch points)
//   runs/<name>/checkpoints/         last (generations) holding both models, both optimizers, both
//                                    schedules: a rerun of the same command resumes there, exactly
//   runs/<name>/samples/             epoch-000.png (untrained) … epoch-NNN.png, real.png
//   runs/<name>/weights/             netG_epoch_N.pth, netD_epoch_N.pth (PyTorch state dicts)
//   runs/<name>/metrics.json         the last figures (or where and why training stopped); marks the run finished
//   runs/<name>/report.html + report.json
// Like `tessera train`: the run directory is locked, a failed start leaves no folder, a failed run
// (a non-finite loss) says so in metrics.json and the report and the CLI exits 1.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import type { DataPipeline } from '../../data/pipeline/pipeline.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { FileWriteError } from '../../io/errors.js';
import { frechetDistance } from '../../metrics/generative.js';
import type { Gan } from '../../models/gan.js';
import { dcgan } from '../../models/dcgan.js';
import { seedGan } from '../../models/gan-seed.js';
import { formatRuntimeInfo, runtimeInfo } from '../../runtime/info.js';
import { setNumThreads } from '../../runtime/threads.js';
import { GAN_REPORT_FORMAT, writeGanReport, type GanEpoch, type GanQuality, type GanReportData } from '../../report/gan.js';
import type { JsonValue } from '../../report/types.js';
import { binaryCrossEntropy, cat } from '../../tensor/generated/ops.js';
import { persist, scope } from '../../tensor/memory.js';
import { manualSeed } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModelCheckpoint } from '../../train/callbacks/checkpoint.js';
import { History } from '../../train/callbacks/history.js';
import { CsvLogger, JsonlLogger } from '../../train/callbacks/logs.js';
import { NonFiniteGuard } from '../../train/callbacks/nan-guard.js';
import { Progress } from '../../train/callbacks/progress.js';
import { SchedulerCallback } from '../../train/callbacks/schedule.js';
import type { Callback, Stopped } from '../../train/events.js';
import { Learner } from '../../train/learner.js';
import { GanHistory, type GanPoint } from '../../train/steps/gan-history.js';
import { dcganOptimizers, GanStep } from '../../train/steps/gan.js';
import { buildSchedule } from '../optim.js';
import { openRunDirectory } from '../run-dir.js';
import { runDirectory } from '../train.js';
import { fitGanToMachine, type GanConfig } from './config.js';
import { openGanData, openGanPipeline, realSets, type GanData } from './data.js';
import { FeatureSpace, QualityCallback, realStatistics } from './quality.js';
import { fixedNoise, gridPng, SampleGrids, sampleFile, weightFiles } from './samples.js';

export interface GanRunOptions {
  /** Continue a finished run's last checkpoint instead of starting `name-2`. */
  resume?: boolean;
  /** Resume even when the config or data changed since the checkpoint. */
  force?: boolean;
  log?: (line: string) => void;
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface GanRunSummary {
  dir: string;
  name: string;
  reportPath: string;
  seconds: number;
  epochs: number;
  /** The last quality figure and the untrained generator's, when a classifier was given. */
  quality?: { frechetDistance: number; classCoverage: number; classes: number; before: number };
  stopped?: Stopped;
}

/** Grids in the report: every epoch's up to this many, else this many evenly spaced (the first and last among them). */
const REPORT_GRIDS = 16;

export async function runGan(requested: GanConfig, options: GanRunOptions = {}): Promise<GanRunSummary> {
  const log = options.log ?? ((l: string) => console.log(l));
  const started = performance.now();
  // A wrong --classifier fails before the data are read.
  const space = requested.quality.classifier === undefined ? undefined : FeatureSpace.load(requested.quality.classifier);
  const owned: { dispose(): void }[] = space ? [space] : [];
  let pipeline: DataPipeline | undefined;
  let data: GanData | undefined;
  try {
    const opened = await openGanPipeline(requested, log);
    pipeline = opened.pipeline;
    const config = fitGanToMachine(opened.config, opened.config.data.imageSize as number, opened.config.data.channels as number, (m) => log(`warning: ${m}`));
    const { dir, name, resuming } = runDirectory(config, options.resume ?? false);
    using _run = openRunDirectory(dir, { log });
    if (config.train.threads) setNumThreads(config.train.threads);
    manualSeed(config.train.seed);
    writeFileAtomic(join(dir, 'config.json'), [Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]);
    data = await openGanData(config, pipeline);
    log(`data: ${data.stats.description}; ${data.stats.splits[0]?.count.toLocaleString('en-US')} images as ${data.size}×${data.size}×${data.channels} in [${data.range.join(', ')}]`);
    return await train(config, data, { dir, name, resuming, space, owned, log, started, options });
  } finally {
    for (const o of owned) o.dispose();
    if (data) await data.close();
    else pipeline?.close();
  }
}

interface Run {
  dir: string;
  name: string;
  resuming: boolean;
  space: FeatureSpace | undefined;
  owned: { dispose(): void }[];
  log: (line: string) => void;
  started: number;
  options: GanRunOptions;
}

function buildGan(config: GanConfig, data: GanData): Gan {
  const m = config.model;
  if (m.name === 'seed-gan') return seedGan();
  return dcgan({ nc: data.channels, imageSize: data.size, ...(m.nz ? { nz: m.nz } : {}), ...(m.ngf ? { ngf: m.ngf } : {}), ...(m.ndf ? { ndf: m.ndf } : {}) });
}

async function train(config: GanConfig, data: GanData, r: Run): Promise<GanRunSummary> {
  const { dir, log } = r;
  const t = config.train;
  const gan = buildGan(config, data);
  r.owned.push(gan);
  log(`model: ${config.model.name}, generator ${gan.generator.numParameters().toLocaleString('en-US')} parameters, discriminator ${gan.discriminator.numParameters().toLocaleString('en-US')}`);
  const optimizers = dcganOptimizers(gan, { lr: t.lr, beta1: t.beta1 });
  r.owned.push(optimizers.generator, optimizers.discriminator);
  const step = new GanStep(gan, { optimizers, labelSmoothing: t.labelSmoothing });
  const perEpoch = data.train.batchesPerEpoch ?? 1;
  const schedule = (which: 'generator' | 'discriminator', cb: string) =>
    new SchedulerCallback(buildSchedule(optimizers[which], t.schedule, t.epochs, perEpoch), { optimizer: optimizers[which], name: cb });
  const logFile = join(dir, 'log.jsonl');
  const ganHistory = new GanHistory(step, { every: Math.max(1, Math.floor(perEpoch / 25)), onPoint: (p: GanPoint) => appendLine(logFile, { kind: 'batch', ...p }) });
  const noise = fixedNoise(gan, config.samples, t.seed, 0);
  r.owned.push(noise);
  const callbacks: Callback[] = [
    new History(),
    ganHistory,
    new Progress({ ...(r.options.progressStream ? { stream: r.options.progressStream } : {}) }),
    new JsonlLogger({ path: logFile }),
    new CsvLogger({ path: join(dir, 'log.csv') }),
    new NonFiniteGuard({ action: 'halt' }),
    new ModelCheckpoint({ dir: join(dir, 'checkpoints'), keep: config.checkpoint.keep, ...(config.checkpoint.everySteps > 0 ? { everyNSteps: config.checkpoint.everySteps } : {}) }),
    schedule('generator', 'scheduleG'),
    schedule('discriminator', 'scheduleD'),
    new SampleGrids(gan, noise, dir, data.range),
  ];
  const quality = r.space ? await qualityCallback(config, data, r.space, gan, r) : undefined;
  if (quality) callbacks.push(quality.callback);
  if (r.resuming) log(`resuming ${dir}`);
  const learner = new Learner({ model: gan, loss: binaryCrossEntropy, warn: (m) => log(`warning: ${m}`) });
  const fit = await learner.fit({
    train: data.train,
    epochs: t.epochs,
    step,
    callbacks,
    seed: t.seed,
    ...(r.resuming ? { resume: 'auto' as const } : {}),
    fingerprint: { config: { ...config, name: undefined, outDir: undefined }, data: data.fingerprint },
    ...(r.options.force ? { force: true } : {}),
  });
  const stopped = fit.stopped;
  if (stopped) log(`${stopped.failed ? 'training failed' : 'stopped early'}: ${stopped.reason}`);
  writeFileAtomic(join(dir, 'samples', 'real.png'), [await realGrid(data, config.samples)]);
  const trainSeconds = (performance.now() - r.started) / 1000;
  const points = quality?.callback.points ?? [];
  const [before, last] = [points[0], points.at(-1)];
  const summary: GanRunSummary = {
    dir, name: r.name, reportPath: join(dir, 'report.html'), seconds: trainSeconds, epochs: fit.epochsCompleted,
    ...(r.space && before && last ? { quality: { frechetDistance: last.frechetDistance, classCoverage: last.classCoverage, classes: r.space.classes.length, before: before.frechetDistance } } : {}),
    ...(stopped ? { stopped } : {}),
  };
  const metrics = {
    run: r.name,
    last_epoch: fit.history.at(-1) ?? null,
    ...(summary.quality ? { frechet_distance: last?.frechetDistance, class_coverage: last?.classCoverage, frechet_distance_before_training: before?.frechetDistance } : {}),
    ...(stopped ? { stopped } : {}),
    train_seconds: trainSeconds,
  };
  writeFileAtomic(join(dir, 'metrics.json'), [Buffer.from(`${JSON.stringify(metrics, null, 2)}\n`)]);
  const report: GanReportData = {
    format: GAN_REPORT_FORMAT,
    runName: r.name,
    createdAt: new Date().toISOString(),
    config: JSON.parse(JSON.stringify(config)) as { [k: string]: JsonValue },
    dataset: data.stats,
    model: { name: config.model.name, generatorParameters: gan.generator.numParameters(), discriminatorParameters: gan.discriminator.numParameters(), imageSize: data.size, channels: data.channels },
    history: fit.history.map(epochRow),
    points: ganHistory.points.map(({ batches: _b, ...p }) => p),
    samples: gridEpochs(fit.epochsCompleted).filter((e) => existsSync(sampleFile(dir, e))).map((e) => ({ epoch: e, file: relative(dir, sampleFile(dir, e)), pngBase64: readFileSync(sampleFile(dir, e)).toString('base64') })),
    real: { pngBase64: readFileSync(join(dir, 'samples', 'real.png')).toString('base64') },
    ...(quality && r.space ? { quality: { ...quality.about, points } } : {}),
    weights: Array.from({ length: fit.epochsCompleted }, (_, i) => {
      const f = weightFiles(dir, i + 1);
      return { epoch: i + 1, generator: relative(dir, f.generator), discriminator: relative(dir, f.discriminator) };
    }),
    ...(stopped ? { stopped: { ...stopped } } : {}),
    timing: [{ name: 'run (total)', seconds: trainSeconds }, ...Object.entries(fit.timings.perBatchMs).map(([phase, ms]) => ({ name: phase, seconds: ms / 1000, perBatch: true }))],
    ...(data.train.badSamples.length > 0 ? { skipped: data.train.badSamples.map((b) => ({ id: b.id, reason: b.reason, split: 'train' })) } : {}),
    environment: { info: formatRuntimeInfo(runtimeInfo()).split('\n')[0] ?? '', node: process.version },
  };
  writeGanReport(dir, report);
  return summary;
}

/** Real statistics, the real-vs-real floor, the evaluation noise: the quality callback of a run with a classifier. */
async function qualityCallback(config: GanConfig, data: GanData, space: FeatureSpace, gan: Gan, r: Run): Promise<{ callback: QualityCallback; about: Omit<GanQuality, 'points'> }> {
  const q = config.quality;
  const sets = await realSets(data, q.samples, config.train.seed);
  try {
    const real = await realStatistics(space, sets.reference, q.samples, data.range);
    r.owned.push(real.mean, real.cov);
    let floor: number | undefined;
    if (sets.other) {
      const other = await realStatistics(space, sets.other, q.samples, data.range);
      floor = scope(() => frechetDistance(other, real));
      other.mean.dispose();
      other.cov.dispose();
    }
    r.log(`quality: Fréchet distance in the features of ${q.classifier} (${space.describe()}) against ${sets.description}${floor === undefined ? '' : `; two real sets of this size are ${floor.toFixed(3)} apart`}`);
    const z = fixedNoise(gan, q.samples, config.train.seed, 1);
    r.owned.push(z);
    const callback = new QualityCallback(space, gan, z, real, { range: data.range, minShare: q.minShare, log: r.log });
    const about = { classifier: q.classifier as string, description: space.describe(), classes: [...space.classes], reference: sets.description, samples: real.count, minShare: q.minShare, ...(floor === undefined ? {} : { realFloor: floor }) };
    return { callback, about };
  } finally {
    await Promise.all([sets.reference.close(), sets.other?.close()]);
  }
}

/** A grid of the first `n` training images of epoch 0 (random, from the run's seed), as the generator should make them. */
async function realGrid(data: GanData, n: number): Promise<Buffer> {
  const parts: Tensor[] = [];
  let count = 0;
  const controller = new AbortController();
  for await (const b of data.train.epoch(0, { signal: controller.signal })) {
    parts.push(persist(b.x.narrow(0, 0, Math.min(b.x.shape[0] as number, n - count)).contiguous()));
    count += parts.at(-1)?.shape[0] as number;
    b.x.dispose();
    b.y.dispose();
    if (count >= n) {
      controller.abort();
      break;
    }
  }
  const all = scope(() => persist(cat(parts)));
  for (const p of parts) p.dispose();
  try {
    return await gridPng(all, data.range);
  } finally {
    all.dispose();
  }
}

/** The epochs whose grids the report shows (see REPORT_GRIDS), 0 (before training) first. */
function gridEpochs(epochs: number): number[] {
  if (epochs + 1 <= REPORT_GRIDS) return Array.from({ length: epochs + 1 }, (_, i) => i);
  return [...new Set(Array.from({ length: REPORT_GRIDS }, (_, i) => Math.round((i * epochs) / (REPORT_GRIDS - 1))))];
}

function epochRow(h: Record<string, number>): GanEpoch {
  const v = (k: string) => (Number.isFinite(h[k]) ? (h[k] as number) : null);
  return {
    epoch: (h['epoch'] as number) + 1,
    loss_d: v('loss_d'), loss_g: v('loss_g'), d_x: v('d_x'), d_g_z1: v('d_g_z1'), d_g_z2: v('d_g_z2'), lr_g: v('lr'), lr_d: v('lr_d'),
    ...(h['epoch_time'] !== undefined ? { seconds: h['epoch_time'] } : {}),
    ...(h['images_per_second'] !== undefined ? { imagesPerSecond: h['images_per_second'] } : {}),
  };
}

function appendLine(path: string, row: object): void {
  try {
    appendFileSync(path, `${JSON.stringify(row)}\n`);
  } catch (e) {
    throw new FileWriteError(path, e);
  }
}
