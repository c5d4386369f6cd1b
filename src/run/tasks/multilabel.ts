// Multi-label classification: each image has any number of K labels, each its own yes/no question.
// Targets are N×K 0/1 (a manifest's labels column or 0/1 class columns); the model is a classifier
// whose K logits are read one sigmoid each. Loss: binary cross-entropy with logits per label
// (label smoothing pulls targets towards ½: y(1 − ε) + ε/2). Metrics (src/metrics/multilabel.ts):
// mean average precision and macro F1 at the threshold every epoch; per-label AP, precision,
// recall and F1 at the end. `tessera predict` lists the labels above the threshold with their
// probabilities. The threshold (`threshold`, default 0.5) is saved with the model.
import { ConfigError } from '../../config/load.js';
import { MeanAveragePrecision, MultilabelF1Score } from '../../metrics/multilabel.js';
import { binaryCrossEntropyWithLogits } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { MultilabelSection } from '../../report/types.js';
import { inference } from '../../train/inference.js';
import { chooseModel } from './classify.js';
import { csvCell, lossOf, percent, type Losses, type Task, type TestOutput } from './task.js';

export const DEFAULT_THRESHOLD = 0.5;

function formatMultilabel(s: MultilabelSection): string {
  const width = Math.max(5, ...s.perClass.map((c) => c.name.length));
  const pct = (v: number | null) => (v === null ? '   n/a' : `${(v * 100).toFixed(2).padStart(6)}%`);
  return [
    `${s.samples} images: mean AP ${percent(s.meanAP)}, F1 at ${s.threshold} macro ${percent(s.macro.f1)} micro ${percent(s.micro.f1)}, loss ${s.loss?.toFixed(4) ?? 'n/a'}`,
    '',
    `${'label'.padEnd(width)}       AP  precision    recall        F1  support`,
    ...s.perClass.map((c) => `${c.name.padEnd(width)}  ${pct(c.ap)}    ${pct(c.precision)}  ${pct(c.recall)}  ${pct(c.f1)}  ${String(c.support).padStart(7)}`),
  ].join('\n');
}

export const multilabel: Task = {
  name: 'multilabel',
  modelTask: 'classify',
  targets: 'labels',
  autoModel: chooseModel,
  monitor: { key: 'val_map', mode: 'max' },

  settings(config) {
    if (config.train.loss !== undefined && config.train.loss !== 'bce') throw new ConfigError(`train.loss (--loss) ${config.train.loss} does not apply to multi-label classification: it trains with bce (a sigmoid and binary cross-entropy per label)`);
    if (config.train.classWeights !== 'none' || config.train.sampler === 'weighted') throw new ConfigError('train.classWeights and train.sampler weigh one class per image; a multi-label image has several: leave them at none and random');
    return { threshold: config.threshold ?? DEFAULT_THRESHOLD };
  },

  losses(config): Losses {
    const eps = config.train.labelSmoothing;
    const bce = (out: Tensor, y: Tensor) => binaryCrossEntropyWithLogits(out, y);
    return {
      loss: eps > 0 ? (out, y) => bce(out, y.mul(1 - eps).add(eps / 2)) : bce,
      evalLoss: bce,
      notes: [`loss: binary cross-entropy per label${eps > 0 ? `, targets smoothed towards ½ by ${eps} (train.labelSmoothing)` : ''}`],
    };
  },

  metrics: (classes, settings) => [new MeanAveragePrecision(classes), new MultilabelF1Score(classes, { threshold: settings.threshold ?? DEFAULT_THRESHOLD })],

  async test(i): Promise<TestOutput> {
    const K = i.classes.length;
    const threshold = i.settings.threshold ?? DEFAULT_THRESHOLD;
    const ap = new MeanAveragePrecision(K);
    const f1 = new MultilabelF1Score(K, { threshold });
    let [lossSum, samples] = [0, 0];
    await inference(i.model, i.source, (output, batch) => {
      ap.update(output, batch.y);
      f1.update(output, batch.y);
      const n = output.shape[0] as number;
      lossSum += (lossOf(i.evalLoss, output, batch.y).item() as number) * n;
      samples += n;
    }, i.precision === undefined ? {} : { precision: i.precision });
    const a = ap.result();
    const f = f1.result();
    const section: MultilabelSection = {
      classes: [...i.classes],
      samples,
      threshold,
      perClass: f.perClass.map((c, k) => ({ name: i.classes[k] as string, ap: a.perClass[k] ?? null, ...c })),
      meanAP: a.mean,
      macro: f.macro,
      micro: f.micro,
      loss: samples > 0 ? lossSum / samples : null,
    };
    return {
      metrics: { test_map: section.meanAP, test_f1_macro: f.macro.f1, test_f1_micro: f.micro.f1, test_loss: section.loss, test_samples: samples },
      report: { multilabel: section },
      line: `test: mean AP ${percent(section.meanAP)}, F1 at ${threshold} macro ${percent(f.macro.f1)} micro ${percent(f.micro.f1)}, loss ${section.loss?.toFixed(4) ?? 'n/a'} (${samples} images)`,
      text: formatMultilabel(section),
      json: section,
      headline: `test mean AP ${percent(section.meanAP)}`,
    };
  },

  predictor(_model, preprocessing, settings, options) {
    const classes = preprocessing.classes;
    const threshold = options.threshold ?? settings.threshold ?? DEFAULT_THRESHOLD;
    return {
      async batch(output, items) {
        const p = scope(() => output.float().sigmoid().data() as Float32Array);
        const K = classes.length;
        return items.map((item, row) => {
          const probabilities = Object.fromEntries(classes.map((c, k) => [c, p[row * K + k] as number]));
          const labels = classes.flatMap((c, k) => ((p[row * K + k] as number) > threshold ? [{ label: c, index: k, probability: p[row * K + k] as number }] : [])).sort((x, y) => y.probability - x.probability);
          return { file: item.file, threshold, labels, probabilities };
        });
      },
      csv(rows) {
        const header = ['file', 'labels', ...classes.map((c) => `p_${c}`), 'error'];
        const lines = rows.map((r) => {
          const labels = ((r.labels ?? []) as { label: string }[]).map((l) => l.label).join('|');
          const probs = (r.probabilities ?? {}) as Record<string, number>;
          return [csvCell(r.file), csvCell(labels), ...classes.map((c) => (probs[c] === undefined ? '' : probs[c].toFixed(6))), r.error ? csvCell(r.error) : ''].join(',');
        });
        return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`;
      },
    };
  },
};
