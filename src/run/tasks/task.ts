// A task: what a run trains a model to do, and everything that differs between tasks once the data
// and the model exist. `tessera train`, `eval` and `predict` (src/run/) stay the same for every task
// and ask the task for these:
//
//   data      what the source must yield as targets (pipeline targets: class, mask, labels, image)
//   model     which zoo models fit (their ModelTask) and the one 'auto' picks
//   training  the loss (from train.loss), the metrics logged every epoch, the checkpoint monitor
//   test      the pass over the test set: metrics.json fields, the report's sections, the log line,
//             and the text `tessera eval` prints
//   predict   what `tessera predict` answers for image files (and the files it writes)
//   saved     what model.json carries beyond the model and its preprocessing (settings, e.g. the
//             multi-label threshold) — the preprocessing itself says what targets it was made for
//
// One file per task: classify.ts (today's classification, unchanged), segment.ts, multilabel.ts,
// reconstruct.ts; index.ts picks one by name.
import type { RunConfig } from '../../config/schema.js';
import type { PipelineTargets } from '../../data/pipeline/targets.js';
import type { Preprocessing } from '../../data/pipeline/preprocessing.js';
import type { BatchSource, IndexedDataset } from '../../data/types.js';
import type { Metric } from '../../metrics/types.js';
import type { ModelTask, ZooModel } from '../../models/registry.js';
import type { JsonValue, ReportData } from '../../report/types.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LossFn, MixedPrecision } from '../../train/inference.js';

export type TaskName = RunConfig['task'];

/** What model.json keeps of the task beyond its name (absent: the defaults). */
export interface TaskSettings {
  /** multilabel: probability above which a label is predicted. */
  threshold?: number;
}

export interface Losses {
  /** The training objective. */
  loss: LossFn;
  /** What validation and the test pass report as `loss` (the objective without its regularisers). */
  evalLoss: LossFn;
  /** Tensors the losses hold (class weights), freed with the run. */
  owned?: { dispose(): void }[];
  /** Lines for the log: what the loss is, settings that do not apply to it. */
  notes: string[];
}

export interface TestInput {
  model: ZooModel;
  source: BatchSource;
  classes: readonly string[];
  preprocessing: Preprocessing;
  settings: TaskSettings;
  evalLoss: LossFn;
  precision?: MixedPrecision;
  /** Test-time flip (classification): logits averaged with the mirror image's (inference's `flip`). */
  flip?: boolean;
  /** Images shown in the report (the worst ones); 0 for `tessera eval`. */
  gallery: number;
  /** The test samples, when the report shows them as stored (classification's gallery). */
  testSet?: IndexedDataset;
}

export interface TestOutput {
  /** metrics.json's test fields: `test_miou`, `test_loss`, … */
  metrics: Record<string, number | null>;
  /** The report's sections for this task (classification: `test` and `gallery`). */
  report: Partial<ReportData>;
  /** One line for the run's log, e.g. `test: mean IoU 93.10%, pixel accuracy 98.20%, loss 0.0712 (40 images)`. */
  line: string;
  /** What `tessera eval` prints and `--json` prints. */
  text: string;
  json: JsonValue | object;
  /** The run summary's headline for the command line, e.g. `test mean IoU 93.10%`. */
  headline: string;
}

/** One image file for `tessera predict`: its name, its bytes, and the row of the batch output for it. */
export interface PredictItem {
  file: string;
  bytes: Uint8Array;
}

export interface PredictOptions {
  topK?: number;
  /** multilabel: overrides the saved threshold. */
  threshold?: number;
  /** segment: mask PNGs; reconstruct: reconstructed images, written here. */
  outputDir?: string;
  /** segment: also write a colour overlay of each mask on its image. */
  overlay?: boolean;
}

/** What a task makes of one batch of predictions, and how its rows are printed. */
export interface Predictor {
  /** `output`: the batch's model outputs (on the CPU), row i for items[i]; `input` the batch the model got. */
  batch(output: Tensor, items: readonly PredictItem[], input: Tensor): Promise<PredictionRow[]>;
  /** CSV of the rows (a header line first), with failed files' rows carrying their error. */
  csv(rows: readonly PredictionRow[]): string;
}

/** A prediction as printed: the file, the task's fields, or the error that kept it from being read. */
export interface PredictionRow {
  file: string;
  error?: string;
  [field: string]: unknown;
}

export interface Task {
  readonly name: TaskName;
  /** The zoo task of the models that fit (modelInfo(name).task). */
  readonly modelTask: ModelTask;
  readonly targets: PipelineTargets;
  /** The zoo model for `model: 'auto'`, with why, for the log. */
  autoModel(image: { channels: 1 | 3; height: number; width: number }): { name: string; why: string };
  /** The settings model.json keeps; throws a ConfigError for config values that do not apply to the task. */
  settings(config: RunConfig): TaskSettings;
  losses(config: RunConfig, classes: number, trainCounts?: Int32Array): Losses;
  /** Metrics logged for training and validation every epoch. */
  metrics(classes: number, settings: TaskSettings): Metric[];
  /** The validation metric `best` checkpoints follow when checkpoint.monitor is left at its default. */
  readonly monitor: { key: string; mode: 'max' | 'min' };
  test(input: TestInput): Promise<TestOutput>;
  predictor(model: ZooModel, preprocessing: Preprocessing, settings: TaskSettings, options: PredictOptions): Predictor;
}

/** `93.10%`, or `n/a` for a value that is not there. */
export const percent = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(2)}%`);

/** CSV cell: quoted when it holds a separator, a quote or a line break. */
export const csvCell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** A loss function or module applied. */
export const lossOf = (loss: LossFn, output: Tensor, target: Tensor): Tensor => (typeof loss === 'function' ? loss(output, target) : loss.forward(output, target));
