// Images and labels in IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST): uint8 N×H×W (grey) or
// N×H×W×C images and N labels. IDX files are small and usually gzipped, so they are read whole.
import { readIdx } from '../formats/idx.js';
import { DataError, type IndexedDataset } from '../types.js';

/** `classes` default to '0'..'K-1' from the largest label. */
export function idxDataset(imagesPath: string, labelsPath: string, classes?: readonly string[], name = 'IDX'): IndexedDataset {
  const images = readIdx(imagesPath);
  const labelsArr = readIdx(labelsPath);
  const s = images.shape;
  if (images.type !== 'uint8') throw new DataError(imagesPath, `images must be uint8, not ${images.type}`);
  if (!(s.length === 3 || (s.length === 4 && (s[3] === 1 || s[3] === 3))))
    throw new DataError(imagesPath, `images must be N×H×W or N×H×W×C with 1 or 3 channels; shape is [${s.join(', ')}]`);
  const [count, height, width] = s as [number, number, number];
  const channels = (s[3] ?? 1) as 1 | 3;
  if (labelsArr.shape.length !== 1 || labelsArr.shape[0] !== count)
    throw new DataError(labelsPath, `expected ${count} labels (one per image in ${imagesPath}), shape is [${labelsArr.shape.join(', ')}]`);
  const labels = Int32Array.from(labelsArr.data as ArrayLike<number>);
  const maxLabel = labels.reduce((m, l) => Math.max(m, l), -1);
  const bad = labels.findIndex((l) => l < 0 || (classes !== undefined && l >= classes.length));
  if (bad >= 0) throw new DataError(`${labelsPath}[${bad}]`, `label ${labels[bad]} is not a class index${classes ? ` (${classes.length} classes)` : ''}`);
  const names = classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  const pixels = images.data as Uint8Array;
  const per = height * width * channels;
  return {
    kind: 'indexed',
    length: count,
    classes: names,
    labels: () => labels.slice(),
    async read(index) {
      const id = `${imagesPath}[${index}]`;
      if (!Number.isInteger(index) || index < 0 || index >= count) throw new DataError(id, `index out of range (0..${count - 1})`);
      const data = pixels.slice(index * per, (index + 1) * per);
      return { input: { kind: 'pixels', image: { data, width, height, channels } }, label: labels[index] as number, id };
    },
    describe: () => `${name} ${imagesPath} (${count.toLocaleString('en-US')} images ${height}×${width}${channels === 3 ? '×3' : ''}, ${names.length} classes)`,
  };
}
