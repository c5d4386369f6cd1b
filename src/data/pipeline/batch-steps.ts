// The batch steps of a pipeline, each with the name `summary()` shows: random crop and flip,
// normalisation, random erasing, MixUp/CutMix and the channels_last memory format. They are the
// library's batch transforms (transforms/batch.ts) put in the order
// torchvision's recipes use: geometry on uint8, normalise, erase on the normalised tensor (erased
// pixels become 0, the mean colour), then mix whole batches.
//
// Randomness: crop, flip and erasing are drawn per sample from (seed, epoch, sample index), so a
// sample is augmented the same whatever the batch size or worker count; MixUp/CutMix pair samples
// within a batch, so they draw from (seed, epoch, batch index).
import { RandomStream } from '../random.js';
import { cutmix, mixup, normalize, randomCropFlip, randomErasing, type BatchTransform } from '../transforms/batch.js';

export interface BatchStep {
  /** What `summary()` prints, e.g. `normalize(mean=[0.286], std=[0.353])`. */
  name: string;
  transform: BatchTransform;
}

export interface Augmentation {
  /** Random crop after zero padding by this many pixels (0 = off). */
  cropPadding: number;
  hflip: boolean;
  vflip: boolean;
  /** Random erasing probability per sample (0 = off). */
  erasing: number;
  /** MixUp's Beta(α, α) parameter (0 = off). */
  mixup: number;
  /** CutMix's Beta(α, α) parameter (0 = off). */
  cutmix: number;
}

export type MemoryFormat = 'contiguous' | 'channelsLast';

// The stream of the MixUp-or-CutMix choice, apart from the transforms' own (keyed by their position in the list, < 2^16).
const MIX_CHOICE_STREAM = 0x4d495843;

const list = (v: readonly number[]) => `[${v.map((x) => Number(x.toFixed(4))).join(', ')}]`;

/** (x − mean) / std per channel, from uint8 or [0, 1] input. */
export function normalizeStep(mean: readonly number[], std: readonly number[]): BatchStep {
  return { name: `normalize(mean=${list(mean)}, std=${list(std)})`, transform: normalize(mean, std) };
}

/**
 * torchvision's RandomErasing (scale 0.02–0.33, ratio 0.3–3.3, value 0) on a normalised N×C×H×W
 * batch: each sample, with probability p, gets one box set to 0 (the mean colour).
 */
export function randomErasingStep(p: number): BatchStep {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`random erasing: probability must be in [0, 1], got ${p}`);
  return { name: `randomErasing(p=${p})`, transform: randomErasing({ p }) };
}

/** MixUp and/or CutMix with soft targets; with both, each batch uses one of them, chosen with probability ½. */
export function mixStep(o: { mixup: number; cutmix: number; numClasses: number }): BatchStep {
  const { mixup: a, cutmix: b, numClasses } = o;
  if (!(a > 0 || b > 0)) throw new RangeError('mixStep: give mixup or cutmix a positive alpha');
  const name = [a > 0 ? `mixup(alpha=${a})` : '', b > 0 ? `cutmix(alpha=${b})` : ''].filter(Boolean).join(' or ');
  const mix = a > 0 ? mixup({ numClasses, alpha: a }) : undefined;
  const cut = b > 0 ? cutmix({ numClasses, alpha: b }) : undefined;
  return {
    name,
    transform: (xy, ctx) => {
      const choice = new RandomStream({ seed: ctx.seed, purpose: 'batchAugment', epoch: ctx.epoch, index: ctx.batch, stream: MIX_CHOICE_STREAM });
      const useMixup = mix !== undefined && (cut === undefined || choice.float() < 0.5);
      return (useMixup ? mix : cut)!(xy, ctx);
    },
  };
}

/** The batch in channels_last memory format (N×C×H×W shape, NHWC strides): what oneDNN's convolutions prefer. */
export function channelsLastStep(): BatchStep {
  return { name: 'channelsLast', transform: ({ x, y }) => ({ x: x.contiguous('channelsLast'), y }) };
}

/** The training batch steps for `augment`; `flipInBatch` when samples arrive unflipped (no per-sample pipeline). */
export function trainBatchSteps(o: { augment: Augmentation; flipInBatch: boolean; mean: readonly number[]; std: readonly number[]; numClasses: number; memoryFormat: MemoryFormat }): BatchStep[] {
  const { augment: a } = o;
  const steps: BatchStep[] = [];
  const flip = o.flipInBatch && a.hflip;
  if (a.cropPadding > 0 || flip) {
    steps.push({ name: `randomCrop(padding=${a.cropPadding})${flip ? '+horizontalFlip' : ''}`, transform: randomCropFlip({ padding: a.cropPadding, flip }) });
  }
  steps.push(normalizeStep(o.mean, o.std));
  if (a.erasing > 0) steps.push(randomErasingStep(a.erasing));
  if (a.mixup > 0 || a.cutmix > 0) steps.push(mixStep({ mixup: a.mixup, cutmix: a.cutmix, numClasses: o.numClasses }));
  if (o.memoryFormat === 'channelsLast') steps.push(channelsLastStep());
  return steps;
}

/** Evaluation: normalise, and the memory format. */
export function evalBatchSteps(o: { mean: readonly number[]; std: readonly number[]; memoryFormat: MemoryFormat }): BatchStep[] {
  return [normalizeStep(o.mean, o.std), ...(o.memoryFormat === 'channelsLast' ? [channelsLastStep()] : [])];
}
