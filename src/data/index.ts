// data: sources, decoding, transforms, the loader, samplers, splits, imbalance tools, the doctor.
export * from './types.js';
// Sources: every format behind IndexedDataset / StreamingDataset.
export { imageFolder, IMAGE_EXTENSIONS, type ImageFolderDataset, type ImageFolderOptions } from './sources/image-folder.js';
export { manifest, type ManifestDataset, type ManifestOptions } from './sources/manifest.js';
export { idxDataset } from './sources/idx.js';
export { fashionMnist, loadFashionMnist, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, type LabelledImages } from './sources/fashion-mnist.js';
export { cifarDataset, CIFAR10_CLASSES, type CifarOptions } from './sources/cifar.js';
export { npyDataset, type NpyDataset, type NpyDatasetOptions } from './sources/npy.js';
export { webDataset, type WebDatasetOptions } from './sources/webdataset.js';
export { packedDataset } from './sources/packed.js';
export { subset, Subset } from './subset.js';
// File formats.
export { readNpy, parseNpy, type NpyArray } from './formats/npy.js';
export { writeNpy, encodeNpy } from './formats/npy-write.js';
export { readNpz } from './formats/npz.js';
export { readIdx, parseIdx, IdxFormatError } from './formats/idx.js';
export { writeTar, encodeTar, readTar } from './formats/tar.js';
export { expandBraces } from './formats/braces.js';
export { PackedWriter } from './formats/packed-writer.js';
// Decoding and per-sample transforms (namespaced: `data.image.decodeImage`, `data.transforms.randomResizedCrop`).
export * as image from './image/index.js';
export * as transforms from './transforms/index.js';
// Loading.
export * from './loader/index.js';
export * from './sampling/index.js';
export { RandomStream, RANDOM_PURPOSES, type RandomKey, type RandomPurpose } from './random.js';
export { randomSplit, stratifiedSplit, groupSplit, kFold, saveSplits, loadSplits, datasetFingerprint, SplitsFileError, type Splits, type Ratios, type Fold } from './splits.js';
export { classCounts, classWeights, sampleWeights, type ClassWeighting } from './imbalance.js';
// The dataset doctor.
export * as doctor from './doctor/index.js';
// The data pipeline: one opener for every source, DataPipeline, saved Preprocessing (`data.pipeline.openSource`, …).
export * as pipeline from './pipeline/index.js';
