// What `tessera data pack <source>` accepts, opened as one data set per split. Splits become one
// packed folder each (`<out>/train`, `<out>/test`, …): the packed index has no split column, and
// a folder per split is what a training run points at anyway. Every split of a source shares its
// class list, so label 3 means the same class in all of them.
//
//   fashion-mnist              Debian's Fashion-MNIST: splits train and test
//   <dir> with CIFAR batches   CIFAR-10/100 binary: splits train and test (those present)
//   <dir>                      an image folder (one sub-folder per class); with --split s, <dir>/s
//   <file>.csv|.jsonl          a manifest; its split column, when it has one, gives the splits
//   a.npy[,labels.npy]         NumPy arrays (also archive.npz#key)
import { existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { cifarDataset } from '../sources/cifar.js';
import { fashionMnist, FASHION_MNIST_DIR } from '../sources/fashion-mnist.js';
import { imageFolder } from '../sources/image-folder.js';
import { manifest, type ManifestDataset } from '../sources/manifest.js';
import { npyDataset } from '../sources/npy.js';
import { DataError, type IndexedDataset, type SampleRecord } from '../types.js';

export interface PackInput {
  /** The split's name, when the source has splits; it names the output sub-folder. */
  split?: string;
  dataset: IndexedDataset;
}

/** Rows of manifests whose split cell is empty, when other rows have one. */
export const UNASSIGNED_SPLIT = 'unassigned';

/**
 * Opens `spec` as the data sets to pack. With `split`, only that split (packed into the output
 * folder itself). Rejects with a DataError naming the path when it cannot be opened.
 */
export async function openPackInputs(spec: string, o: { split?: string } = {}): Promise<PackInput[]> {
  if (spec === 'fashion-mnist') {
    if (!existsSync(FASHION_MNIST_DIR)) throw new DataError(FASHION_MNIST_DIR, 'Fashion-MNIST is not installed here (apt-get install dataset-fashion-mnist, or set TESSERA_FASHION_MNIST)');
    return pick(['train', 'test'], o.split, spec).map((split) => ({ split, dataset: fashionMnist(split as 'train' | 'test') }));
  }
  if (/\.np[yz](#[^,]*)?(,|$)/i.test(spec)) return [{ dataset: openNpy(spec) }];
  if (!existsSync(spec)) throw new DataError(spec, 'no such file or folder');
  if (statSync(spec).isDirectory()) {
    const cifar = cifarSplits(spec);
    if (cifar.length) return pick(cifar, o.split, spec).map((split) => ({ split, dataset: cifarDataset(spec, { split: split as 'train' | 'test' }) }));
    if (o.split === undefined) return [{ dataset: await imageFolder(spec) }];
    const sub = join(spec, o.split);
    if (!existsSync(sub)) throw new DataError(spec, `has no sub-folder "${o.split}" for the split asked for`);
    return [{ split: o.split, dataset: await imageFolder(sub) }];
  }
  if (['.csv', '.jsonl', '.ndjson'].includes(extname(spec).toLowerCase())) return manifestSplits(await manifest(spec), o.split);
  throw new DataError(spec, 'not a source that can be packed (an image folder, a CIFAR folder, a .csv/.jsonl manifest, images.npy[,labels.npy] or fashion-mnist)');
}

function pick(splits: readonly string[], wanted: string | undefined, spec: string): string[] {
  if (wanted === undefined) return [...splits];
  if (!splits.includes(wanted)) throw new DataError(spec, `has no split "${wanted}" (splits: ${splits.join(', ')})`);
  return [wanted];
}

/** The CIFAR splits present in `dir` (or in the unpacked folder inside it); empty when not CIFAR. */
function cifarSplits(dir: string): string[] {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')]) {
    const has = (f: string) => existsSync(join(d, f));
    const splits = [...(has('data_batch_1.bin') || has('train.bin') ? ['train'] : []), ...(has('test_batch.bin') || has('test.bin') ? ['test'] : [])];
    if (splits.length) return splits;
  }
  return [];
}

function openNpy(spec: string): IndexedDataset {
  const [images, labels, ...rest] = spec.split(',');
  if (rest.length || !images) throw new DataError(spec, 'give NumPy sources as images.npy or images.npy,labels.npy');
  return npyDataset({ images, ...(labels ? { labels } : {}) });
}

/** One input per split value of the manifest (rows with an empty split go to UNASSIGNED_SPLIT). */
function manifestSplits(m: ManifestDataset, wanted: string | undefined): PackInput[] {
  const splits = m.splits();
  if (m.splitNames.length === 0) {
    if (wanted !== undefined) throw new DataError(m.file, `split "${wanted}" was asked for, but the manifest has no split column`);
    return [{ dataset: m }];
  }
  const names = splits.some((s) => s === undefined) ? [...m.splitNames, UNASSIGNED_SPLIT] : [...m.splitNames];
  return pick(names, wanted, m.file).map((split) => {
    checkSplitName(split, m.file);
    const rows = splits.flatMap((s, i) => ((s ?? UNASSIGNED_SPLIT) === split ? [i] : []));
    return { split, dataset: subset(m, rows, `${m.describe().replace(/ \(.*$/, '')} [${split}]`) };
  });
}

/** Split values become folder names: refuse anything that is not a plain name. */
function checkSplitName(split: string, file: string): void {
  if (!/^[\w.-]+$/.test(split) || split === '.' || split === '..')
    throw new DataError(file, `split "${split}" cannot name an output folder (use letters, digits, ".", "_" and "-")`);
}

/** The rows `indices` of `d`, in that order, with d's classes. */
export function subset(d: IndexedDataset & { paths?: readonly string[] }, indices: readonly number[], name: string): IndexedDataset & { paths?: readonly string[] } {
  const labels = d.labels();
  const mine = Int32Array.from(indices, (i) => labels[i] as number);
  const paths = d.paths ? indices.map((i) => d.paths?.[i] as string) : undefined;
  return {
    kind: 'indexed',
    length: indices.length,
    classes: d.classes,
    ...(paths ? { paths } : {}),
    labels: () => mine.slice(),
    async read(i): Promise<SampleRecord> {
      const k = indices[i];
      if (k === undefined) throw new DataError(`${name}[${i}]`, `index out of range (0..${indices.length - 1})`);
      return d.read(k);
    },
    describe: () => `${name} (${d.classes.length} classes, ${indices.length.toLocaleString('en-US')} samples)`,
  };
}
