// Transforms applied to a whole batch tensor on the main thread, after collation: a handful of
// LibTorch ops per batch instead of per-sample JS. The loader runs them inside a memory scope, so
// their intermediates are freed; each returns the new { x, y }.
//
// Randomness is per sample and keyed by (seed, epoch, sample index) — never by batch position — so
// a sample gets the same augmentation whatever the batch size, worker count or resume point.
import { constantPadNd, gather, tensor, type Tensor } from '../../tensor/index.js';
import { Rng, RngPurpose } from '../sampling/rng.js';

export interface BatchContext {
  seed: number;
  epoch: number;
  /** The batch's number within the epoch. */
  batch: number;
  /** The samples' global indices, in batch order (keys for per-sample randomness). */
  indices: readonly number[];
}

export interface XY {
  x: Tensor;
  y: Tensor;
}

export type BatchTransform = (b: XY, ctx: BatchContext) => XY;

/** uint8 [0, 255] → float32 [0, 1] (what the loader applies when no batch transforms are given). */
export function toFloat(): BatchTransform {
  return ({ x, y }) => ({ x: x.dtype === 'uint8' ? x.to('float32').div_(255) : x.to('float32'), y });
}

/**
 * (x/255 − mean) / std per channel, as torchvision's ToTensor + Normalize, for uint8 input (float
 * input is taken as already in [0, 1]). Computed as x·a + b with a = 1/(255·std), b = −mean/std.
 */
export function normalize(mean: readonly number[], std: readonly number[]): BatchTransform {
  if (mean.length !== std.length || mean.length === 0) throw new RangeError(`normalize: mean has ${mean.length} values, std ${std.length}; give one per channel`);
  std.forEach((s, c) => {
    if (!(s > 0)) throw new RangeError(`normalize: std[${c}] is ${s}; it must be positive`);
  });
  return ({ x, y }) => {
    const channels = x.shape[1];
    if (mean.length !== 1 && mean.length !== channels) throw new RangeError(`normalize: ${mean.length} means for a batch of ${channels} channels (shape [${x.shape}])`);
    const range = x.dtype === 'uint8' ? 255 : 1;
    const out = x.to('float32');
    if (mean.length === 1) return { x: out.mul_(1 / (range * (std[0] as number))).add_(-(mean[0] as number) / (std[0] as number)), y };
    const a = tensor(Float32Array.from(std, (s) => 1 / (range * s)), { shape: [1, mean.length, 1, 1] });
    const b = tensor(Float32Array.from(mean, (m, c) => -m / (std[c] as number)), { shape: [1, mean.length, 1, 1] });
    return { x: out.mul_(a).add_(b), y };
  };
}

export interface RandomCropFlipOptions {
  /** Zero padding on each side before cropping back to H×W (torchvision RandomCrop(size, padding)). Default 4. */
  padding?: number;
  /** Mirror left-right with probability 1/2 (RandomHorizontalFlip). Default true. */
  flip?: boolean;
  /** Value of the padding (default 0). */
  fill?: number;
}

/**
 * Random crop with padding plus horizontal flip on an N×C×H×W batch, as three tensor ops: pad once
 * (N×C×(H+2p)×(W+2p)), gather rows dy..dy+H−1, then gather columns dx..dx+W−1 — reversed for the
 * flipped samples, so the flip costs nothing extra. Offsets and flips are drawn per sample.
 */
export function randomCropFlip(options: RandomCropFlipOptions = {}): BatchTransform {
  const p = options.padding ?? 4;
  const flip = options.flip ?? true;
  if (!Number.isInteger(p) || p < 0) throw new RangeError(`randomCropFlip: padding must be a non-negative integer, got ${p}`);
  return ({ x, y }, ctx) => {
    if (x.ndim !== 4) throw new RangeError(`randomCropFlip: expected an N×C×H×W batch, got shape [${x.shape}]`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const { rows, cols } = cropParams(n, h, w, p, flip, ctx);
    const padded = p > 0 ? constantPadNd(x, [p, p, p, p], options.fill ?? 0) : x; // (N, C, H+2p, W+2p)
    const rowIdx = tensor(rows, { shape: [n, 1, h, 1] }).expand([n, c, h, w + 2 * p]);
    const cropped = gather(padded, 2, rowIdx); // (N, C, H, W+2p)
    const colIdx = tensor(cols, { shape: [n, 1, 1, w] }).expand([n, c, h, w]);
    return { x: gather(cropped, 3, colIdx), y }; // (N, C, H, W)
  };
}

/** Per-sample source rows (N×H) and columns (N×W) in the padded image. Exported for tests. */
export function cropParams(n: number, h: number, w: number, p: number, flip: boolean, ctx: BatchContext): { rows: BigInt64Array; cols: BigInt64Array; dy: number[]; dx: number[]; flipped: boolean[] } {
  if (ctx.indices.length !== n) throw new RangeError(`randomCropFlip: ${ctx.indices.length} sample indices for a batch of ${n}`);
  const rows = new BigInt64Array(n * h);
  const cols = new BigInt64Array(n * w);
  const dy: number[] = [];
  const dx: number[] = [];
  const flipped: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(ctx.seed, ctx.epoch, RngPurpose.augment, ctx.indices[i] as number);
    const oy = rng.int(2 * p + 1);
    const ox = rng.int(2 * p + 1);
    const f = flip && rng.int(2) === 1;
    dy.push(oy);
    dx.push(ox);
    flipped.push(f);
    for (let r = 0; r < h; r++) rows[i * h + r] = BigInt(oy + r);
    for (let k = 0; k < w; k++) cols[i * w + k] = BigInt(ox + (f ? w - 1 - k : k));
  }
  return { rows, cols, dy, dx, flipped };
}
