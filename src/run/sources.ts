// Opening the data a run's config names: which reader a path needs (`format: auto` looks at what
// is there), and where its test set comes from. The result is plain data sets; loaders, splits and
// transforms are set up in data.ts.
import { existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import type { RunConfig } from '../config/schema.js';
import { tensorDataset } from '../data/loader/array-dataset.js';
import { cifarDataset } from '../data/sources/cifar.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../data/sources/fashion-mnist.js';
import { imageFolder } from '../data/sources/image-folder.js';
import { manifest } from '../data/sources/manifest.js';
import { npyDataset } from '../data/sources/npy.js';
import { packedDataset } from '../data/sources/packed.js';
import { webDataset } from '../data/sources/webdataset.js';
import type { Dataset, IndexedDataset } from '../data/types.js';

export type SourceFormat = Exclude<RunConfig['data']['format'], 'auto'>;

/** A problem with the data a user pointed at; the CLI prints its message as one sentence. */
export class DataSourceError extends Error {
  override name = 'DataSourceError';
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** What `source` holds, judged from its name and contents. */
export function detectFormat(source: string): SourceFormat {
  if (source === 'fashion-mnist') return 'fashion-mnist';
  if (/^https?:\/\//.test(source) || /\.tar(\.gz)?$/.test(source) || /\{\d+\.\.\d+\}/.test(source)) return 'webdataset';
  if (!existsSync(source)) throw new DataSourceError(`data source ${source} does not exist`);
  const ext = extname(source).toLowerCase();
  if (ext === '.csv' || ext === '.jsonl') return 'manifest';
  if (ext === '.npy' || ext === '.npz') return 'npy';
  if (!isDir(source)) throw new DataSourceError(`data source ${source} is a file that is not a manifest (.csv, .jsonl), an array (.npy, .npz) or a tar shard`);
  if (existsSync(join(source, 'index.json'))) return 'packed';
  if (existsSync(join(source, 'data_batch_1.bin'))) return 'cifar10';
  if (existsSync(join(source, 'train.bin')) && existsSync(join(source, 'test.bin'))) return 'cifar100';
  if (existsSync(join(source, 'images.npy'))) return 'npy';
  return 'image-folder';
}

export interface OpenedSources {
  format: SourceFormat;
  train: Dataset;
  /** The source's own test set (Fashion-MNIST's, CIFAR's, a manifest's `test` split), when it has one. */
  test?: IndexedDataset;
  /** A manifest's `val` split, when it has one. */
  val?: IndexedDataset;
}

function npyFiles(path: string): { images: string; labels?: string } {
  if (isDir(path)) {
    const labels = join(path, 'labels.npy');
    return { images: join(path, 'images.npy'), ...(existsSync(labels) ? { labels } : {}) };
  }
  // `images.npy,labels.npy`, or an .npz holding `images` and `labels`.
  const [images, labels] = path.split(',');
  if (images?.endsWith('.npz') && labels === undefined) return { images: `${images}#images`, labels: `${images}#labels` };
  return { images: images as string, ...(labels ? { labels } : {}) };
}

/** Opens one source in one format (the training set, or the split named by `split`). */
async function openOne(path: string, format: SourceFormat, split: 'train' | 'test' | 'val'): Promise<Dataset> {
  switch (format) {
    case 'fashion-mnist': {
      if (split === 'val') throw new DataSourceError('Fashion-MNIST has no validation split of its own');
      const d = loadFashionMnist(split);
      return tensorDataset(d.images, d.labels, { shape: [d.count, d.height, d.width], classes: FASHION_MNIST_CLASSES, name: `fashion-mnist-${split}` });
    }
    case 'cifar10':
    case 'cifar100':
      if (split === 'val') throw new DataSourceError('CIFAR has no validation split of its own');
      return cifarDataset(path, { split, variant: format === 'cifar10' ? 10 : 100 });
    case 'image-folder':
      return imageFolder(path);
    case 'manifest':
      return manifest(path, { split });
    case 'npy':
      return npyDataset(npyFiles(path));
    case 'packed':
      return packedDataset(path);
    case 'webdataset':
      return webDataset(path);
  }
}

/** The training source and, where the format has them, its own test and validation sets. */
export async function openSources(data: RunConfig['data']): Promise<OpenedSources> {
  const format = data.format === 'auto' ? detectFormat(data.source) : data.format;
  if (format === 'manifest') {
    const whole = await manifest(data.source);
    const names = new Set(whole.splitNames ?? []);
    if (names.size > 0) {
      if (!names.has('train')) throw new DataSourceError(`manifest ${data.source} has a split column but no 'train' rows (splits: ${[...names].join(', ')})`);
      const out: OpenedSources = { format, train: await manifest(data.source, { split: 'train' }) };
      if (names.has('test')) out.test = await manifest(data.source, { split: 'test' });
      if (names.has('val')) out.val = await manifest(data.source, { split: 'val' });
      return attachTest(out, data);
    }
    return attachTest({ format, train: whole }, data);
  }
  const train = await openOne(data.source, format, 'train');
  const out: OpenedSources = { format, train };
  if (format === 'fashion-mnist' || format === 'cifar10' || format === 'cifar100') out.test = (await openOne(data.source, format, 'test')) as IndexedDataset;
  return attachTest(out, data);
}

/** A separate test set from `data.test` (same format as the source unless it says otherwise). */
async function attachTest(out: OpenedSources, data: RunConfig['data']): Promise<OpenedSources> {
  if (data.test === undefined) return out;
  const format = detectFormat(data.test);
  const test = await openOne(data.test, format, 'test');
  if (test.kind !== 'indexed') throw new DataSourceError(`test set ${data.test}: a streamed source cannot be a test set; pack it first (tessera data pack)`);
  const a = out.train.classes.join('\u0000');
  const b = test.classes.join('\u0000');
  if (a !== b)
    throw new DataSourceError(`test set ${data.test} has classes [${test.classes.join(', ')}] but the training set has [${out.train.classes.join(', ')}]`);
  return { ...out, test };
}
