// `tessera eval`: a trained run's model on its own test set or on another labelled data set,
// with every metric of the run's report (accuracy, per-class P/R/F1, confusion, AUC, calibration).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RunConfig } from '../config/schema.js';
import type { IndexedDataset } from '../data/types.js';
import { ClassificationEvaluator, type ClassificationReport } from '../metrics/report.js';
import { evaluationLoader, needsDecoding } from './data.js';
import { evaluateInto } from './evaluate.js';
import { loadRunModel } from './saved-model.js';
import { DataSourceError, openSources } from './sources.js';

export interface EvalResult {
  report: ClassificationReport;
  text: string;
}

export async function evaluateSavedModel(run: string, options: { data?: string } = {}): Promise<EvalResult> {
  const { model, meta, dir } = loadRunModel(run);
  try {
    let dataset: IndexedDataset | undefined;
    if (options.data) {
      const opened = await openSources(RunConfig.parse({ data: { source: options.data } }).data);
      dataset = opened.test ?? (opened.train.kind === 'indexed' ? opened.train : undefined);
      if (!dataset) throw new DataSourceError(`${options.data} is streamed; pack it first (tessera data pack) to evaluate on it`);
    } else {
      const configPath = join(dir, 'config.json');
      if (!existsSync(configPath)) throw new Error(`${dir} has no config.json; give the data with --data`);
      const config = RunConfig.parse(JSON.parse(readFileSync(configPath, 'utf8')));
      dataset = (await openSources(config.data)).test;
      if (!dataset) throw new DataSourceError(`the run's test set was held out of its training source; give one with --data`);
    }
    if (dataset.classes.join('\u0000') !== meta.classes.join('\u0000'))
      throw new DataSourceError(`${dataset.describe()} has classes [${dataset.classes.join(', ')}], the model was trained on [${meta.classes.join(', ')}]`);
    const size = { channels: meta.channels, height: meta.height, width: meta.width };
    const loader = evaluationLoader(dataset, { size, needsPipeline: await needsDecoding(dataset, size), mean: meta.mean, std: meta.std, batchSize: 256 });
    const evaluator = new ClassificationEvaluator(meta.classes.length);
    try {
      await evaluateInto(model, loader, evaluator);
    } finally {
      await loader.close();
    }
    const report = evaluator.report({ classes: meta.classes });
    return { report, text: formatReport(report) };
  } finally {
    model.dispose();
  }
}

function formatReport(r: ClassificationReport): string {
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
