// Sample transforms (per image, on worker threads), and batch transforms (on the collated tensors,
// namespaced: `transforms.batch.normalize(mean, std)`). Both draw from src/data/random.ts.
export type { TransformSpec, TransformType, Transform, GeometryOp, Size, Size2, Range } from './spec.js';
export { resize, centerCrop, randomCrop, randomResizedCrop, horizontalFlip, verticalFlip, rotation, affine } from './geometric.js';
export { colorJitter, grayscale, gaussianBlur, gaussianNoise, randomErasing, cutout } from './photometric.js';
export { randAugment, trivialAugmentWide, type AugmentOp } from './autoaugment.js';
export { compose, ComposedPipeline, type ComposeOptions, type PipelineSummary, type SummaryStep } from './compose.js';
export * as batch from './batch.js';
export { tta, ttaViews, type TtaOptions } from './tta.js';
export * as F from './functional.js';
