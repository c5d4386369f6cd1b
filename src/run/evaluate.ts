// The end of a run: the model on the test set (every metric over the whole set, and the images the
// report shows: the task's test pass, src/run/tasks/), metrics.json and the HTML report. A failed run (diverged,
// halted) gets no test pass — its model is not one to measure — but its logs, metrics.json and
// report say where and why it stopped.
import { join } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ClassificationReport } from '../metrics/report.js';
import type { ZooModel } from '../models/registry.js';
import { formatRuntimeInfo, runtimeInfo } from '../runtime/info.js';
import { writeReport } from '../report/write.js';
import { REPORT_FORMAT, type EpochRecord, type JsonValue, type ReportData } from '../report/types.js';
import { autocastOf } from '../runtime/precision.js';
import type { Stopped } from '../train/events.js';
import type { LossFn } from '../train/inference.js';
import type { RunData } from './data.js';
import type { Task, TaskSettings, TestOutput } from './tasks/index.js';

export interface RunSummary {
  dir: string;
  name: string;
  /** Test accuracy (0–1), when there was a test set (classification). */
  testAccuracy?: number;
  test?: ClassificationReport;
  /** The test metrics as metrics.json has them (`test_miou`, `test_map`, …). */
  testMetrics?: Record<string, number | null>;
  /** The result in a few words for the command line, e.g. `test mean IoU 93.10%`. */
  headline?: string;
  reportPath: string;
  seconds: number;
  /** Why the training stopped early; `failed` runs exit non-zero. */
  stopped?: Stopped;
}

export { evaluateInto } from './tasks/classify.js';

/**
 * Whether the run's test pass uses the test-time flip: `augment.testFlip`, by default on when
 * training flips — for classification only (averaging logits of a mirrored mask or reconstruction
 * would need them flipped back; checkTask refuses testFlip for the other tasks).
 */
export function testFlipOf(config: RunConfig): boolean {
  return config.task === 'classify' && (config.augment.testFlip ?? config.augment.hflip);
}

export interface EvaluateAndReportInput {
  dir: string;
  name: string;
  config: RunConfig;
  /** What the model was trained to do: the test pass and the report's sections are the task's. */
  task: Task;
  settings: TaskSettings;
  evalLoss: LossFn;
  model: ZooModel;
  data: RunData;
  history: EpochRecord[];
  lrCurve: { step: number; lr: number }[];
  timings: { perBatchMs: Record<string, number>; batches: number; samplesPerSecond: number; trainSeconds: number };
  trainSeconds: number;
  stopped?: Stopped;
  /** Files skipped by the other ranks of a data-parallel run (this process's own are in `data`). */
  skippedElsewhere?: { id: string; reason: string; split: 'train' | 'val' | 'test' }[];
  log: (line: string) => void;
}

export async function evaluateAndReport(i: EvaluateAndReportInput): Promise<RunSummary> {
  const { data, config } = i;
  const t0 = performance.now();
  let result: TestOutput | undefined;
  if (i.stopped?.failed) i.log('test: not evaluated, the training failed');
  else if (data.test) {
    result = await i.task.test({
      model: i.model,
      source: data.test,
      classes: data.classes,
      preprocessing: data.preprocessing,
      settings: i.settings,
      evalLoss: i.evalLoss,
      // The precision validation ran with, so val_loss and test_loss are computed alike.
      precision: autocastOf(config.train.mixedPrecision),
      flip: testFlipOf(config),
      gallery: config.gallery,
      ...(data.testSet ? { testSet: data.testSet } : {}),
    });
    i.log(result.line);
  }
  const test = result?.report.test;
  const evalSeconds = (performance.now() - t0) / 1000;
  const skipped = [...(['train', 'val', 'test'] as const).flatMap((split) => (data[split]?.badSamples ?? []).map((b) => ({ id: b.id, reason: b.reason, split }))), ...(i.skippedElsewhere ?? [])];
  const metrics = {
    run: i.name,
    ...result?.metrics,
    last_epoch: i.history.at(-1) ?? null,
    ...(i.stopped ? { stopped: i.stopped } : {}),
    train_seconds: i.trainSeconds,
    skipped_files: skipped,
  };
  writeFileAtomic(join(i.dir, 'metrics.json'), [Buffer.from(`${JSON.stringify(metrics, null, 2)}\n`)]);
  const perBatch = Object.entries(i.timings.perBatchMs).map(([phase, ms]) => ({ name: phase, seconds: ms / 1000, perBatch: true }));
  const report: ReportData = {
    format: REPORT_FORMAT,
    runName: i.name,
    createdAt: new Date().toISOString(),
    config: JSON.parse(JSON.stringify(config)) as { [k: string]: JsonValue },
    dataset: data.stats,
    history: i.history,
    lrCurve: i.lrCurve,
    ...(i.task.name === 'classify' ? {} : { task: i.task.name }),
    ...result?.report,
    ...(i.stopped ? { stopped: { ...i.stopped } } : {}),
    gallery: result?.report.gallery ?? [],
    timing: [{ name: 'training (total)', seconds: i.trainSeconds }, { name: 'test evaluation', seconds: evalSeconds }, ...perBatch],
    ...(skipped.length > 0 ? { skipped } : {}),
    environment: { info: formatRuntimeInfo(runtimeInfo()).split('\n')[0] ?? '', node: process.version },
  };
  const paths = writeReport(i.dir, report);
  return {
    dir: i.dir,
    name: i.name,
    ...(test ? { test } : {}),
    ...(test && test.accuracy !== null ? { testAccuracy: test.accuracy } : {}),
    ...(result && Object.keys(result.metrics).length > 0 ? { testMetrics: result.metrics, headline: result.headline } : {}),
    reportPath: paths.html,
    seconds: i.trainSeconds + evalSeconds,
    ...(i.stopped ? { stopped: i.stopped } : {}),
  };
}
