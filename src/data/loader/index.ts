// Batches from data sets: ordering, workers, prefetch, bad samples, collation, batch transforms.
export { DataLoader, LoaderConfigError, type DataLoaderOptions } from './loader.js';
export { ArrayDataset, tensorDataset, isTensorBacked, type ArrayDatasetOptions, type TensorBacked } from './array-dataset.js';
export { BadSampleError, BadSampleBudgetError, type BadSampleOptions, type LoaderLogger } from './bad-samples.js';
export { toFloat, normalize, randomCropFlip, type BatchTransform, type BatchContext, type RandomCropFlipOptions, type XY } from './batch-transforms.js';
export { CollateError } from './collate.js';
export { SampleTimeoutError, WorkerInitError } from './worker-pool.js';
export { bufferedShuffle } from './stream-order.js';
