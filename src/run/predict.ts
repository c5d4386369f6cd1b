// `tessera predict`: a trained run's model on image files → top-k classes with probabilities.
// Inputs are prepared by the preprocessing saved in model.json (decode, resize/crop, normalisation,
// memory format), as it was saved; an unreadable image is reported on its own row and never stops
// the others (no bad-file replacement as in training: every file gets its row).
import { readFile } from 'node:fs/promises';

import { collate } from '../data/loader/collate.js';
import type { Batch, RawImage } from '../data/types.js';
import { scope } from '../tensor/memory.js';
import { softmax, topk, zeros } from '../tensor/generated/ops.js';
import { inference } from '../train/inference.js';
import { loadRunModel } from './saved-model.js';

export { listImageFiles } from '../data/sources/image-folder.js';

export interface Prediction {
  file: string;
  /** Best first; empty when the file could not be used (see `error`). */
  top: { label: string; index: number; probability: number }[];
  error?: string;
}

export async function predictFiles(runPath: string, files: readonly string[], options: { topK?: number; batchSize?: number } = {}): Promise<Prediction[]> {
  const { model, preprocessing, testFlip, precision } = loadRunModel(runPath);
  const classes = preprocessing.classes;
  const k = Math.min(options.topK ?? 5, classes.length);
  const pipeline = preprocessing.samplePipeline();
  const batchSteps = preprocessing.batchSteps();
  const results: Prediction[] = [];
  const batchSize = options.batchSize ?? 64;
  try {
    for (let at = 0; at < files.length; at += batchSize) {
      const chunk = files.slice(at, at + batchSize);
      const loaded = await Promise.all(
        chunk.map(async (file, j): Promise<RawImage | Error> => {
          try {
            return await pipeline.run({ kind: 'encoded', bytes: await readFile(file) }, { seed: 0, epoch: 0, index: at + j }, file);
          } catch (e) {
            return e as Error;
          }
        }),
      );
      const good: { image: RawImage; j: number }[] = [];
      loaded.forEach((r, j) => {
        if (!(r instanceof Error)) good.push({ image: r, j });
      });
      const rows = new Map<number, Prediction['top']>();
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
        let values: Float32Array = new Float32Array(0);
        let top: BigInt64Array = new BigInt64Array(0);
        await inference(model, { classes, epoch: async function* () { yield batch; } }, (out) => {
          const [v, i] = topk(softmax(out.float(), 1).cpu(), k, 1);
          values = v.data() as Float32Array;
          top = i.data() as BigInt64Array;
        }, { flip: testFlip === true, precision: precision ?? false });
        good.forEach((g, row) => {
          rows.set(g.j, Array.from({ length: k }, (_, c) => {
            const index = Number(top[row * k + c]);
            return { label: classes[index] as string, index, probability: values[row * k + c] as number };
          }));
        });
      }
      chunk.forEach((file, j) => {
        const r = loaded[j];
        results.push(r instanceof Error ? { file, top: [], error: r.message } : { file, top: rows.get(j) ?? [] });
      });
    }
  } finally {
    model.dispose();
  }
  return results;
}

/** CSV: file, then label/probability pairs best first, then error. */
export function predictionsToCsv(predictions: readonly Prediction[], k: number): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const header = ['file', ...Array.from({ length: k }, (_, i) => [`label_${i + 1}`, `probability_${i + 1}`]).flat(), 'error'];
  const lines = predictions.map((p) => {
    const cells = [quote(p.file)];
    for (let i = 0; i < k; i++) {
      const t = p.top[i];
      cells.push(t ? quote(t.label) : '', t ? t.probability.toFixed(6) : '');
    }
    cells.push(p.error ? quote(p.error) : '');
    return cells.join(',');
  });
  return `${[header.join(','), ...lines].join('\n')}\n`;
}
