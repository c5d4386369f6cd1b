// What a pipeline's batches carry as targets (`y`), beyond a class index per image, and what that
// changes in the pipeline:
//
//   'class'   int64 N class indices (classification; the rest of the pipeline is written for it)
//   'mask'    int64 N×H×W class ids, 255 = ignore (segmentation): the source must have masks; the
//             per-sample pipeline moves them with the images (transforms/joint.ts); the batch's
//             crop and flip move them too (padding = 255); images are resized to H×W whole — not
//             cut to the centre, which would leave parts of the image without a prediction
//   'labels'  float32 N×K 0/1 (multi-label): the source must have several labels per image
//   'image'   float32 N×C×H×W, the input images in [0, 1] after crop and flip, before normalisation
//             (reconstruction: an autoencoder's target is its input); any source, its labels unused
//
// MixUp and CutMix mix class targets only; they are refused for the others. Random erasing changes
// the input only: a mask stays whole, and a reconstruction learns to fill the erased box in.
import { randomCropFlip, randomCropFlipParams, type BatchContext } from '../transforms/batch.js';
import * as F from '../transforms/ops-batch.js';
import type { TransformSpec } from '../transforms/spec.js';
import type { TargetKind } from '../types.js';
import { channelsLastStep, normalizeStep, randomErasingStep, trainBatchSteps, evalBatchSteps, type Augmentation, type BatchStep, type MemoryFormat } from './batch-steps.js';
import type { OpenedSource } from './open.js';
import { fitTransforms } from './preprocessing.js';
import { DataSourceError } from './source.js';

export type PipelineTargets = TargetKind | 'image';

export const PIPELINE_TARGETS: readonly PipelineTargets[] = ['class', 'mask', 'labels', 'image'];

/** The label of pixels to ignore in masks: padding and unlabelled regions. */
export const MASK_IGNORE = 255;

const FORMS: Record<TargetKind, string> = {
  class: 'one class per image',
  mask: 'images with masks (segmentation: task segment)',
  labels: 'several labels per image (multi-label: task multilabel)',
};

/** Refuses a source whose samples do not carry the targets asked for, and augmentations that do not apply to them. */
export function checkTargets(wanted: PipelineTargets, opened: OpenedSource, augment: Augmentation, what = `data source ${opened.spec.source}`): void {
  if (wanted === 'image') return; // any images; their labels are not used
  if (opened.targets !== wanted) {
    const need = wanted === 'mask'
      ? 'a folder with images/ and masks/, or a manifest with a mask column'
      : wanted === 'labels'
        ? 'a manifest with a labels column (cat|outdoor) or one 0/1 column per class'
        : 'a source with one class per image';
    throw new DataSourceError(`${what} holds ${FORMS[opened.targets]}, but ${FORMS[wanted].replace(/ \(.*\)$/, '')} ${wanted === 'class' ? 'are' : 'is'} needed here: give ${need}`);
  }
  if (wanted !== 'class' && (augment.mixup > 0 || augment.cutmix > 0)) throw new DataSourceError(`augment.mixup and augment.cutmix mix class labels; they do not apply to ${FORMS[wanted].replace(/ \(.*\)$/, '')}: leave them at 0`);
}

/** The evaluation geometry: masks are predicted for the whole image (resized to H×W); the rest are fitted without stretching. */
export function evalTransformsFor(targets: PipelineTargets, height: number, width: number): TransformSpec[] {
  return targets === 'mask' ? [{ type: 'resize', size: [height, width] }] : fitTransforms(height, width);
}

/** Random crop (after padding) and flip of images and their masks alike: the same draws as randomCropFlip at the same position. */
export function jointCropFlipStep(padding: number, flip: boolean): BatchStep {
  return {
    name: `randomCrop(padding=${padding})${flip ? '+horizontalFlip' : ''} of image and mask`,
    transform: ({ x, y }, ctx) => {
      if (ctx.indices.length !== x.shape[0]) throw new RangeError(`jointCropFlip: ${ctx.indices.length} sample indices for a batch of ${x.shape[0]}`);
      const params = randomCropFlipParams(ctx, padding, flip);
      const mask = F.cropFlip(y.unsqueeze(1), { padding, fill: MASK_IGNORE, ...params }); // (N, 1, H, W)
      return { x: F.cropFlip(x, { padding, ...params }), y: mask.squeeze(1) };
    },
  };
}

/** Refuses masks holding an id that is no class (what cross-entropy would otherwise fail on, naming nothing). */
export function maskCheckStep(classes: number): BatchStep {
  return {
    name: `checkMasks(${classes} classes, ${MASK_IGNORE} = ignore)`,
    transform: ({ x, y }, ctx: BatchContext) => {
      const bad = y.ne(MASK_IGNORE).logicalAnd(y.ge(classes)); // (N, H, W)
      if (bad.any().item()) {
        const rows = bad.flatten(1).any(1).data() as Uint8Array;
        const i = rows.findIndex((v) => v !== 0);
        const value = y.select(0, i).maskedSelect(bad.select(0, i)).max().item();
        throw new DataSourceError(`the mask of sample ${ctx.indices[i]} holds class id ${String(value)}, but there are ${classes} classes (ids 0..${classes - 1}, ${MASK_IGNORE} = ignore): name every class in data.classes or classes.txt (tessera data check names the masks at fault)`);
      }
      return { x, y };
    },
  };
}

/** The reconstruction target: the images themselves, float32 in [0, 1] (before normalisation). */
export function imageTargetStep(): BatchStep {
  return { name: 'target = input image [0, 1]', transform: ({ x }) => ({ x, y: F.toFloat(x) }) };
}

/** The training batch steps of `targets` (batch-steps.ts's trainBatchSteps for class and labels). */
export function trainBatchStepsFor(targets: PipelineTargets, o: { augment: Augmentation; flipInBatch: boolean; mean: readonly number[]; std: readonly number[]; numClasses: number; memoryFormat: MemoryFormat }): BatchStep[] {
  if (targets === 'class' || targets === 'labels') return trainBatchSteps(o);
  const a = o.augment;
  const flip = o.flipInBatch && a.hflip;
  const steps: BatchStep[] = [];
  if (a.cropPadding > 0 || flip)
    steps.push(targets === 'mask' ? jointCropFlipStep(a.cropPadding, flip) : { name: `randomCrop(padding=${a.cropPadding})${flip ? '+horizontalFlip' : ''}`, transform: randomCropFlip({ padding: a.cropPadding, flip }) });
  steps.push(targets === 'mask' ? maskCheckStep(o.numClasses) : imageTargetStep());
  steps.push(normalizeStep(o.mean, o.std));
  if (a.erasing > 0) steps.push(randomErasingStep(a.erasing));
  if (o.memoryFormat === 'channelsLast') steps.push(channelsLastStep());
  return steps;
}

/** Evaluation batch steps of `targets`: the target step, normalisation, the memory format. */
export function evalBatchStepsFor(targets: PipelineTargets, o: { mean: readonly number[]; std: readonly number[]; memoryFormat: MemoryFormat; numClasses: number }): BatchStep[] {
  const steps = evalBatchSteps(o);
  if (targets === 'mask') steps.unshift(maskCheckStep(o.numClasses));
  if (targets === 'image') steps.unshift(imageTargetStep());
  return steps;
}
