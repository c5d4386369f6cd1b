// Batch-level steps on tensors (LibTorch ops: they run where the batch lives, GPU included):
// collation of decoded images, uint8 → float, normalisation, MixUp and CutMix with soft targets.
// MixUp/CutMix draw from the counter-based Rng keyed by (seed, epoch, batch index), so a resumed
// epoch mixes its batches exactly as before.
import { fromBufferShared, oneHot, scope, tensor, type Tensor } from '../../tensor/index.js';
import { DataError, type RawImage } from '../types.js';
import { Rng } from './rng.js';

/**
 * One uint8 N×H×W×C tensor over a single buffer the images are copied into once (the tensor shares
 * that buffer, no second copy). Every image must have the first one's size and channel count; the
 * error names the first that does not (by `ids[i]` when given).
 */
export function collate(images: readonly RawImage[], ids?: readonly string[]): Tensor {
  const first = images[0];
  if (!first) throw new RangeError('collate: no images');
  const { width, height, channels } = first;
  const per = width * height * channels;
  const buf = new Uint8Array(per * images.length);
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height || img.channels !== channels) {
      const name = ids?.[i] ?? `sample ${i}`;
      throw new DataError(name, `collate: image ${i} is ${img.width}x${img.height}x${img.channels}, but ${ids?.[0] ?? 'sample 0'} is ${width}x${height}x${channels}; end the pipeline with a fixed-size step (resize/crop) and channel mode`);
    }
    if (img.data.length !== per) throw new DataError(ids?.[i] ?? `sample ${i}`, `collate: image ${i} has ${img.data.length} bytes, expected ${per}`);
    buf.set(img.data, i * per);
  });
  return fromBufferShared(buf, [images.length, height, width, channels], 'uint8');
}

/** uint8 N×H×W×C → float32 N×C×H×W in [0, 1] (contiguous). */
export function toFloatTensor(x: Tensor): Tensor {
  if (x.dim() !== 4) throw new RangeError(`toFloatTensor: expected a 4-D N×H×W×C batch, got shape [${x.shape.join(', ')}]`);
  return scope(() => x.permute([0, 3, 1, 2]).to('float32').div(255).contiguous());
}

/** (x − mean[c]) / std[c] over N×C×H×W. */
export function normalize(x: Tensor, mean: readonly number[], std: readonly number[]): Tensor {
  const c = x.shape[1];
  if (x.dim() !== 4 || mean.length !== c || std.length !== c)
    throw new RangeError(`normalize: expected N×C×H×W with C = ${mean.length} (mean) = ${std.length} (std), got shape [${x.shape.join(', ')}]`);
  if (std.some((s) => s === 0)) throw new RangeError('normalize: std has a zero');
  return scope(() => {
    const m = tensor(Float32Array.from(mean), { shape: [1, c, 1, 1], device: x.device });
    const s = tensor(Float32Array.from(std), { shape: [1, c, 1, 1], device: x.device });
    return x.sub(m).div(s);
  });
}

export interface MixOptions {
  numClasses: number;
  /** Beta(α, α) parameter. Default 1. */
  alpha?: number;
  seed: number;
  epoch: number;
  batchIndex: number;
}

/** Class indices (N, int64) or soft targets (N×K, float) → float32 N×K. */
function softTargets(y: Tensor, k: number): Tensor {
  if (y.dim() === 2) {
    if (y.shape[1] !== k) throw new RangeError(`targets have ${y.shape[1]} columns, numClasses is ${k}`);
    return y.to('float32');
  }
  return oneHot(y.to('int64'), k).to('float32');
}

// Stream numbers apart from any sample transform's (those use the transform's position, < 2^16).
const MIXUP_STREAM = 0x4d495855;
const CUTMIX_STREAM = 0x43555443;

/** MixUp (Zhang et al. 2018): x' = λx + (1−λ)·roll(x), same for targets; λ ~ Beta(α, α); pairs by rolling the batch by one (as torchvision). */
export function mixup(x: Tensor, y: Tensor, o: MixOptions): { x: Tensor; y: Tensor; lambda: number } {
  const rng = new Rng(o.seed, o.epoch, o.batchIndex, MIXUP_STREAM);
  const alpha = o.alpha ?? 1;
  const lambda = rng.beta(alpha, alpha);
  return scope(() => {
    const t = softTargets(y, o.numClasses);
    return {
      x: x.mul(lambda).add(x.roll(1, 0).mul(1 - lambda)),
      y: t.mul(lambda).add(t.roll(1, 0).mul(1 - lambda)),
      lambda,
    };
  });
}

/**
 * CutMix (Yun et al. 2019) on N×C×H×W: a box of area ≈ (1−λ)·H·W from the rolled batch is pasted in;
 * λ is then corrected to the box's actual area, and targets mix by it.
 */
export function cutmix(x: Tensor, y: Tensor, o: MixOptions): { x: Tensor; y: Tensor; lambda: number; box: { top: number; left: number; height: number; width: number } } {
  if (x.dim() !== 4) throw new RangeError(`cutmix: expected N×C×H×W, got shape [${x.shape.join(', ')}]`);
  const rng = new Rng(o.seed, o.epoch, o.batchIndex, CUTMIX_STREAM);
  const alpha = o.alpha ?? 1;
  const lam0 = rng.beta(alpha, alpha);
  const H = x.shape[2] as number;
  const W = x.shape[3] as number;
  // torchvision's reference recipe: centre uniform, half-sides r·W and r·H with r = √(1−λ)/2.
  const cx = rng.int(0, W);
  const cy = rng.int(0, H);
  const r = 0.5 * Math.sqrt(1 - lam0);
  const hw = Math.trunc(r * W);
  const hh = Math.trunc(r * H);
  const x1 = Math.max(cx - hw, 0);
  const y1 = Math.max(cy - hh, 0);
  const x2 = Math.min(cx + hw, W);
  const y2 = Math.min(cy + hh, H);
  const lambda = 1 - ((x2 - x1) * (y2 - y1)) / (W * H);
  return scope(() => {
    const out = x.clone();
    if (x2 > x1 && y2 > y1) {
      const rolled = x.roll(1, 0);
      out.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1).copy_(rolled.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1));
    }
    const t = softTargets(y, o.numClasses);
    return { x: out, y: t.mul(lambda).add(t.roll(1, 0).mul(1 - lambda)), lambda, box: { top: y1, left: x1, height: y2 - y1, width: x2 - x1 } };
  });
}
