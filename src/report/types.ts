// What a run report holds. Everything here is plain JSON (report.json is this object as is), so a
// report can be re-rendered, diffed between runs or read from Python without Tessera.
import type { ClassificationReport } from '../metrics/report.js';
import type { MultilabelSection, ReconstructionSection, SegmentationSection } from './task-types.js';

export type { MultilabelSection, ReconstructionSection, ReportImage, SampleStrip, SegmentationSection } from './task-types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const REPORT_FORMAT = 'tessera-report/1';

export interface ReportData {
  /** Format tag and version of this object. */
  format: typeof REPORT_FORMAT;
  runName: string;
  /** ISO 8601 time the report was made. */
  createdAt: string;
  /** The run's resolved configuration, as it was used. */
  config: { [key: string]: JsonValue };
  dataset: DatasetStats;
  /** One record per epoch, in order. */
  history: EpochRecord[];
  /** The learning rate at every optimizer step (or every few), when the trainer recorded it. */
  lrCurve?: LrPoint[];
  /** Why the training stopped before its last epoch (early stopping; or a failure: a diverged run). */
  stopped?: { reason: string; epoch: number; batch: number; step: number; failed: boolean };
  /** What the run trained the model to do (absent: classify). */
  task?: 'classify' | 'segment' | 'multilabel' | 'reconstruct';
  /** Final metrics on the test set (classification). */
  test?: ClassificationReport;
  /** The other tasks' test results (task-types.ts). */
  segmentation?: SegmentationSection;
  multilabel?: MultilabelSection;
  reconstruction?: ReconstructionSection;
  /** The test images with the highest loss, largest first. */
  gallery?: GalleryItem[];
  /** Where the time went: data loading, forward/backward, evaluation, ... */
  timing?: TimingEntry[];
  /** Files the run could not use (unreadable, corrupt, too slow to decode), each with its reason. */
  skipped?: SkippedFile[];
  environment: Environment;
}

export interface SkippedFile {
  /** The sample's id: a path, `shard.tar#key`, `file[17]`. */
  id: string;
  reason: string;
  /** The split it was met in: `train`, `val`, `test`. */
  split?: string;
}

export interface DatasetStats {
  /** One line naming the source, e.g. `IDX /usr/share/datasets/fashion-mnist (10 classes)`. */
  description?: string;
  /** Class names; index i is label i (names often come from folder names: never trusted as HTML). */
  classes: string[];
  imageSize?: { width: number; height: number; channels: number };
  splits: SplitStats[];
}

export interface SplitStats {
  /** `train`, `val`, `test`, ... */
  name: string;
  count: number;
  /** Samples per class (index = class), when known. */
  perClass?: number[];
}

export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Training metrics over the epoch, keyed by metric name (`loss`, `accuracy`, `f1_macro`, ...); null = not computed. */
  train: Record<string, number | null>;
  /** Validation metrics after the epoch, same keys. */
  val?: Record<string, number | null>;
  /** Learning rate at the end of the epoch. */
  lr?: number;
  /** Wall time of the epoch (training and validation). */
  seconds?: number;
  /** Training throughput. */
  imagesPerSecond?: number;
}

export interface LrPoint {
  /** Optimizer step, counted from 0 over the whole run. */
  step: number;
  lr: number;
}

export interface GalleryItem {
  /** The image as a PNG file, base64-encoded (see `galleryItem` to make one from pixels). */
  pngBase64: string;
  trueLabel: number;
  predLabel: number;
  /** Probability the model gave its prediction. */
  probability: number;
  /** Probability the model gave the true class. */
  trueProbability?: number;
  loss?: number;
  /** Where the sample came from (path, `shard.tar#key`, `file[17]`). */
  id?: string;
}

export interface TimingEntry {
  /** What the time was spent on, e.g. `data loading`, `forward + backward`, `evaluation`. */
  name: string;
  seconds: number;
  /**
   * An average per batch rather than a part of the run's time: shown apart, never added to the
   * total (a 4 min 7 s run is not 5 min because its batches took 52 s each on average).
   */
  perBatch?: boolean;
}

export interface Environment {
  /** The `tessera info` line: LibTorch version, threads, devices, BLAS. */
  info: string;
  /** Further facts worth keeping (Node version, host, git commit), shown as a table. */
  [key: string]: string;
}
