// `tessera predict`: a trained run's model on image files → what its task answers (src/run/tasks/):
// top-k classes with probabilities, labels above a threshold, mask PNGs, reconstructed images.
// Inputs are prepared by the preprocessing saved in model.json (decode, resize/crop, normalisation,
// memory format), as it was saved; an unreadable image is reported on its own row and never stops
// the others (no bad-file replacement as in training: every file gets its row).
import { readFile } from 'node:fs/promises';

import { collate } from '../data/loader/collate.js';
import { evalBatchSteps } from '../data/pipeline/batch-steps.js';
import type { Batch, RawImage } from '../data/types.js';
import { persist, scope } from '../tensor/memory.js';
import { zeros } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { inference } from '../train/inference.js';
import { loadRunModel } from './saved-model.js';
import { classificationCsv } from './tasks/classify.js';
import { taskOf, type PredictionRow, type PredictOptions, type TaskName } from './tasks/index.js';

export { listImageFiles } from '../data/sources/image-folder.js';

export interface Prediction {
  file: string;
  /** Best first; empty when the file could not be used (see `error`). */
  top: { label: string; index: number; probability: number }[];
  error?: string;
}

export interface RunPredictions {
  task: TaskName;
  /** One per file, in order: the task's fields (PredictionRow), or the error that kept the file out. */
  rows: PredictionRow[];
  /** The rows as CSV, in the task's columns. */
  csv(): string;
}

/**
 * A trained run's model on image files, answered as its task answers (classes, labels above the
 * threshold, masks, reconstructions: src/run/tasks/). Files the task writes go to `outputDir`.
 */
export async function predictRun(runPath: string, files: readonly string[], options: PredictOptions & { batchSize?: number } = {}): Promise<RunPredictions> {
  const { model, preprocessing, task: saved, testFlip, precision } = loadRunModel(runPath);
  const task = taskOf(saved?.name ?? 'classify');
  if (options.threshold !== undefined && task.name !== 'multilabel') {
    model.dispose();
    throw new Error(`--threshold is for multi-label models; ${runPath} holds a '${task.name}' model`);
  }
  const predictor = task.predictor(model, preprocessing, saved ?? {}, options);
  const pipeline = preprocessing.samplePipeline();
  // Files come without targets: the input's steps only (normalisation, memory format).
  const batchSteps = evalBatchSteps({ mean: preprocessing.mean, std: preprocessing.std, memoryFormat: preprocessing.memoryFormat });
  const rows: PredictionRow[] = [];
  const batchSize = options.batchSize ?? 64;
  try {
    for (let at = 0; at < files.length; at += batchSize) {
      const chunk = files.slice(at, at + batchSize);
      const loaded = await Promise.all(
        chunk.map(async (file, j): Promise<{ image: RawImage; bytes: Uint8Array } | Error> => {
          try {
            const bytes = await readFile(file);
            return { image: await pipeline.run({ kind: 'encoded', bytes }, { seed: 0, epoch: 0, index: at + j }, file), bytes };
          } catch (e) {
            return e as Error;
          }
        }),
      );
      const good: { image: RawImage; bytes: Uint8Array; j: number }[] = [];
      loaded.forEach((r, j) => {
        if (!(r instanceof Error)) good.push({ ...r, j });
      });
      const answered = new Map<number, PredictionRow>();
      if (good.length > 0) {
        // The chunk's good images as one unlabelled batch, prepared by the saved batch steps, then
        // through the one inference pass (eval mode, no grad, the model's device).
        const batchNo = at / batchSize;
        const indices = good.map((g) => at + g.j);
        const ids = good.map((g) => chunk[g.j] as string);
        const batch: Batch = scope(() => {
          let b = { x: collate(good.map((g) => g.image), ids, `batch ${batchNo}`), y: zeros([good.length], { dtype: 'int64' }) };
          batchSteps.forEach((s, position) => (b = s.transform(b, { seed: 0, epoch: 0, batch: batchNo, indices, position })));
          return { ...b, indices, ids };
        });
        let output: Tensor | undefined;
        let input: Tensor | undefined;
        try {
          await inference(model, { classes: preprocessing.classes, epoch: async function* () { yield batch; } }, (out, b) => {
            output = persist(out.float().cpu());
            input = persist(b.x.cpu());
          }, { flip: testFlip === true, precision: precision ?? false });
          const items = good.map((g) => ({ file: chunk[g.j] as string, bytes: g.bytes }));
          const answers = await predictor.batch(output as Tensor, items, input as Tensor);
          good.forEach((g, row) => answered.set(g.j, answers[row] as PredictionRow));
        } finally {
          output?.dispose();
          input?.dispose();
        }
      }
      chunk.forEach((file, j) => {
        const r = loaded[j];
        rows.push(r instanceof Error ? { file, error: r.message } : (answered.get(j) as PredictionRow));
      });
    }
  } finally {
    model.dispose();
  }
  return { task: task.name, rows, csv: () => predictor.csv(rows) };
}

/** A classifier's top-k classes for each file (predictRun, typed). */
export async function predictFiles(runPath: string, files: readonly string[], options: { topK?: number; batchSize?: number } = {}): Promise<Prediction[]> {
  const r = await predictRun(runPath, files, options);
  if (r.task !== 'classify') throw new Error(`${runPath} holds a '${r.task}' model, not a classifier: use predictRun`);
  return r.rows.map((p) => ({ file: p.file, top: (p.top ?? []) as Prediction['top'], ...(p.error ? { error: p.error } : {}) }));
}

/** CSV: file, then label/probability pairs best first, then error. */
export function predictionsToCsv(predictions: readonly Prediction[], k: number): string {
  return classificationCsv(predictions, k);
}
