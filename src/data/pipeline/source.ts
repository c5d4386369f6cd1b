// What a data source spec names, before anything is opened: the format (`auto` looks at the name
// and at what is on disk), the NumPy and IDX file forms, and class names given by the user. Every
// command that takes a source (train, eval, predict's model, data check/pack/explain) reads specs
// through this file, so they all accept the same ones:
//
//   fashion-mnist                         Debian's Fashion-MNIST (IDX; splits train and test)
//   <dir>                                 an image folder: one sub-folder per class
//   <dir> with images/ and masks/         segmentation: images and their masks (PNG class ids) by name
//   <file>.csv | .jsonl | .ndjson         a manifest (path, label, optional split and group columns;
//                                         or labels / 0-1 class columns: multi-label; or mask: segmentation)
//   <dir> with CIFAR batches              CIFAR-10/100 binary (splits train and test)
//   <dir> with *-images-idx3-ubyte[.gz]   IDX files, MNIST's layout (train-*, t10k-*)
//   images-idx3-ubyte,labels-idx1-ubyte   one IDX pair
//   <dir> with images.npy [labels.npy]    NumPy arrays; also `images.npy` alone (labels.npy beside
//                                         it is used), `images.npy,labels.npy`, `data.npz` (arrays
//                                         `images` and `labels`) and `data.npz#x,data.npz#y`
//   <dir> with index.json                 a packed folder (`tessera data pack`); a folder of packed
//                                         folders (`<out>/train`, `<out>/test`) gives their splits
//   shard-{000..127}.tar, http(s)://…     WebDataset tar shards (also a folder holding only .tar files)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

import { PACKED_INDEX } from '../formats/packed-index.js';
import { isSegmentationFolder } from '../sources/segmentation.js';

export const SOURCE_FORMATS = ['fashion-mnist', 'idx', 'image-folder', 'segmentation', 'manifest', 'cifar10', 'cifar100', 'npy', 'packed', 'webdataset'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** A source as a user names it. Plain JSON: it is saved with the pipeline. */
export interface SourceSpec {
  source: string;
  /** Default 'auto': judged from the name and the files. */
  format?: SourceFormat | 'auto';
  /**
   * Class names for sources whose labels are integers (NPY, IDX, WebDataset) or to fix a
   * manifest's class order: the names, or a text file with one name a line.
   */
  classes?: readonly string[] | string;
}

/** A problem with the data a user pointed at (not with one of its files); one sentence. */
export class DataSourceError extends Error {
  override name = 'DataSourceError';
}

/** The formats this file reads, for messages. */
export const SOURCE_FORMS =
  'an image folder, a folder of images/ and masks/, a .csv/.jsonl manifest, a CIFAR or IDX folder, images.npy[,labels.npy] or an .npz, a packed folder, .tar shards, or fashion-mnist';

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const NPY_SPEC = /\.np[yz](#[^,]*)?(,|$)/i;
const IDX_FILE = /-idx\d-ubyte(\.gz)?$/i;
export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** The CIFAR splits in `dir` (or the unpacked folder inside it); empty when it is not CIFAR. */
export function cifarSplits(dir: string): { variant: 10 | 100; splits: ('train' | 'test')[] } | undefined {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')]) {
    const has = (f: string) => existsSync(join(d, f));
    const ten = has('data_batch_1.bin') || has('test_batch.bin');
    const hundred = has('train.bin') || has('test.bin');
    if (!ten && !hundred) continue;
    const splits: ('train' | 'test')[] = ten ? [...(has('data_batch_1.bin') ? ['train' as const] : []), ...(has('test_batch.bin') ? ['test' as const] : [])]
      : [...(has('train.bin') ? ['train' as const] : []), ...(has('test.bin') ? ['test' as const] : [])];
    return { variant: ten ? 10 : 100, splits };
  }
  return undefined;
}

/** IDX files of a folder in MNIST's layout: split → [images, labels]. */
export function idxFolder(dir: string): Map<'train' | 'test', [string, string]> {
  const out = new Map<'train' | 'test', [string, string]>();
  for (const [split, prefix] of [['train', 'train'], ['test', 't10k']] as const) {
    for (const gz of ['.gz', '']) {
      const images = join(dir, `${prefix}-images-idx3-ubyte${gz}`);
      const labels = join(dir, `${prefix}-labels-idx1-ubyte${gz}`);
      if (existsSync(images) && existsSync(labels)) {
        out.set(split, [images, labels]);
        break;
      }
    }
  }
  return out;
}

/** Sub-folders of `dir` that are packed folders (`tessera data pack` of a source with splits). */
export function packedSplits(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(dir, e.name, PACKED_INDEX)))
    .map((e) => e.name)
    .sort();
}

/** The .tar shards directly in `dir`, sorted, when it holds nothing else but hidden files and a classes file. */
export function shardFolder(dir: string): string[] | undefined {
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  const tars = entries.filter((e) => e.isFile() && /\.(tar|tar\.gz|tgz)$/i.test(e.name)).map((e) => join(dir, e.name)).sort();
  const others = entries.filter((e) => !/\.(tar|tar\.gz|tgz)$/i.test(e.name) && e.name !== 'classes.txt');
  return tars.length > 0 && others.length === 0 ? tars : undefined;
}

/** What `source` holds, judged from its name and contents. */
export function detectFormat(source: string): SourceFormat {
  if (source === 'fashion-mnist') return 'fashion-mnist';
  if (isUrl(source) || /\.(tar|tar\.gz|tgz)$/i.test(source) || /\{[^}]*(\.\.|,)[^}]*\}/.test(source)) return 'webdataset';
  if (NPY_SPEC.test(source)) return 'npy';
  if (source.includes(',') && source.split(',').every((p) => IDX_FILE.test(p))) return 'idx';
  if (!existsSync(source)) throw new DataSourceError(`data source ${source} does not exist`);
  const ext = extname(source).toLowerCase();
  if (['.csv', '.jsonl', '.ndjson'].includes(ext)) return 'manifest';
  if (!isDir(source)) throw new DataSourceError(`data source ${source} is a file that is not a manifest (.csv, .jsonl), an array (.npy, .npz) or a tar shard`);
  if (existsSync(join(source, PACKED_INDEX)) || packedSplits(source).length > 0) return 'packed';
  const cifar = cifarSplits(source);
  if (cifar) return cifar.variant === 10 ? 'cifar10' : 'cifar100';
  if (existsSync(join(source, 'images.npy'))) return 'npy';
  if (idxFolder(source).size > 0) return 'idx';
  if (shardFolder(source)) return 'webdataset';
  if (isSegmentationFolder(source)) return 'segmentation';
  return 'image-folder';
}

export interface NpyFiles {
  /** `a.npy` or `a.npz#key`. */
  images: string;
  labels?: string;
  /** A classes.txt found beside the arrays. */
  classesFile?: string;
}

/** The arrays a NumPy spec names (see the header). */
export function npyFiles(spec: string): NpyFiles {
  const parts = spec.split(',');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new DataSourceError(`${spec}: give NumPy sources as images.npy, images.npy,labels.npy, data.npz or data.npz#images,data.npz#labels`);
  const [first, second] = parts as [string, string | undefined];
  const beside = (dir: string) => (existsSync(join(dir, 'classes.txt')) ? { classesFile: join(dir, 'classes.txt') } : {});
  if (isDir(first)) {
    if (second !== undefined) throw new DataSourceError(`${spec}: a folder of arrays takes no second part`);
    const labels = join(first, 'labels.npy');
    return { images: join(first, 'images.npy'), ...(existsSync(labels) ? { labels } : {}), ...beside(first) };
  }
  if (second !== undefined) return { images: first, labels: second, ...beside(dirname(first)) };
  if (/\.npz$/i.test(first)) return { images: `${first}#images`, labels: `${first}#labels`, ...beside(dirname(first)) };
  // `images.npy` alone: labels.npy beside it, when there is one (and it is not the images file itself).
  const labels = join(dirname(first), 'labels.npy');
  const own = /(^|\/)labels\.npy$/i.test(first);
  return { images: first, ...(!own && existsSync(labels) ? { labels } : {}), ...beside(dirname(first)) };
}

/** Class names from a list or a text file (one name a line, blank lines ignored). */
export function classNames(classes: readonly string[] | string, what = 'data.classes'): string[] {
  let names: string[];
  if (typeof classes === 'string') {
    let text: string;
    try {
      text = readFileSync(classes, 'utf8');
    } catch (e) {
      throw new DataSourceError(`${what}: cannot read the classes file ${classes} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  } else names = [...classes];
  const where = typeof classes === 'string' ? `${what} (${classes})` : what;
  if (names.length === 0) throw new DataSourceError(`${where} lists no class names`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new DataSourceError(`${where} lists the class "${n}" twice`);
    seen.add(n);
  }
  return names;
}
