// Images and labels in IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST): uint8 N×H×W (grey) or
// N×H×W×C images and N labels. IDX files are small and usually gzipped, so they are read whole,
// into a tensor-backed data set: the loader cuts its batches with one index_select (no per-sample
// reads), and the same object serves random access (`read`) for the doctor, packing and galleries.
import { ArrayDataset } from '../loader/array-dataset.js';
import { readIdx } from '../formats/idx.js';
import { DataError } from '../types.js';

/** An IDX pair in memory; `read(i)` gives sample i's pixels, batches are gathered as tensors. */
export class IdxDataset extends ArrayDataset {
  constructor(
    pixels: Uint8Array,
    labels: Int32Array,
    shape: readonly number[],
    classes: readonly string[],
    private readonly title: string,
    private readonly imagesPath: string,
  ) {
    super(pixels, labels, { shape, classes, name: imagesPath });
  }

  override describe(): string {
    return `${this.title} ${this.imagesPath} (${this.length.toLocaleString('en-US')} images ${this.height}×${this.width}${this.channels === 3 ? '×3' : ''}, ${this.classes.length} classes)`;
  }
}

/** `classes` default to '0'..'K-1' from the largest label. */
export function idxDataset(imagesPath: string, labelsPath: string, classes?: readonly string[], name = 'IDX'): IdxDataset {
  const images = readIdx(imagesPath);
  const labelsArr = readIdx(labelsPath);
  const s = images.shape;
  if (images.type !== 'uint8') throw new DataError(imagesPath, `images must be uint8, not ${images.type}`);
  if (!(s.length === 3 || (s.length === 4 && (s[3] === 1 || s[3] === 3))))
    throw new DataError(imagesPath, `images must be N×H×W or N×H×W×C with 1 or 3 channels; shape is [${s.join(', ')}]`);
  const count = s[0] as number;
  if (labelsArr.shape.length !== 1 || labelsArr.shape[0] !== count)
    throw new DataError(labelsPath, `expected ${count} labels (one per image in ${imagesPath}), shape is [${labelsArr.shape.join(', ')}]`);
  const labels = Int32Array.from(labelsArr.data as ArrayLike<number>);
  const maxLabel = labels.reduce((m, l) => Math.max(m, l), -1);
  const bad = labels.findIndex((l) => l < 0 || (classes !== undefined && l >= classes.length));
  if (bad >= 0) throw new DataError(`${labelsPath}[${bad}]`, `label ${labels[bad]} is not a class index${classes ? ` (${classes.length} classes)` : ''}`);
  const names = classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  // A 4-d grey file (N×H×W×1) is the same bytes as N×H×W.
  const shape = s.length === 4 && s[3] === 1 ? s.slice(0, 3) : s;
  return new IdxDataset(images.data as Uint8Array, labels, shape, names, name, imagesPath);
}
