// `tessera prune <run> --amount 0.5 [--structured] [--finetune-epochs N]`: a trained run's model
// pruned — global magnitude masks (magnitude.ts) or whole channels removed (channels.ts) —
// optionally fine-tuned on the run's data (finetune.ts), and saved as a new run directory beside it
// that eval, predict and export take as any run:
//   <run>-pruned/model.safetensors + model.json   (a channel-pruned model.json lists its new shapes)
//   <run>-pruned/config.json, splits.json         the source run's, so its splits stay its splits
//   <run>-pruned/prune.json                       the report: parameters, multiply-adds, latency at
//                                                 batch 1 and 32 (Tessera) and validation accuracy,
//                                                 before and after
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import type { BatchSource } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { modelInfo, type ZooModel } from '../models/registry.js';
import { lockRunDirectory } from '../run/lock.js';
import { measurementSplit, openRunSplits } from '../run/run-split.js';
import { loadRunModel, saveRunModel } from '../run/saved-model.js';
import { setNumThreads } from '../runtime/threads.js';
import { zeros } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ProgressStream } from '../train/callbacks/progress.js';
import { inference, type InferenceOptions } from '../train/inference.js';
import { pruneChannels, type ChannelPruning } from './channels.js';
import { forwardLatency, modelCost, type ForwardLatency, type ModelCost } from './cost.js';
import { finetune } from './finetune.js';
import { applyMasks, globalMagnitudeMasks, prunableWeights } from './magnitude.js';

export const PRUNE_REPORT_FORMAT = 'tessera-prune/1';

export interface PruneRunOptions {
  /** The fraction to prune: of all conv/linear weights (global magnitude), or of each group's channels (structured). */
  amount: number;
  /** Remove whole channels (default false: global magnitude masks). */
  structured?: boolean;
  /** Fine-tuning epochs on the run's training split after pruning (default 0). */
  finetuneEpochs?: number;
  /** Fine-tuning learning rate (default: a tenth of the run's). */
  finetuneLr?: number;
  /** The new run's directory name, beside the source run (default `<run>-pruned`, `-2`, … if taken). */
  name?: string;
  /** LibTorch threads (default: as set). */
  threads?: number;
  /** Timed runs per latency (default 20 at batch 1, half that at 32). */
  latencyRuns?: number;
  log?: (line: string) => void;
  progressStream?: ProgressStream;
}

export interface Figures extends ModelCost {
  latency: ForwardLatency[];
  accuracy: number;
}

export interface PruneReport {
  format: typeof PRUNE_REPORT_FORMAT;
  /** The source run directory. */
  from: string;
  /** The new run directory. */
  dir: string;
  method: 'global-magnitude' | 'channels';
  amount: number;
  measuredOn: { split: 'validation' | 'test'; samples: number };
  before: Figures;
  /** Accuracy right after pruning, before any fine-tuning. */
  prunedAccuracy: number;
  after: Figures;
  finetune: { epochs: number; lr: number; history: Record<string, number>[] } | null;
  /** Structured: the groups cut and the ones kept whole. */
  channels?: ChannelPruning;
}

export async function pruneRun(runPath: string, options: PruneRunOptions): Promise<PruneReport> {
  const { amount } = options;
  if (!(amount > 0 && amount < 1)) throw new RangeError(`--amount must be a fraction between 0 and 1 (exclusive), got ${amount}`);
  const epochs = options.finetuneEpochs ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`--finetune-epochs must be a non-negative integer, got ${epochs}`);
  if (options.finetuneLr !== undefined && !(options.finetuneLr > 0)) throw new RangeError(`--finetune-lr must be a positive number, got ${options.finetuneLr}`);
  if (options.finetuneLr !== undefined && epochs === 0) throw new RangeError('--finetune-lr goes with --finetune-epochs');
  const log = options.log ?? (() => {});
  if (options.threads) setNumThreads(options.threads);

  const loaded = loadRunModel(runPath);
  const { model, preprocessing } = loaded;
  // Accuracy as `tessera eval` of the pruned run will measure it: the run's test-time flip and precision.
  const passOptions = { flip: loaded.testFlip === true, precision: loaded.precision ?? false } as const;
  const from = resolve(loaded.dir);
  let created: string | undefined;
  try {
    const task = modelInfo(loaded.name).task;
    if (task !== 'classify') throw new Error(`pruning reports classification accuracy; ${loaded.name} is a '${task}' model`);
    const splits = await openRunSplits(from);
    try {
      const measured = measurementSplit(splits);
      const dir = newRunDirectory(from, options.name);
      mkdirSync(dir);
      created = dir;
      const lock = lockRunDirectory(dir);
      try {
        const { channels, height, width } = preprocessing.input;
        const input = [channels, height, width];
        const loader = await preprocessing.loader(measured.dataset, { batchSize: 256 });
        try {
          let samples = 0;
          const figures = async (): Promise<Figures> => {
            const runs = options.latencyRuns ?? 20;
            const latency = [forwardLatency(model, input, 1, { runs }), forwardLatency(model, input, 32, { runs: Math.max(3, Math.ceil(runs / 2)) })];
            const acc = await accuracy(model, loader, passOptions);
            samples = acc.total;
            return { ...modelCost(model, input), latency, accuracy: acc.accuracy };
          };
          log(`measuring ${loaded.name} on the ${measured.name} split`);
          const before = await figures();
          let channelReport: ChannelPruning | undefined;
          let masks: Map<string, Tensor> | undefined;
          if (options.structured) {
            channelReport = scope(() => pruneChannels(model, zeros([1, ...input]), amount));
            if (preprocessing.memoryFormat === 'channelsLast') model.to({ memoryFormat: 'channelsLast' }); // the new tensors are contiguous
            if (channelReport.pruned.length === 0) throw new Error(`no channels to remove: ${channelReport.kept.map((k) => k.reason).join('; ')}`);
            log(`removed channels from ${channelReport.pruned.length} groups (${channelReport.kept.length} kept whole)`);
          } else {
            masks = globalMagnitudeMasks(prunableWeights(model), amount);
            applyMasks(model, masks);
          }
          try {
            const prunedAccuracy = (await accuracy(model, loader, passOptions)).accuracy;
            let tuned: PruneReport['finetune'] = null;
            if (epochs > 0) {
              const lr = options.finetuneLr ?? splits.config.train.optimizer.lr / 10;
              log(`fine-tuning ${epochs} epoch${epochs === 1 ? '' : 's'} at lr ${lr}`);
              const history = await finetune(model, splits.config, splits.splitsFile, preprocessing, { epochs, lr, ...(masks ? { masks } : {}), log, ...(options.progressStream ? { progressStream: options.progressStream } : {}) });
              tuned = { epochs, lr, history };
            }
            const after = await figures();
            saveRunModel(dir, model, {
              name: loaded.name,
              options: loaded.options,
              preprocessing,
              ...(channelReport && Object.keys(channelReport.shapes).length ? { shapes: channelReport.shapes } : {}),
              ...(loaded.testFlip ? { testFlip: true } : {}),
              ...(loaded.precision ? { precision: loaded.precision } : {}),
            });
            copyFileSync(join(from, 'config.json'), join(dir, 'config.json'));
            if (splits.config.data.splitsFile === undefined && existsSync(splits.splitsFile)) copyFileSync(splits.splitsFile, join(dir, 'splits.json'));
            const report: PruneReport = {
              format: PRUNE_REPORT_FORMAT,
              from,
              dir,
              method: options.structured ? 'channels' : 'global-magnitude',
              amount,
              measuredOn: { split: measured.name, samples },
              before,
              prunedAccuracy,
              after,
              finetune: tuned,
              ...(channelReport ? { channels: channelReport } : {}),
            };
            writeFileAtomic(join(dir, 'prune.json'), [Buffer.from(`${JSON.stringify(report, null, 2)}\n`)]);
            created = undefined; // finished: keep it
            return report;
          } finally {
            for (const m of masks?.values() ?? []) m.dispose();
          }
        } finally {
          await loader.close();
        }
      } finally {
        lock.release();
      }
    } finally {
      splits.close();
    }
  } finally {
    if (created) rmSync(created, { recursive: true, force: true }); // a failed prune leaves no half-made run
    model.dispose();
  }
}

/** `<run>-pruned` beside the run (or `--name`), `-2`, `-3`, … when taken; a taken `--name` is an error. */
function newRunDirectory(from: string, name: string | undefined): string {
  const parent = dirname(from);
  if (name !== undefined) {
    if (!/^[\w.-]+$/.test(name) || name === '.' || name === '..') throw new RangeError(`--name must be a directory name (letters, digits, '.', '_', '-'), got '${name}'`);
    const dir = join(parent, name);
    if (existsSync(dir)) throw new Error(`${dir} already exists; choose another --name`);
    return dir;
  }
  const base = `${basename(from)}-pruned`;
  for (let k = 1; ; k++) {
    const dir = join(parent, k === 1 ? base : `${base}-${k}`);
    if (!existsSync(dir)) return dir;
  }
}

/** Top-1 accuracy of the model over one pass of `source` (eval mode, no grad). */
async function accuracy(model: ZooModel, source: BatchSource, options: InferenceOptions): Promise<{ correct: number; total: number; accuracy: number }> {
  let correct = 0;
  let total = 0;
  await inference(model, source, (out, batch) => {
    correct += Number(out.argmax(1).eq(batch.y).sum().item());
    total += batch.y.shape[0] as number;
  }, options);
  if (total === 0) throw new RangeError('accuracy: the split gave no samples');
  return { correct, total, accuracy: correct / total };
}
