// `tessera eval`: a trained run's model on its own test set or on another labelled data set, with
// every metric of the run's report — its task's (src/run/tasks/): for a classifier accuracy,
// per-class P/R/F1, confusion, AUC, calibration; IoU for segmentation, AP for multi-label, the
// reconstruction error for an autoencoder. The
// inputs are prepared by the preprocessing saved in model.json, as it was saved.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RunConfig } from '../config/schema.js';
import { DataPipeline } from '../data/pipeline/pipeline.js';
import { evaluationPart, openSource } from '../data/pipeline/open.js';
import { DataSourceError } from '../data/pipeline/source.js';
import type { Dataset } from '../data/types.js';
import type { ClassificationReport } from '../metrics/report.js';
import { checkTargets } from '../data/pipeline/targets.js';
import { pipelineSpec } from './data.js';
import { loadRunModel } from './saved-model.js';
import { taskOf, type TaskName } from './tasks/index.js';

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

export interface RunEvalResult {
  /** What the model was trained to do. */
  task: TaskName;
  /** Every metric of the task's test pass (classification: the ClassificationReport). */
  report: unknown;
  /** Which data the numbers are on, in words. */
  data: string;
  text: string;
}

/**
 * A trained run's model on its own test set or on `data`, with the metrics of its task (read from
 * model.json). `threshold`: a multi-label model's, instead of the saved one.
 */
export async function evaluateRun(run: string, options: { data?: string; threshold?: number } = {}): Promise<RunEvalResult> {
  const { model, preprocessing, dir, task: saved, testFlip, precision } = loadRunModel(run);
  const task = taskOf(saved?.name ?? 'classify');
  let close = () => {};
  try {
    let dataset: Dataset;
    let what: string;
    if (options.data) {
      const opened = await openSource({ source: options.data }, { shuffleShards: false });
      close = () => opened.dispose();
      checkTargets(preprocessing.targets, opened, NO_AUGMENTATION, `--data ${options.data}`);
      dataset = evaluationPart(opened);
      what = dataset.describe();
    } else {
      const t = await runTestSet(dir);
      close = t.close;
      dataset = t.dataset;
      what = t.what;
    }
    const classes = preprocessing.classes;
    if (preprocessing.targets !== 'image' && dataset.classes.join('\u0000') !== classes.join('\u0000'))
      throw new DataSourceError(`${dataset.describe()} has classes [${dataset.classes.join(', ')}], the model was trained on [${classes.join(', ')}]`);
    if (options.threshold !== undefined && task.name !== 'multilabel') throw new DataSourceError(`--threshold is for multi-label models; ${dir} holds a '${task.name}' model`);
    const settings = { ...saved, ...(options.threshold !== undefined ? { threshold: options.threshold } : {}) };
    const loader = await preprocessing.loader(dataset, { batchSize: 256 });
    let result;
    try {
      const config = readRunConfig(dir);
      // The loss the run reported as test_loss; a run directory without its config gets the task's default.
      const { evalLoss, owned } = task.losses(config ?? RunConfig.parse({ task: task.name }), classes.length);
      try {
        // The run's own test-pass settings (precision, test-time flip), so eval repeats its numbers.
        result = await task.test({ model, source: loader, classes, preprocessing, settings, evalLoss, gallery: 0, precision: precision ?? false, flip: testFlip === true });
      } finally {
        for (const o of owned ?? []) o.dispose();
      }
    } finally {
      await loader.close();
    }
    return { task: task.name, report: result.json, data: what, text: `on ${what}:\n${result.text}` };
  } finally {
    close();
    model.dispose();
  }
}

/** A classifier's evaluation (evaluateRun, typed): refuses a run whose model does another task. */
export async function evaluateSavedModel(run: string, options: { data?: string } = {}): Promise<EvalResult> {
  const r = await evaluateRun(run, options);
  if (r.task !== 'classify') throw new Error(`${run} holds a '${r.task}' model, not a classifier: use evaluateRun`);
  return { report: r.report as ClassificationReport, data: r.data, text: r.text };
}

/** The run's saved config.json, when it has one. */
function readRunConfig(dir: string): RunConfig | undefined {
  const path = join(dir, 'config.json');
  return existsSync(path) ? RunConfig.parse(JSON.parse(readFileSync(path, 'utf8'))) : undefined;
}

const NO_AUGMENTATION = { cropPadding: 0, hflip: false, vflip: false, erasing: 0, mixup: 0, cutmix: 0 };
