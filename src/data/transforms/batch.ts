// Batch transforms: what DataLoader's `batchTransforms` takes. Each is a function of one collated batch
// ({ x: N×C×H×W, y }) and where it stands (seed, epoch, batch number, sample indices, its position in
// the list); the loader runs them in order inside a memory scope. The tensor work is ops-batch.ts
// (exported as `F`: the same operations with every random parameter given); these factories only
// draw the parameters.
//
// Randomness. Per-sample parameters (crop offsets, flips, erasing boxes) come from a RandomStream
// keyed by the sample's index — never its place in the batch — so a sample is augmented the same way
// whatever the batch size, worker count or resume point. Per-batch parameters (MixUp's λ, CutMix's
// box) are keyed by the batch's number within the epoch, which resuming with skipBatches keeps. Both
// are keyed by the transform's position in the list too, so two transforms never share numbers.
//
// uint8-aware: the loader collates uint8 [0, 255]; each transform takes uint8 or float ([0, 1]) and
// says what it returns: toFloat/normalize/mixup give float32, randomCropFlip/cutmix/randomErasing keep the dtype.
import { tensor, type Tensor } from '../../tensor/index.js';
import { checkOptions, code, isOptionsObject, show } from '../options.js';
import { RandomStream } from '../random.js';
import { registerBytewise } from './bytewise.js';
import * as F from './ops-batch.js';
import { erasingBox } from './photometric.js';

export * as F from './ops-batch.js';

export interface BatchContext {
  seed: number;
  epoch: number;
  /** The batch's number within the epoch. */
  batch: number;
  /** The samples' global indices, in batch order (keys for per-sample randomness). */
  indices: readonly number[];
  /** This transform's position in the list (keys its random stream apart from the others'). */
  position: number;
}

export interface XY {
  x: Tensor;
  y: Tensor;
}

export type BatchTransform = (b: XY, ctx: BatchContext) => XY;

function sampleStream(ctx: BatchContext, i: number): RandomStream {
  return new RandomStream({ seed: ctx.seed, purpose: 'batchAugment', epoch: ctx.epoch, index: ctx.indices[i] as number, stream: ctx.position });
}

function batchStream(ctx: BatchContext): RandomStream {
  return new RandomStream({ seed: ctx.seed, purpose: 'batchAugment', epoch: ctx.epoch, index: ctx.batch, stream: ctx.position });
}

function checkSamples(what: string, x: Tensor, ctx: BatchContext): void {
  if (ctx.indices.length !== x.shape[0]) throw new RangeError(`${what}: ${ctx.indices.length} sample indices for a batch of ${x.shape[0]}`);
}

/** uint8 [0, 255] → float32 [0, 1] (what the loader applies when no batch transforms are given). */
export function toFloat(): BatchTransform {
  return registerBytewise(({ x, y }) => ({ x: F.toFloat(x), y }));
}

/**
 * (x/255 − mean) / std per channel, as torchvision's ToTensor + Normalize, for uint8 batches; float
 * batches are taken as [0, 1] already. One mean and std may serve every channel. float32 out.
 */
export function normalize(mean: readonly number[], std: readonly number[]): BatchTransform {
  const given = mean as unknown;
  if (isOptionsObject(given)) throw new TypeError(`normalize takes two lists, not an options object: write normalize(${code(given.mean ?? [0.5])}, ${code(given.std ?? [0.5])})`);
  const list = (v: unknown, what: string): readonly number[] => {
    if (Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number' && Number.isFinite(n))) return v as number[];
    throw new TypeError(`normalize: ${what} must be a non-empty list of numbers, one per channel: write normalize(${code([mean ?? 0.5].flat())}, ${code([std ?? 0.5].flat())}); got ${show(v)}`);
  };
  const m = list(mean, 'mean');
  const s = list(std, 'std');
  if (m.length !== s.length) throw new RangeError(`normalize: mean has ${m.length} values, std ${s.length}; give one of each per channel`);
  s.forEach((v, c) => {
    if (!(v > 0)) throw new RangeError(`normalize: std[${c}] is ${v}; it must be positive`);
  });
  return registerBytewise(({ x, y }) => ({ x: F.normalize(x, m, s), y }));
}

export interface RandomCropFlipOptions {
  /** Zero padding on each side before cropping back to H×W (torchvision RandomCrop(size, padding)). Default 4. */
  padding?: number;
  /** Mirror left-right with probability 1/2 (RandomHorizontalFlip). Default true. */
  flip?: boolean;
  /** Value of the padding (default 0). */
  fill?: number;
}

/** Per-sample crop offsets (0..2·padding) and flips of randomCropFlip, drawn from each sample's stream. */
export function randomCropFlipParams(ctx: BatchContext, padding: number, flip: boolean): { dy: number[]; dx: number[]; flipped: boolean[] } {
  const dy: number[] = [];
  const dx: number[] = [];
  const flipped: boolean[] = [];
  ctx.indices.forEach((_, i) => {
    const rng = sampleStream(ctx, i);
    dy.push(rng.int(0, 2 * padding + 1));
    dx.push(rng.int(0, 2 * padding + 1));
    flipped.push(flip && rng.bernoulli(0.5));
  });
  return { dy, dx, flipped };
}

/** torchvision's RandomCrop(padding) + RandomHorizontalFlip for a whole batch, in three tensor ops (F.cropFlip). */
export function randomCropFlip(options: RandomCropFlipOptions = {}): BatchTransform {
  const o = checkOptions('randomCropFlip', options, ['padding', 'flip', 'fill'], `randomCropFlip({ padding: ${typeof options === 'number' ? options : 4} })`);
  const padding = (o.padding as number | undefined) ?? 4;
  const flip = (o.flip as boolean | undefined) ?? true;
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`randomCropFlip: padding must be a non-negative integer, got ${show(padding)}`);
  return ({ x, y }, ctx) => {
    checkSamples('randomCropFlip', x, ctx);
    const fill = o.fill as number | undefined;
    return { x: F.cropFlip(x, { padding, ...(fill === undefined ? {} : { fill }), ...randomCropFlipParams(ctx, padding, flip) }), y };
  };
}

export interface MixOptions {
  /** Columns of the soft targets. */
  numClasses: number;
  /** λ ~ Beta(α, α); default 1 (torchvision's). */
  alpha?: number;
}

function mixOptions(call: string, options: unknown): { numClasses: number; alpha: number } {
  const example = `${call}({ numClasses: ${typeof options === 'number' ? options : 10} })`;
  const o = checkOptions(call, options, ['numClasses', 'alpha'], example);
  const { numClasses, alpha = 1 } = o as { numClasses?: unknown; alpha?: unknown };
  if (!(typeof numClasses === 'number' && Number.isInteger(numClasses) && numClasses >= 1)) throw new RangeError(`${call}: numClasses must be a positive integer, e.g. ${example}; got ${show(numClasses)}`);
  if (!(typeof alpha === 'number' && alpha > 0)) throw new RangeError(`${call}: alpha must be positive, got ${show(alpha)}`);
  return { numClasses, alpha };
}

/** MixUp (Zhang et al. 2018): one λ ~ Beta(α, α) per batch; F.mixup pairs by rolling the batch. float32 x, soft y. */
export function mixup(options: MixOptions): BatchTransform {
  const { numClasses, alpha } = mixOptions('mixup', options);
  return ({ x, y }, ctx) => F.mixup(x, y, batchStream(ctx).beta(alpha, alpha), numClasses);
}

/** CutMix's box, torchvision's recipe: centre uniform, half-sides ⌊r·W⌋ and ⌊r·H⌋ with r = √(1−λ)/2, clipped. */
export function cutmixBox(rng: RandomStream, height: number, width: number, alpha: number): F.Box {
  const lambda = rng.beta(alpha, alpha);
  const cx = rng.int(0, width);
  const cy = rng.int(0, height);
  const r = 0.5 * Math.sqrt(1 - lambda);
  const hw = Math.trunc(r * width);
  const hh = Math.trunc(r * height);
  const left = Math.max(cx - hw, 0);
  const top = Math.max(cy - hh, 0);
  return { top, left, height: Math.min(cy + hh, height) - top, width: Math.min(cx + hw, width) - left };
}

/** CutMix (Yun et al. 2019): one box per batch from the rolled batch; targets mix by the area kept. Keeps x's dtype. */
export function cutmix(options: MixOptions): BatchTransform {
  const { numClasses, alpha } = mixOptions('cutmix', options);
  return ({ x, y }, ctx) => {
    if (x.dim() !== 4) throw new RangeError(`cutmix: expected an N×C×H×W batch, got shape [${x.shape.join(', ')}]`);
    const out = F.cutmix(x, y, cutmixBox(batchStream(ctx), x.shape[2] as number, x.shape[3] as number, alpha), numClasses);
    return { x: out.x, y: out.y };
  };
}

export interface RandomErasingOptions {
  /** Chance that a sample gets a box. Default 0.5. */
  p?: number;
  /** Box area as a share of the image. Default [0.02, 0.33]. */
  scale?: readonly [number, number];
  /** Box aspect ratio, drawn log-uniformly. Default [0.3, 3.3]. */
  ratio?: readonly [number, number];
  /**
   * What fills the box, in the batch's units: a number or one per channel (default 0: after normalize,
   * the mean colour), or 'random' — standard normal values on a float batch (torchvision's), uniform
   * bytes on a uint8 one.
   */
  value?: number | readonly number[] | 'random';
}

/** torchvision's RandomErasing per sample of a batch (boxes as erasingBox draws them for single images). Keeps the dtype. */
export function randomErasing(options: RandomErasingOptions = {}): BatchTransform {
  const o = checkOptions('randomErasing', options, ['p', 'scale', 'ratio', 'value'], `randomErasing({ p: ${typeof options === 'number' ? options : 0.5} })`) as RandomErasingOptions;
  const p = o.p ?? 0.5;
  const scale = o.scale ?? [0.02, 0.33];
  const ratio = o.ratio ?? [0.3, 3.3];
  const value = o.value ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`randomErasing: p must be in [0, 1], got ${show(p)}`);
  if (!(scale[0] <= scale[1] && ratio[0] <= ratio[1] && scale[0] >= 0 && ratio[0] > 0)) throw new RangeError(`randomErasing: scale and ratio must be ranges [lo, hi], got scale ${show(scale)}, ratio ${show(ratio)}`);
  return ({ x, y }, ctx) => {
    checkSamples('randomErasing', x, ctx);
    const [, c, height, width] = x.shape as [number, number, number, number];
    const bytes = x.dtype === 'uint8';
    if (bytes && value !== 'random' && [value].flat().some((v) => !(Number.isInteger(v) && v >= 0 && v <= 255)))
      throw new RangeError(`randomErasing: value ${show(value)} does not fit a uint8 batch (0..255); erase after toFloat/normalize, or give bytes`);
    const streams = ctx.indices.map((_, i) => sampleStream(ctx, i));
    const boxes = streams.map((rng) => (rng.bernoulli(p) ? erasingBox({ width, height }, rng, scale, ratio) : undefined));
    if (value !== 'random') return { x: F.erase(x, boxes, value), y };
    // Random fill: each sample's values continue its own stream, after its box.
    const fill = (i: number, b: F.Box): Tensor => {
      const rng = streams[i] as RandomStream;
      const n = c * b.height * b.width;
      const data = bytes ? Uint8Array.from({ length: n }, () => rng.int(0, 256)) : Float32Array.from({ length: n }, () => rng.normal());
      return tensor(data, { shape: [c, b.height, b.width], device: x.device });
    };
    return { x: F.erase(x, boxes, fill), y };
  };
}
