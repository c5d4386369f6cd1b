// The deterministic tensor operations behind the batch transforms (batch.ts), for direct use — as
// src/data/transforms/F is for pixels: every random parameter is an argument, nothing is drawn here.
// All take N×C×H×W batches: uint8 in [0, 255] as collate() makes them, or float (taken as [0, 1]
// unless said otherwise). They run where the batch lives (GPU included), never modify their input, and
// free their intermediates (each runs in a memory scope that keeps only what it returns).
import { constantPadNd, gather, oneHot, scope, tensor, type Tensor } from '../../tensor/index.js';

function checkBatch(what: string, x: Tensor): [number, number, number, number] {
  if (x.dim() !== 4) throw new RangeError(`${what}: expected an N×C×H×W batch, got shape [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/** uint8 [0, 255] → float32 [0, 1]; a float batch only changes dtype (it is taken as [0, 1] already). */
export function toFloat(x: Tensor): Tensor {
  return x.dtype === 'uint8' ? x.to('float32').div_(255) : x.to('float32');
}

/**
 * (x/255 − mean) / std per channel for uint8 x (torchvision's ToTensor + Normalize), (x − mean) / std
 * for float x; float32 out. One mean/std pair applies to every channel. Computed as x·a + b with
 * a = 1/(range·std), b = −mean/std: one multiply-add over the batch.
 */
export function normalize(x: Tensor, mean: readonly number[], std: readonly number[]): Tensor {
  const [, channels] = checkBatch('normalize', x);
  if (mean.length !== std.length || (mean.length !== 1 && mean.length !== channels))
    throw new RangeError(`normalize: ${mean.length} means and ${std.length} stds for a batch of ${channels} channels (shape [${x.shape.join(', ')}]); give one of each per channel`);
  std.forEach((s, c) => {
    if (!(s > 0)) throw new RangeError(`normalize: std[${c}] is ${s}; it must be positive`);
  });
  const range = x.dtype === 'uint8' ? 255 : 1;
  return scope(() => {
    const a = std.length === 1 ? 1 / (range * (std[0] as number)) : tensor(Float32Array.from(std, (s) => 1 / (range * s)), { shape: [1, channels, 1, 1], device: x.device });
    const b = mean.length === 1 ? -(mean[0] as number) / (std[0] as number) : tensor(Float32Array.from(mean, (m, c) => -m / (std[c] as number)), { shape: [1, channels, 1, 1], device: x.device });
    // A float32 input must not be scaled in place (it is the caller's); any other is converted first, once.
    const scaled = x.dtype === 'float32' ? x.mul(a as Tensor) : x.to('float32').mul_(a as Tensor);
    return scaled.add_(b as Tensor);
  });
}

export interface CropFlipParams {
  /** Zero (or `fill`) padding on each side before cropping back to H×W. */
  padding: number;
  fill?: number;
  /** Per sample: the crop's offset in the padded image (0..2·padding) and whether it is mirrored. */
  dy: readonly number[];
  dx: readonly number[];
  flipped: readonly boolean[];
}

/**
 * torchvision's RandomCrop(padding) + RandomHorizontalFlip with given per-sample parameters, as three
 * tensor ops: pad once (N×C×(H+2p)×(W+2p)), gather rows dy..dy+H−1, then gather columns dx..dx+W−1 —
 * reversed for the flipped samples, so the flip costs nothing extra. Keeps the dtype.
 */
export function cropFlip(x: Tensor, o: CropFlipParams): Tensor {
  const [n, c, h, w] = checkBatch('cropFlip', x);
  const p = o.padding;
  if (o.dy.length !== n || o.dx.length !== n || o.flipped.length !== n) throw new RangeError(`cropFlip: parameters for ${o.dy.length} samples, a batch of ${n}`);
  const rows = new BigInt64Array(n * h);
  const cols = new BigInt64Array(n * w);
  for (let i = 0; i < n; i++) {
    const oy = o.dy[i] as number;
    const ox = o.dx[i] as number;
    if (!(oy >= 0 && oy <= 2 * p && ox >= 0 && ox <= 2 * p)) throw new RangeError(`cropFlip: sample ${i}'s offset (${oy}, ${ox}) is outside 0..${2 * p}`);
    for (let r = 0; r < h; r++) rows[i * h + r] = BigInt(oy + r);
    for (let k = 0; k < w; k++) cols[i * w + k] = BigInt(ox + (o.flipped[i] ? w - 1 - k : k));
  }
  return scope(() => {
    const padded = p > 0 ? constantPadNd(x, [p, p, p, p], o.fill ?? 0) : x; // (N, C, H+2p, W+2p)
    const rowIdx = tensor(rows, { shape: [n, 1, h, 1], device: x.device }).expand([n, c, h, w + 2 * p]);
    const cropped = gather(padded, 2, rowIdx); // (N, C, H, W+2p)
    const colIdx = tensor(cols, { shape: [n, 1, 1, w], device: x.device }).expand([n, c, h, w]);
    return gather(cropped, 3, colIdx); // (N, C, H, W)
  });
}

/** Class indices (N, integer) or soft targets (N×K, float) → float32 N×K. */
export function softTargets(y: Tensor, numClasses: number): Tensor {
  if (y.dim() === 2) {
    if (y.shape[1] !== numClasses) throw new RangeError(`soft targets have ${y.shape[1]} columns, but numClasses is ${numClasses}`);
    return y.to('float32');
  }
  if (y.dim() !== 1) throw new RangeError(`targets must be class indices (N) or soft targets (N×K), got shape [${y.shape.join(', ')}]`);
  return scope(() => oneHot(y.to('int64'), numClasses).to('float32'));
}

/**
 * MixUp (Zhang et al. 2018) with a given λ: x' = λx + (1−λ)·roll(x), the same for the targets, which
 * become soft (N×K). Pairs come from rolling the batch by one, as torchvision's MixUp. A uint8 batch
 * is first taken to float [0, 1] (mixed pixels are not integers).
 */
export function mixup(x: Tensor, y: Tensor, lambda: number, numClasses: number): { x: Tensor; y: Tensor } {
  checkBatch('mixup', x);
  return scope(() => {
    const xf = toFloat(x);
    const t = softTargets(y, numClasses);
    return { x: xf.mul(lambda).add_(xf.roll(1, 0).mul_(1 - lambda)), y: t.mul(lambda).add_(t.roll(1, 0).mul_(1 - lambda)) };
  });
}

export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * CutMix (Yun et al. 2019) with a given box: the box's pixels come from the rolled batch, and targets
 * mix by the area kept, λ = 1 − box area / image area (returned). Keeps the dtype.
 */
export function cutmix(x: Tensor, y: Tensor, box: Box, numClasses: number): { x: Tensor; y: Tensor; lambda: number } {
  const [, , H, W] = checkBatch('cutmix', x);
  const { top, left, height, width } = box;
  if (top < 0 || left < 0 || height < 0 || width < 0 || top + height > H || left + width > W) throw new RangeError(`cutmix: box ${JSON.stringify(box)} is outside the ${H}×${W} image`);
  const lambda = 1 - (height * width) / (H * W);
  return scope(() => {
    const out = x.clone();
    if (height > 0 && width > 0) out.narrow(2, top, height).narrow(3, left, width).copy_(x.roll(1, 0).narrow(2, top, height).narrow(3, left, width));
    const t = softTargets(y, numClasses);
    return { x: out, y: t.mul(lambda).add_(t.roll(1, 0).mul_(1 - lambda)), lambda };
  });
}

/**
 * Erases a box per sample (undefined: leave the sample) with `value`: one number, one per channel, or
 * a tensor per box (C×h×w, e.g. noise). torchvision's F.erase, batched.
 */
export function erase(x: Tensor, boxes: readonly (Box | undefined)[], value: number | readonly number[] | ((i: number, box: Box) => Tensor)): Tensor {
  const [n, c] = checkBatch('erase', x);
  if (boxes.length !== n) throw new RangeError(`erase: ${boxes.length} boxes for a batch of ${n}`);
  if (Array.isArray(value) && value.length !== c && value.length !== 1) throw new RangeError(`erase: ${value.length} values for ${c} channels`);
  const [, , H, W] = x.shape as [number, number, number, number];
  boxes.forEach((b, i) => {
    if (b && !(b.top >= 0 && b.left >= 0 && b.height >= 0 && b.width >= 0 && b.top + b.height <= H && b.left + b.width <= W))
      throw new RangeError(`erase: sample ${i}'s box ${JSON.stringify(b)} is outside the ${H}×${W} image`);
  });
  return scope(() => {
    const out = x.clone();
    boxes.forEach((b, i) => {
      if (!b) return;
      const region = out.select(0, i).narrow(1, b.top, b.height).narrow(2, b.left, b.width); // (C, h, w), a view
      if (typeof value === 'number') region.fill_(value);
      else if (typeof value === 'function') region.copy_(value(i, b));
      else for (let k = 0; k < c; k++) region.select(0, k).fill_((value.length === 1 ? value[0] : value[k]) as number);
    });
    return out;
  });
}
