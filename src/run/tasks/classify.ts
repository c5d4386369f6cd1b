// Classification: one class per image. The objective is cross-entropy with label smoothing and
// (optionally) class weights; validation and the test pass report the plain cross-entropy of the
// model's probabilities (−log p of the true class, averaged over samples), so val_loss and
// test_loss measure the same thing. The test pass gives every metric of the classification report
// (accuracy, per-class P/R/F1, confusion, AUC, calibration) and the highest-loss images;
// `tessera predict` answers the top-k classes with their probabilities.
import { ConfigError } from '../../config/load.js';
import type { RunConfig } from '../../config/schema.js';
import { decodeImage } from '../../data/image/decode.js';
import { classWeights } from '../../data/imbalance.js';
import type { BatchSource, IndexedDataset, RawImage } from '../../data/types.js';
import { createMetric } from '../../metrics/metrics.js';
import { ClassificationEvaluator, type ClassificationReport } from '../../metrics/report.js';
import type { ZooModel } from '../../models/registry.js';
import { crossEntropy } from '../../nn/losses.js';
import { galleryItem } from '../../report/write.js';
import type { GalleryItem } from '../../report/types.js';
import { tensor } from '../../tensor/factories.js';
import { softmax, topk } from '../../tensor/generated/ops.js';
import { persist, scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { inference, type InferenceOptions } from '../../train/inference.js';
import { csvCell, percent, type Losses, type Task, type TestOutput } from './task.js';

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

/** The report as `tessera eval` prints it: the headline numbers, the per-class table, the most confused pairs. */
export function formatClassificationReport(r: ClassificationReport): string {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '   n/a' : `${(v * 100).toFixed(2).padStart(6)}%`);
  const width = Math.max(5, ...r.classes.map((c) => c.length));
  const lines = [
    `${r.numSamples} images: accuracy ${pct(r.accuracy)}, macro F1 ${pct(r.macro.f1)}, loss ${r.loss?.toFixed(4) ?? 'n/a'}`,
    '',
    `${'class'.padEnd(width)}  precision    recall        F1  support`,
    ...r.perClass.map((c) => `${c.name.padEnd(width)}  ${pct(c.precision)}  ${pct(c.recall)}  ${pct(c.f1)}  ${String(c.support).padStart(7)}`),
  ];
  if (r.mostConfused.length > 0) lines.push('', 'most confused:', ...r.mostConfused.slice(0, 5).map((m) => `  ${m.trueName} → ${m.predName}: ${m.count}`));
  return lines.join('\n');
}

/** The model for 'auto': Fashion-MNIST's net for small grey images, the zoo's small-image colour ResNet otherwise. */
export function chooseModel(image: { channels: 1 | 3; height: number; width: number }): { name: string; why: string } {
  const shape = `${image.channels}×${image.height}×${image.width}`;
  if (image.channels === 1 && Math.max(image.height, image.width) <= 32) return { name: 'fashion-net', why: `${shape} grey images` };
  return { name: 'resnet9', why: `${shape} ${image.channels === 3 ? 'colour' : 'grey'} images (fashion-net is made for 28×28 grey ones)` };
}

export const classify: Task = {
  name: 'classify',
  modelTask: 'classify',
  targets: 'class',
  autoModel: chooseModel,
  monitor: { key: 'val_accuracy', mode: 'max' },

  settings(config) {
    if (config.threshold !== undefined) throw new ConfigError('threshold (--threshold) is for multi-label classification (task multilabel); a classifier predicts its most probable class');
    if (config.train.loss !== undefined && config.train.loss !== 'cross-entropy') throw new ConfigError(`train.loss (--loss) ${config.train.loss} does not apply to classification: it trains with cross-entropy`);
    return {};
  },

  losses(config: RunConfig, _classes: number, trainCounts?: Int32Array): Losses {
    const t = config.train;
    let weight: Tensor | undefined;
    if (t.classWeights !== 'none' && t.sampler !== 'weighted' && trainCounts) weight = persist(tensor(Float32Array.from(classWeights(trainCounts, t.classWeights))));
    return {
      loss: (out: Tensor, y: Tensor) => crossEntropy(out, y, { labelSmoothing: t.labelSmoothing, ...(weight ? { weight } : {}) }),
      evalLoss: (out: Tensor, y: Tensor) => crossEntropy(out, y),
      ...(weight ? { owned: [weight] } : {}),
      notes: [],
    };
  },

  metrics: (classes) => [createMetric('accuracy', classes)],

  async test(i): Promise<TestOutput> {
    const evaluator = new ClassificationEvaluator(i.classes.length, { keepHighestLoss: i.gallery });
    const rows = await evaluateInto(i.model, i.source, evaluator, { ...(i.precision === undefined ? {} : { precision: i.precision }), flip: i.flip === true });
    let test: ClassificationReport;
    try {
      test = evaluator.report({ classes: [...i.classes] });
    } catch (e) {
      // A diverged model (NaN outputs) still gets its logs, metrics.json and report, saying so.
      const line = `test: no metrics: ${(e as Error).message} (did the training diverge? see log.jsonl)`;
      return { metrics: {}, report: {}, line, text: line, json: {}, headline: '' };
    }
    const gallery: GalleryItem[] = [];
    if (i.testSet)
      for (const worst of evaluator.highestLoss()) {
        const { image, id } = await pixelsOf(i.testSet, rows[worst.index] as number);
        gallery.push(await galleryItem(worst, image, id));
      }
    return {
      metrics: { test_accuracy: test.accuracy, test_f1_macro: test.macro.f1, test_loss: test.loss, test_samples: test.numSamples },
      report: { test, gallery },
      line: `test: accuracy ${percent(test.accuracy)}, macro F1 ${percent(test.macro.f1)}, loss ${test.loss?.toFixed(4)} (${test.numSamples} images${i.flip ? ', with the test-time flip' : ''})`,
      text: formatClassificationReport(test),
      json: test,
      headline: test.accuracy === null ? '' : `test accuracy ${(test.accuracy * 100).toFixed(2)}%`,
    };
  },

  predictor(_model, preprocessing, _settings, options) {
    const classes = preprocessing.classes;
    const k = Math.min(options.topK ?? 5, classes.length);
    return {
      async batch(output, items) {
        const { values, top } = scope(() => {
          const [v, ix] = topk(softmax(output.float(), 1), k, 1);
          return { values: v.data() as Float32Array, top: ix.data() as BigInt64Array };
        });
        return items.map((item, row) => ({
          file: item.file,
          top: Array.from({ length: k }, (_, c) => {
            const index = Number(top[row * k + c]);
            return { label: classes[index] as string, index, probability: values[row * k + c] as number };
          }),
        }));
      },
      csv: (rows) => classificationCsv(rows, k),
    };
  },
};

/** CSV: file, then label/probability pairs best first, then error. */
export function classificationCsv(rows: readonly { file: string; error?: string; top?: unknown }[], k: number): string {
  const header = ['file', ...Array.from({ length: k }, (_, i) => [`label_${i + 1}`, `probability_${i + 1}`]).flat(), 'error'];
  const lines = rows.map((p) => {
    const cells = [csvCell(p.file)];
    const top = (p.top ?? []) as { label: string; probability: number }[];
    for (let i = 0; i < k; i++) {
      const t = top[i];
      cells.push(t ? csvCell(t.label) : '', t ? t.probability.toFixed(6) : '');
    }
    cells.push(p.error ? csvCell(p.error) : '');
    return cells.join(',');
  });
  return `${[header.join(','), ...lines].join('\n')}\n`;
}
