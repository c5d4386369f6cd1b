// `tessera predict`: a trained run's model on image files → top-k classes with probabilities.
// Inputs are prepared exactly as the run prepared its evaluation data (model.json: size, channels,
// normalisation); an unreadable image is reported on its own row and never stops the others.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { collate } from '../data/loader/collate.js';
import { IMAGE_EXTENSIONS } from '../data/sources/image-folder.js';
import { normalize } from '../data/transforms/ops-batch.js';
import { compose } from '../data/transforms/compose.js';
import { centerCrop, resize } from '../data/transforms/geometric.js';
import type { RawImage } from '../data/types.js';
import { noGrad } from '../tensor/autograd.js';
import { scope } from '../tensor/memory.js';
import { softmax, topk } from '../tensor/generated/ops.js';
import { loadRunModel } from './saved-model.js';

export interface Prediction {
  file: string;
  /** Best first; empty when the file could not be used (see `error`). */
  top: { label: string; index: number; probability: number }[];
  error?: string;
}

const EXTENSIONS = new Set(IMAGE_EXTENSIONS.map((e) => `.${e}`));

/** Files named directly, and the images inside named folders (recursively, sorted). */
export async function listImageFiles(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (EXTENSIONS.has(e.name.slice(e.name.lastIndexOf('.')).toLowerCase())) out.push(p);
    }
  };
  for (const input of inputs) {
    const s = await stat(input).catch(() => undefined);
    if (!s) throw new Error(`${input} does not exist`);
    if (s.isDirectory()) await walk(input);
    else out.push(input);
  }
  return out;
}

export async function predictFiles(runPath: string, files: readonly string[], options: { topK?: number; batchSize?: number } = {}): Promise<Prediction[]> {
  const { model, meta } = loadRunModel(runPath);
  const k = Math.min(options.topK ?? 5, meta.classes.length);
  const size: [number, number] = [meta.height, meta.width];
  const pipeline = compose({ decode: { channels: meta.channels === 1 ? 'grey' : 'rgb' }, transforms: [resize({ size }), centerCrop({ size })] });
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
      const good = loaded.map((r, j) => [r, j] as const).filter((p): p is readonly [RawImage, number] => !(p[0] instanceof Error));
      const rows = new Map<number, Prediction['top']>();
      if (good.length > 0) {
        const { values, indices } = scope(() =>
          noGrad(() => {
            const x = normalize(collate(good.map((g) => g[0])), meta.mean, meta.std);
            const [v, i] = topk(softmax(model.forward(x), 1), k, 1);
            return { values: v.data() as Float32Array, indices: i.data() as BigInt64Array };
          }),
        );
        good.forEach(([, j], row) => {
          rows.set(j, Array.from({ length: k }, (_, c) => {
            const index = Number(indices[row * k + c]);
            return { label: meta.classes[index] as string, index, probability: values[row * k + c] as number };
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
