// In-memory pixel arrays (IDX, CIFAR, NPY already in RAM) as an IndexedDataset whose batches the
// loader gathers with one index_select on a uint8 tensor, instead of reading, copying and
// stacking each sample in JS. Fashion-MNIST's 60,000×28×28 images live in one 47 MB buffer that
// LibTorch sees without a copy.
import { fromBufferShared, indexSelect, persist, tensor, type Tensor } from '../../tensor/index.js';
import type { IndexedDataset, SampleRecord } from '../types.js';

/** A data set whose batches can be cut out of tensors directly (the loader's fast path). */
export interface TensorBacked {
  /** uint8 N×C×H×W images and int64 labels of `indices`, gathered by tensor ops (caller owns them). */
  gatherBatch(indices: Int32Array): { x: Tensor; y: Tensor };
  /** The id of sample `index`, for Batch.ids. */
  sampleId(index: number): string;
}

export function isTensorBacked(d: object): d is TensorBacked {
  return typeof (d as Partial<TensorBacked>).gatherBatch === 'function' && typeof (d as Partial<TensorBacked>).sampleId === 'function';
}

export interface ArrayDatasetOptions {
  /** [N, H, W] (grey) or [N, H, W, C] / [N, C, H, W] per `layout`, C = 1 or 3. */
  shape: readonly number[];
  /** How a 4-d buffer is laid out: 'hwc' (default: IDX, NPY from PIL) or 'chw' (CIFAR binary). */
  layout?: 'hwc' | 'chw';
  /** Class names; default '0', '1', ... up to the largest label. */
  classes?: readonly string[];
  /** Name for ids (`name[17]`) and describe(); default 'array'. */
  name?: string;
}

export class ArrayDataset implements IndexedDataset, TensorBacked {
  readonly kind = 'indexed' as const;
  readonly length: number;
  readonly classes: readonly string[];
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  private readonly name: string;
  private readonly layout: 'hwc' | 'chw';
  /** uint8 N×C×H×W, and int64 N; made outside every scope, freed by dispose(). */
  private readonly images: Tensor;
  private readonly labelTensor: Tensor;

  constructor(private readonly pixels: Uint8Array, private readonly labelArray: Int32Array, options: ArrayDatasetOptions) {
    const s = options.shape;
    this.name = options.name ?? 'array';
    this.layout = options.layout ?? 'hwc';
    if (s.length !== 3 && s.length !== 4) throw new RangeError(`${this.name}: shape must be [N, H, W] or 4-d, got [${s}]`);
    const [n, a, b, c] = s as [number, number, number, number | undefined];
    this.length = n;
    const channels = s.length === 3 ? 1 : this.layout === 'hwc' ? (c as number) : a;
    if (channels !== 1 && channels !== 3) throw new RangeError(`${this.name}: ${channels} channels in shape [${s}] (${this.layout}); images have 1 or 3`);
    this.channels = channels;
    [this.height, this.width] = s.length === 3 || this.layout === 'hwc' ? [a, b] : [b, c as number];
    const need = n * this.height * this.width * channels;
    if (pixels.length !== need) throw new RangeError(`${this.name}: shape [${s}] needs ${need} bytes of pixels, got ${pixels.length}`);
    if (labelArray.length !== n) throw new RangeError(`${this.name}: ${labelArray.length} labels for ${n} images`);
    let max = -1;
    labelArray.forEach((l, i) => {
      if (!Number.isInteger(l) || l < -1) throw new RangeError(`${this.name}: label[${i}] is ${l}; labels are class indices, or -1 for none`);
      if (l > max) max = l;
    });
    this.classes = options.classes ?? Array.from({ length: max + 1 }, (_, i) => String(i));
    if (max >= this.classes.length) throw new RangeError(`${this.name}: label ${max} but only ${this.classes.length} classes`);

    // The pixels stay in the caller's buffer (no copy) unless HWC colour needs transposing once.
    const shared = fromBufferShared(pixels, s.length === 3 ? [n, 1, a, b] : s);
    this.images = persist(this.layout === 'hwc' && channels === 3 ? shared.permute([0, 3, 1, 2]).contiguous() : shared);
    if (this.images !== shared) shared.dispose();
    this.labelTensor = persist(tensor(labelArray, { dtype: 'int64' }));
  }

  labels(): Int32Array {
    return this.labelArray.slice();
  }

  async read(index: number): Promise<SampleRecord> {
    this.check(index);
    const size = this.height * this.width * this.channels;
    let data = this.pixels.subarray(index * size, (index + 1) * size);
    if (this.layout === 'chw' && this.channels === 3) {
      // RawImage is interleaved (HWC): transpose this one sample.
      const plane = this.height * this.width;
      const hwc = new Uint8Array(size);
      for (let p = 0; p < plane; p++) for (let k = 0; k < 3; k++) hwc[p * 3 + k] = data[k * plane + p] as number;
      data = hwc;
    }
    return {
      input: { kind: 'pixels', image: { data, width: this.width, height: this.height, channels: this.channels } },
      label: this.labelArray[index] as number,
      id: this.sampleId(index),
    };
  }

  gatherBatch(indices: Int32Array): { x: Tensor; y: Tensor } {
    const idx = tensor(indices, { dtype: 'int64' });
    try {
      return { x: indexSelect(this.images, 0, idx), y: indexSelect(this.labelTensor, 0, idx) };
    } finally {
      idx.dispose();
    }
  }

  sampleId(index: number): string {
    return `${this.name}[${index}]`;
  }

  describe(): string {
    return `${this.name} (${this.length.toLocaleString('en-US')} images ${this.height}×${this.width}×${this.channels} in memory, ${this.classes.length} classes)`;
  }

  /** Frees the tensors (the pixel buffer itself belongs to the caller). */
  dispose(): void {
    this.images.dispose();
    this.labelTensor.dispose();
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new RangeError(`${this.name}: index ${index} is outside [0, ${this.length})`);
  }
}

/** An ArrayDataset over `pixels` (N×H×W or N×H×W×C uint8) and `labels`. */
export function tensorDataset(pixels: Uint8Array, labels: ArrayLike<number>, options: ArrayDatasetOptions): ArrayDataset {
  return new ArrayDataset(pixels, Int32Array.from(labels), options);
}
