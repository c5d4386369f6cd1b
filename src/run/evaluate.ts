// The end of a run: the model on the test set (every metric over the whole set), the
// highest-loss images for the gallery, metrics.json and the HTML report. A failed run (diverged,
// halted) gets no test pass — its model is not one to measure — but its logs, metrics.json and
// report say where and why it stopped.
import { join } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import type { BatchSource, IndexedDataset, RawImage } from '../data/types.js';
import { decodeImage } from '../data/image/decode.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ClassificationEvaluator, type ClassificationReport } from '../metrics/report.js';
import type { ZooModel } from '../models/registry.js';
import { formatRuntimeInfo, runtimeInfo } from '../runtime/info.js';
import { autocastOf } from '../runtime/precision.js';
import { galleryItem, writeReport } from '../report/write.js';
import { REPORT_FORMAT, type EpochRecord, type GalleryItem, type JsonValue, type ReportData } from '../report/types.js';
import type { Stopped } from '../train/events.js';
import { inference, type InferenceOptions } from '../train/inference.js';
import type { RunData } from './data.js';

export interface RunSummary {
  dir: string;
  name: string;
  /** Test accuracy (0–1), when there was a test set. */
  testAccuracy?: number;
  test?: ClassificationReport;
  reportPath: string;
  seconds: number;
  /** Why the training stopped early; `failed` runs exit non-zero. */
  stopped?: Stopped;
}

/**
 * Runs the model over every batch of `source` (one inference pass), accumulating logits into the
 * evaluator. Returns the data-set index of each row the evaluator saw (rows are not data-set
 * indices once bad files have been skipped and their places filled).
 */
export async function evaluateInto(model: ZooModel, source: BatchSource, evaluator: ClassificationEvaluator, options: InferenceOptions = {}): Promise<number[]> {
  const indices: number[] = [];
  await inference(
    model,
    source,
    (output, batch) => {
      evaluator.update(output, batch.y);
      indices.push(...batch.indices);
    },
    options,
  );
  return indices;
}

async function pixelsOf(d: IndexedDataset, index: number): Promise<{ image: RawImage; id: string }> {
  const r = await d.read(index);
  const image = r.input.kind === 'pixels' ? r.input.image : await decodeImage(r.input.bytes, { id: r.id, channels: 'keep' });
  return { image, id: r.id };
}

/** Whether the run's test pass uses the test-time flip: `augment.testFlip`, by default on when training flips. */
export function testFlipOf(config: RunConfig): boolean {
  return config.augment.testFlip ?? config.augment.hflip;
}

export interface EvaluateAndReportInput {
  dir: string;
  name: string;
  config: RunConfig;
  model: ZooModel;
  data: RunData;
  history: EpochRecord[];
  lrCurve: { step: number; lr: number }[];
  timings: { perBatchMs: Record<string, number>; batches: number; samplesPerSecond: number; trainSeconds: number };
  trainSeconds: number;
  stopped?: Stopped;
  log: (line: string) => void;
}

export async function evaluateAndReport(i: EvaluateAndReportInput): Promise<RunSummary> {
  const { data, config } = i;
  const t0 = performance.now();
  let test: ClassificationReport | undefined;
  const gallery: GalleryItem[] = [];
  if (i.stopped?.failed) i.log('test: not evaluated, the training failed');
  else if (data.test) {
    const evaluator = new ClassificationEvaluator(data.classes.length, { keepHighestLoss: config.gallery });
    // The precision validation ran with, so val_loss and test_loss are computed alike.
    const precision = autocastOf(config.train.mixedPrecision);
    const flip = testFlipOf(config);
    const rows = await evaluateInto(i.model, data.test, evaluator, { precision, flip });
    try {
      test = evaluator.report({ classes: [...data.classes] });
    } catch (e) {
      // A diverged model (NaN outputs) still gets its logs, metrics.json and report, saying so.
      i.log(`test: no metrics: ${(e as Error).message} (did the training diverge? see log.jsonl)`);
    }
    if (test && data.testSet)
      for (const worst of evaluator.highestLoss()) {
        const { image, id } = await pixelsOf(data.testSet, rows[worst.index] as number);
        gallery.push(await galleryItem(worst, image, id));
      }
    const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
    if (test) i.log(`test: accuracy ${pct(test.accuracy)}, macro F1 ${pct(test.macro.f1)}, loss ${test.loss?.toFixed(4)} (${test.numSamples} images${flip ? ', with the test-time flip' : ''})`);
  }
  const evalSeconds = (performance.now() - t0) / 1000;
  const skipped = (['train', 'val', 'test'] as const).flatMap((split) => (data[split]?.badSamples ?? []).map((b) => ({ id: b.id, reason: b.reason, split })));
  const metrics = {
    run: i.name,
    ...(test ? { test_accuracy: test.accuracy, test_f1_macro: test.macro.f1, test_loss: test.loss, test_samples: test.numSamples } : {}),
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
    ...(test ? { test } : {}),
    ...(i.stopped ? { stopped: { ...i.stopped } } : {}),
    gallery,
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
    reportPath: paths.html,
    seconds: i.trainSeconds + evalSeconds,
    ...(i.stopped ? { stopped: i.stopped } : {}),
  };
}
