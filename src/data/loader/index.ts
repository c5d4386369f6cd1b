// Batches from data sets: ordering, workers, prefetch, bad samples, collation. (Batch transforms are
// transforms.batch; the loader runs them.)
export { DataLoader, LoaderConfigError, type DataLoaderOptions } from './loader.js';
export { ArrayDataset, tensorDataset, type ArrayDatasetOptions } from './array-dataset.js';
export { BadSampleError, BadSampleBudgetError, type BadSampleOptions, type LoaderLogger } from './bad-samples.js';
export { collate, CollateError } from './collate.js';
export { SampleTimeoutError } from './limits.js';
export { WorkerInitError } from './worker-pool.js';
