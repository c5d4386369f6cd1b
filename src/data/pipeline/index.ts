// The data pipeline: one opener for every source format, the DataPipeline object (source → splits →
// per-sample pipeline → collate → batch steps, with setup(), loaders(), summary(), toJSON()), and
// Preprocessing, the evaluation-time part a model is saved with.
export { SOURCE_FORMATS, SOURCE_FORMS, DataSourceError, detectFormat, npyFiles, classNames, type SourceFormat, type SourceSpec } from './source.js';
export { openSource, trainingPart, evaluationPart, namedPart, indexed, UNASSIGNED_SPLIT, type OpenedSource, type OpenOptions, type SourcePart } from './open.js';
export { DataPipeline, DEFAULT_TEST_SPLIT, PIPELINE_FORMAT, evaluationShard, type DataPipelineSpec, type PipelineOptions, type Shard } from './pipeline.js';
export { Preprocessing, PREPROCESSING_FORMAT, fitTransforms, type PreprocessingJSON } from './preprocessing.js';
export { trainBatchSteps, evalBatchSteps, normalizeStep, randomErasingStep, mixStep, channelsLastStep, type Augmentation, type BatchStep, type MemoryFormat } from './batch-steps.js';
export { measureNormalization, type Normalization } from './normalization.js';
export { probeSamples, defaultImageSize, defaultChannels, type Probe, type SampleShape } from './probe.js';
export { scanShards, shardClasses, streamSplit, streamPart, type StreamSplitRule } from './shards.js';
export type { ExplainOptions, ExplainStep, PipelineExplanation } from './summary.js';
