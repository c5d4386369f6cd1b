// The one opener: a source spec (source.ts) → the data sets it holds. Training, `tessera eval`,
// `data check`, `data pack` and `data explain` all open their data here, so they accept the same
// sources; the parts a source holds (Fashion-MNIST's train and test, a manifest's split values,
// a folder of packed splits) come back named, and each command picks the parts it needs.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { expandBraces } from '../formats/braces.js';
import { PACKED_INDEX } from '../formats/packed-index.js';
import { cifarDataset } from '../sources/cifar.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR } from '../sources/fashion-mnist.js';
import { idxDataset } from '../sources/idx.js';
import { imageFolder } from '../sources/image-folder.js';
import { manifest, type ManifestDataset } from '../sources/manifest.js';
import { npyDataset } from '../sources/npy.js';
import { packedDataset } from '../sources/packed.js';
import { segmentationFolder } from '../sources/segmentation.js';
import { webDataset } from '../sources/webdataset.js';
import { subset } from '../subset.js';
import type { Dataset, IndexedDataset, TargetKind } from '../types.js';
import { shardClasses, type ShardScan } from './shards.js';
import { cifarSplits, classNames, DataSourceError, detectFormat, idxFolder, npyFiles, packedSplits, shardFolder, type SourceFormat, type SourceSpec } from './source.js';

/** One data set of a source; `split` names it when the source has several. */
export interface SourcePart {
  split?: string;
  dataset: Dataset;
}

export interface OpenedSource {
  spec: SourceSpec;
  format: SourceFormat;
  /** Every part, in a fixed order: one unnamed part, or one per split. All share `classes`. */
  parts: SourcePart[];
  classes: readonly string[];
  /** What each sample is labelled with: a class (most sources), a mask (segmentation) or several labels (multi-label manifests). */
  targets: TargetKind;
  /** What the opener decided on the user's behalf (where class names came from, …), in words. */
  notes: string[];
  /** WebDataset: the sample ids found by scanning the shards (counts of held-out parts). */
  scan?: ShardScan;
  /** Frees what the parts hold in memory (tensor-backed data sets). */
  dispose(): void;
}

export interface OpenOptions {
  /** Open only this part: a split of the source, or for an image folder its sub-folder of that name. */
  split?: string;
  /** Streams: visit shards in a new order each epoch (default true); false keeps archive order. */
  shuffleShards?: boolean;
  /** A manifest with a split column as one part, in row order, its rows' splits given by `splits()` (for the doctor). */
  wholeManifest?: boolean;
}

const isDirectory = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Rows of manifests whose split cell is empty, when other rows have one. */
export const UNASSIGNED_SPLIT = 'unassigned';

/** Opens `spec`. Rejects with a DataSourceError or a DataError naming what is wrong. */
export async function openSource(spec: SourceSpec, o: OpenOptions = {}): Promise<OpenedSource> {
  const format = spec.format === undefined || spec.format === 'auto' ? detectFormat(spec.source) : spec.format;
  const notes: string[] = [];
  const given = spec.classes === undefined ? undefined : classNames(spec.classes);
  const refuseClasses = (what: string) => {
    if (given) throw new DataSourceError(`data.classes was given, but ${what}; leave it out`);
  };
  let parts: SourcePart[];
  let scan: ShardScan | undefined;
  let targets: TargetKind = 'class';
  switch (format) {
    case 'fashion-mnist': {
      refuseClasses('Fashion-MNIST names its ten classes itself');
      const files = idxFolder(FASHION_MNIST_DIR);
      if (files.size === 0) throw new DataSourceError(`Fashion-MNIST is not installed at ${FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist, or set TESSERA_FASHION_MNIST)`);
      parts = [...files].map(([split, [images, labels]]) => ({ split, dataset: idxDataset(images, labels, FASHION_MNIST_CLASSES, `Fashion-MNIST ${split}`) }));
      break;
    }
    case 'idx': {
      const pair = spec.source.split(',');
      const files = pair.length === 2 ? new Map([['', pair as [string, string]]]) : idxFolder(spec.source);
      if (files.size === 0) throw new DataSourceError(`${spec.source}: no IDX files (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], or images,labels)`);
      parts = [...files].map(([split, [images, labels]]) => ({ ...(split ? { split } : {}), dataset: idxDataset(images, labels, given) }));
      break;
    }
    case 'cifar10':
    case 'cifar100': {
      refuseClasses('CIFAR names its classes in its own files');
      const found = cifarSplits(spec.source);
      if (!found) throw new DataSourceError(`${spec.source}: no CIFAR binary batches here (expected data_batch_1.bin … test_batch.bin, or train.bin/test.bin)`);
      const variant = format === 'cifar10' ? 10 : 100;
      parts = found.splits.map((split) => ({ split, dataset: cifarDataset(spec.source, { split, variant }) }));
      break;
    }
    case 'image-folder':
      refuseClasses("an image folder's classes are its sub-folders");
      parts = [await imageFolderPart(spec.source, o.split)];
      break;
    case 'segmentation': {
      const file = join(spec.source, 'classes.txt');
      const names = given ?? (existsSync(file) ? classNames(file, 'classes.txt') : undefined);
      if (!given && names) notes.push(`class names from ${file}`);
      const s = await segmentationFolder(spec.source, names);
      notes.push(...s.notes);
      parts = [{ dataset: s.dataset }];
      targets = 'mask';
      break;
    }
    case 'manifest': {
      const whole = await manifest(spec.source, given ? { classes: given } : {});
      parts = o.wholeManifest ? [{ dataset: whole }] : manifestParts(whole);
      targets = whole.targets;
      break;
    }
    case 'npy': {
      const files = npyFiles(spec.source);
      const names = given ?? (files.classesFile ? classNames(files.classesFile, 'classes.txt') : undefined);
      if (!given && files.classesFile) notes.push(`class names from ${files.classesFile}`);
      const d = npyDataset({ images: files.images, ...(files.labels ? { labels: files.labels } : {}), ...(names ? { classes: names } : {}) });
      if (!files.labels) notes.push(`no labels: ${spec.source} names no labels.npy (give images.npy,labels.npy)`);
      notes.push(...d.notes);
      parts = [{ dataset: d }];
      break;
    }
    case 'packed': {
      refuseClasses('a packed folder keeps the class names it was packed with');
      const own = existsSync(join(spec.source, PACKED_INDEX));
      parts = own ? [{ dataset: packedDataset(spec.source) }] : packedSplits(spec.source).map((split) => ({ split, dataset: packedDataset(join(spec.source, split)) }));
      if (parts.length === 0) throw new DataSourceError(`${spec.source}: no ${PACKED_INDEX} (made by tessera data pack) in it or in its sub-folders`);
      break;
    }
    case 'webdataset': {
      const shards = (isDirectory(spec.source) ? shardFolder(spec.source) : undefined) ?? expandBraces(spec.source);
      const found = await shardClasses(shards, spec.classes);
      scan = found.scan;
      notes.push(`classes from ${found.from}`);
      if (scan) notes.push(`${scan.ids.length.toLocaleString('en-US')} samples in ${shards.length} shard${shards.length === 1 ? '' : 's'}`);
      parts = [{
        dataset: webDataset(shards, {
          classes: found.classes,
          ...(scan ? { lengthHint: scan.ids.length } : {}),
          ...(o.shuffleShards === false ? { shuffleShards: false } : {}),
        }),
      }];
      break;
    }
  }
  if (o.split !== undefined && format !== 'image-folder') parts = pickPart(parts, o.split, spec.source);
  const classes = parts[0]?.dataset.classes ?? [];
  for (const p of parts) {
    if (p.dataset.classes.join('\u0000') !== classes.join('\u0000')) throw new DataSourceError(`${spec.source}: its parts disagree on the class list`);
  }
  return {
    spec,
    format,
    parts,
    classes,
    targets,
    notes,
    ...(scan ? { scan } : {}),
    dispose() {
      for (const p of parts) (p.dataset as Partial<{ dispose(): void }>).dispose?.();
    },
  };
}

async function imageFolderPart(root: string, split: string | undefined): Promise<SourcePart> {
  if (split === undefined) return { dataset: await imageFolder(root) };
  const sub = join(root, split);
  if (!existsSync(sub)) throw new DataSourceError(`${root} has no sub-folder "${split}" for the split asked for`);
  return { split, dataset: await imageFolder(sub) };
}

function pickPart(parts: SourcePart[], wanted: string, source: string): SourcePart[] {
  const named = parts.filter((p) => p.split !== undefined).map((p) => p.split as string);
  if (named.length === 0) throw new DataSourceError(`${source}: split "${wanted}" was asked for, but the source has no splits`);
  const found = parts.filter((p) => p.split === wanted);
  if (found.length === 0) throw new DataSourceError(`${source} has no split "${wanted}" (splits: ${named.join(', ')})`);
  return found;
}

/** One part per split value of the manifest (rows with an empty split go to UNASSIGNED_SPLIT), or the whole manifest. */
function manifestParts(m: ManifestDataset): SourcePart[] {
  if (m.splitNames.length === 0) return [{ dataset: m }];
  const splits = m.splits();
  const names = splits.some((s) => s === undefined) ? [...m.splitNames, UNASSIGNED_SPLIT] : [...m.splitNames];
  const base = m.describe().replace(/ \(.*$/, '');
  return names.map((split) => {
    const rows = splits.flatMap((s, i) => ((s ?? UNASSIGNED_SPLIT) === split ? [i] : []));
    return { split, dataset: subset(m, rows, `${base} [${split}]`) };
  });
}

/** The part training learns from: 'train', or the only part. */
export function trainingPart(o: OpenedSource): Dataset {
  if (o.parts.length === 1 && o.parts[0]?.split === undefined) return (o.parts[0] as SourcePart).dataset;
  const train = o.parts.find((p) => p.split === 'train');
  if (!train) throw new DataSourceError(`${o.spec.source} has splits but no 'train' part (splits: ${o.parts.map((p) => p.split).join(', ')})`);
  return train.dataset;
}

/** The named part (a source's own 'test' or 'val'), when it has one. */
export function namedPart(o: OpenedSource, split: 'test' | 'val'): Dataset | undefined {
  return o.parts.find((p) => p.split === split)?.dataset;
}

/** What to evaluate on when a source is given as a test set: its 'test' part, or the only part. */
export function evaluationPart(o: OpenedSource): Dataset {
  const test = namedPart(o, 'test');
  if (test) return test;
  if (o.parts.length === 1) return (o.parts[0] as SourcePart).dataset;
  throw new DataSourceError(`${o.spec.source} has several parts and none named 'test' (parts: ${o.parts.map((p) => p.split).join(', ')}); pick one`);
}

/** Indexed or refused, with what to do about a stream. */
export function indexed(d: Dataset, what: string): IndexedDataset {
  if (d.kind === 'indexed') return d;
  throw new DataSourceError(`${what} (${d.describe()}) is streamed; pack it first (tessera data pack) to use it here`);
}
