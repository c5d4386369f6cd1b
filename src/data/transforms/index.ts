// Sample transforms (per image, on worker threads), batch transforms (on tensors) and the
// counter-based RNG that makes augmentation a pure function of (seed, epoch, index).
export { Rng, rngFor, philox4x32 } from './rng.js';
export type { TransformSpec, TransformType, Transform, GeometryOp, Size, Size2, Range } from './spec.js';
export { resize, centerCrop, randomCrop, randomResizedCrop, randomResizedCropBox, horizontalFlip, verticalFlip, rotation, affine, affineParams, resizedSize } from './geometric.js';
export { colorJitter, grayscale, gaussianBlur, gaussianNoise, randomErasing, erasingBox, cutout } from './photometric.js';
export { randAugment, trivialAugmentWide, applyAugmentOp, randAugmentSpace, trivialAugmentSpace, type AugmentOp } from './autoaugment.js';
export { compose, pipelineFromSpec, buildTransform, ComposedPipeline, type ComposeOptions, type PipelineSummary, type SummaryStep } from './compose.js';
export { collate, toFloatTensor, normalize, mixup, cutmix, type MixOptions } from './batch.js';
export { tta, ttaViews, type TtaOptions } from './tta.js';
export * as F from './functional.js';
