// Sample transforms (per image, on worker threads), and batch transforms (on the collated tensors,
// namespaced: `transforms.batch.normalize(mean, std)`). Both draw from src/data/random.ts.
export type { TransformSpec, TransformType, Transform, GeometryOp, Size, Size2, Range } from './spec.js';
export { resize, centerCrop, randomCrop, randomResizedCrop, randomResizedCropBox, horizontalFlip, verticalFlip, rotation, affine, affineParams, resizedSize } from './geometric.js';
export { colorJitter, grayscale, gaussianBlur, gaussianNoise, randomErasing, erasingBox, cutout } from './photometric.js';
export { randAugment, trivialAugmentWide, applyAugmentOp, randAugmentSpace, trivialAugmentSpace, type AugmentOp } from './autoaugment.js';
export { compose, pipelineFromSpec, buildTransform, transformStream, ComposedPipeline, type ComposeOptions, type PipelineSummary, type SummaryStep } from './compose.js';
export { JointPipeline, jointCompose, jointPipelineFromSpec, maskTransformSpec } from './joint.js';
export * as batch from './batch.js';
export { tta, ttaViews, type TtaOptions } from './tta.js';
export * as F from './functional.js';
