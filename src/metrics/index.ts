// Evaluation metrics: accumulators that satisfy the trainer's `Metric` contract (exact over a
// whole set, computed once) and the same metrics as pure functions of full arrays. Classification
// first; then segmentation (pixels), multi-label classification and generated images.
export type { Metric } from './types.js';
export { sumMetrics, loadSumsInto, type SumAcross } from './reduce.js';
export { DEFAULT_IGNORE_INDEX, type MetricOptions } from './batch.js';
export { ConfusionMatrix, confusionMatrix } from './confusion.js';
export { accuracyOf, precisionRecallF1, mostConfusedPairs, type Average, type ClassScores, type AveragedScores, type PrecisionRecallF1, type ConfusedPair } from './scores.js';
export { TopKAccuracy, topKAccuracy, RocAuc, rocAucOvr, binaryAuc, type RocAucResult, type ScoreInputs } from './ranking.js';
export { CalibrationError, expectedCalibrationError, MeanLoss, meanLogLoss, type CalibrationBin, type CalibrationResult } from './calibration.js';
export { Accuracy, Precision, Recall, F1Score, createMetric, METRIC_NAMES } from './metrics.js';
export { classificationReport, ClassificationEvaluator, type ClassificationReport, type ClassReport, type ReportOptions, type HighLossSample } from './report.js';
export {
  MeanIoU, MeanDice, PixelAccuracy, segmentationScores, createSegmentationMetric, SEGMENTATION_METRIC_NAMES,
  type SegmentationScores, type SegmentationClassScores, type SegmentationMetricOptions,
} from './segmentation.js';
export {
  MeanAveragePrecision, MultilabelF1Score, averagePrecision, multilabelAveragePrecision, multilabelF1, multilabelScores,
  type MultilabelAP, type MultilabelF1, type LabelScores, type MultilabelMetricOptions,
} from './multilabel.js';
export { MeanSquaredError } from './reconstruction.js';
export { FrechetDistance, FeatureMoments, ClassCoverage, featureStats, frechetDistance, frechetDistanceOf, classCoverage, type FeatureStats } from './generative.js';
