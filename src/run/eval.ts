// `tessera eval`: a trained run's model on its own test set or on another labelled data set, with
// every metric of the run's report (accuracy, per-class P/R/F1, confusion, AUC, calibration). The
// inputs are prepared by the preprocessing saved in model.json, as it was saved.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RunConfig } from '../config/schema.js';
import { DataPipeline } from '../data/pipeline/pipeline.js';
import { evaluationPart, openSource } from '../data/pipeline/open.js';
import { DataSourceError } from '../data/pipeline/source.js';
import type { Dataset } from '../data/types.js';
import { ClassificationEvaluator, type ClassificationReport } from '../metrics/report.js';
import { pipelineSpec } from './data.js';
import { evaluateInto } from './evaluate.js';
import { loadRunModel } from './saved-model.js';

export interface EvalResult {
  report: ClassificationReport;
  /** Which data the numbers are on, in words. */
  data: string;
  text: string;
}

/** The run's own test set: a separate one, the source's, or the share held out and saved in its splits file. */
async function runTestSet(dir: string): Promise<{ dataset: Dataset; what: string; close(): void }> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new DataSourceError(`${dir} has no config.json; give the data with --data`);
  const config = RunConfig.parse(JSON.parse(readFileSync(configPath, 'utf8')));
  const splitsFile = config.data.splitsFile ?? join(dir, 'splits.json');
  const p = await DataPipeline.open(pipelineSpec(config, { splitsPath: splitsFile }));
  try {
    // Only the splits are needed (the model brings its preprocessing), and they must be the run's own.
    await p.setup({ measure: false, savedSplits: true });
    if (!p.testSet) throw new DataSourceError(`the run has no test set (its source has none, none was given, and data.testSplit was 0); give one with --data`);
    const what = p.testHeldOut ? `the test split held out of the training source (${p.trainSet.kind === 'indexed' ? splitsFile : 'by sample id'})` : config.data.test ? `the run's test set ${config.data.test}` : `the test set of ${config.data.source}`;
    return { dataset: p.testSet, what, close: () => p.close() };
  } catch (e) {
    p.close();
    throw e;
  }
}

export async function evaluateSavedModel(run: string, options: { data?: string } = {}): Promise<EvalResult> {
  const { model, preprocessing, dir, testFlip, precision } = loadRunModel(run);
  let close = () => {};
  try {
    let dataset: Dataset;
    let what: string;
    if (options.data) {
      const opened = await openSource({ source: options.data }, { shuffleShards: false });
      close = () => opened.dispose();
      dataset = evaluationPart(opened);
      what = dataset.describe();
    } else {
      const t = await runTestSet(dir);
      close = t.close;
      dataset = t.dataset;
      what = t.what;
    }
    const classes = preprocessing.classes;
    if (dataset.classes.join('\u0000') !== classes.join('\u0000'))
      throw new DataSourceError(`${dataset.describe()} has classes [${dataset.classes.join(', ')}], the model was trained on [${classes.join(', ')}]`);
    const loader = await preprocessing.loader(dataset, { batchSize: 256 });
    const evaluator = new ClassificationEvaluator(classes.length);
    try {
      await evaluateInto(model, loader, evaluator, { flip: testFlip === true, precision: precision ?? false });
    } finally {
      await loader.close();
    }
    const report = evaluator.report({ classes: [...classes] });
    return { report, data: what, text: `on ${what}:\n${formatReport(report)}` };
  } finally {
    close();
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
