// The data pipeline: one opener for every source format, the DataPipeline object (source → splits →
// per-sample pipeline → collate → batch steps, with setup(), loaders(), summary(), toJSON()), and
// Preprocessing, the evaluation-time part a model is saved with. How the parts of a source are picked,
// probed and split, and the batch steps a pipeline composes, are internal.
export { SOURCE_FORMATS, DataSourceError, detectFormat, type SourceFormat, type SourceSpec } from './source.js';
export { openSource, type OpenedSource, type OpenOptions, type SourcePart } from './open.js';
export { DataPipeline, evaluationShard, type DataPipelineSpec, type PipelineOptions, type Shard } from './pipeline.js';
export { Preprocessing, type PreprocessingJSON } from './preprocessing.js';
export type { Augmentation, BatchStep, MemoryFormat } from './batch-steps.js';
export type { ExplainOptions, ExplainStep, PipelineExplanation } from './summary.js';
