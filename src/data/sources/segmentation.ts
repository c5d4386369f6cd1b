// Segmentation data: images with a mask each — a PNG of class ids, the image's size, 255 = ignore.
//
//   <dir>/images/<stem>.<jpg|png|…>   the images (sub-folders allowed)
//   <dir>/masks/<stem>.png            their masks, matched by the path below images/ and masks/
//                                     without its extension
//   <dir>/classes.txt                 class names, one a line, id 0 first (optional; read by the opener)
//
// Class names: data.classes, else classes.txt, else `class 0` … `class K-1` with K one more than the
// largest id in the masks (255 aside) — which takes reading every mask once, so the opener says so.
// A manifest can list the same pairs (a `mask` column; manifest.ts): both give samples whose record
// carries the mask as its target (SampleRecord.target), which the joint pipeline transforms with
// the image (transforms/joint.ts).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

import { decodeMaskPng } from '../image/mask.js';
import { DataError, type IndexedDataset, type SampleRecord } from '../types.js';
import { listImageFiles } from './image-folder.js';

export interface SegmentationDataset extends IndexedDataset {
  readonly paths: readonly string[];
  readonly maskPaths: readonly string[];
}

const stem = (root: string, path: string) => relative(root, path).replace(/\.[^./\\]*$/, '');

/** Whether `dir` is laid out as a segmentation folder (images/ and masks/ beside each other). */
export function isSegmentationFolder(dir: string): boolean {
  return existsSync(join(dir, 'images')) && existsSync(join(dir, 'masks'));
}

/** Reads a file or names it in a DataError (`what` says which: the image, its mask). */
export async function readSampleFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new DataError(path, `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Image/mask pairs as a data set; `classes` names the ids (see the header for where they come from). */
export function maskedDataset(o: { paths: readonly string[]; maskPaths: readonly string[]; classes: readonly string[]; describe: string; groups?: readonly (string | undefined)[]; where?: (i: number) => string }): SegmentationDataset {
  const labels = new Int32Array(o.paths.length).fill(-1); // per-pixel classes: no class per image
  return {
    kind: 'indexed',
    length: o.paths.length,
    classes: o.classes,
    paths: o.paths,
    maskPaths: o.maskPaths,
    labels: () => labels.slice(),
    ...(o.groups ? { groups: () => o.groups } : {}),
    async read(index: number): Promise<SampleRecord> {
      const path = o.paths[index];
      const maskPath = o.maskPaths[index];
      if (path === undefined || maskPath === undefined) throw new RangeError(`${o.describe}: sample index ${index} is out of range [0, ${o.paths.length})`);
      const where = o.where ? `, listed at ${o.where(index)}` : '';
      const [bytes, mask] = await Promise.all([readSampleFile(path, `the image${where}`), readSampleFile(maskPath, `the mask of ${path}${where}`)]);
      const rec: SampleRecord = { input: { kind: 'encoded', bytes }, label: -1, id: path, target: { kind: 'mask', mask: { kind: 'encoded', bytes: mask } } };
      const group = o.groups?.[index];
      if (group !== undefined) rec.group = group;
      return rec;
    },
    sampleId: (index: number) => o.paths[index] ?? `${o.describe}[${index}]`,
    describe: () => o.describe,
  };
}

/** `class 0` … `class K-1`, K one more than the largest id in the masks (255 aside). */
export async function classesFromMasks(maskPaths: readonly string[]): Promise<string[]> {
  let top = -1;
  for (const p of maskPaths) {
    const m = decodeMaskPng(await readSampleFile(p, 'the mask'), p);
    for (let i = 0; i < m.data.length; i++) {
      const v = m.data[i] as number;
      if (v !== 255 && v > top) top = v;
    }
  }
  if (top < 0) throw new DataError(maskPaths[0] ?? 'masks', `every pixel of the ${maskPaths.length} masks is 255 (ignore): nothing to learn`);
  return Array.from({ length: top + 1 }, (_, k) => `class ${k}`);
}

/**
 * A segmentation folder (see the header). `classes`: the names given (data.classes or classes.txt). Rejects with a
 * DataError naming the folder when images and masks do not pair up.
 */
export async function segmentationFolder(root: string, classes?: readonly string[]): Promise<{ dataset: SegmentationDataset; notes: string[] }> {
  const imagesDir = join(root, 'images');
  const masksDir = join(root, 'masks');
  for (const d of [imagesDir, masksDir]) {
    const s = await stat(d).catch(() => undefined);
    if (!s?.isDirectory()) throw new DataError(d, 'missing: a segmentation folder holds images/ and masks/ side by side');
  }
  const images = await listImageFiles([imagesDir]);
  if (images.length === 0) throw new DataError(imagesDir, 'no image files');
  const masks = new Map((await listImageFiles([masksDir], { extensions: ['png'] })).map((p) => [stem(masksDir, p), p]));
  const byStem = new Map<string, string>();
  for (const p of images) {
    const s = stem(imagesDir, p);
    const other = byStem.get(s);
    if (other) throw new DataError(p, `has the same name as ${other} but for the extension: a mask could belong to either`);
    byStem.set(s, p);
  }
  const unmatched = images.filter((p) => !masks.has(stem(imagesDir, p)));
  if (unmatched.length > 0)
    throw new DataError(root, `${unmatched.length} of ${images.length} images have no mask (e.g. ${relative(root, unmatched[0] as string)} needs masks/${stem(imagesDir, unmatched[0] as string)}.png)`);
  const orphans = [...masks.keys()].filter((s) => !byStem.has(s));
  if (orphans.length > 0) throw new DataError(root, `${orphans.length} masks have no image (e.g. masks/${orphans[0]}.png)`);
  const maskPaths = images.map((p) => masks.get(stem(imagesDir, p)) as string);
  const notes: string[] = [];
  const names = classes ? [...classes] : await classesFromMasks(maskPaths);
  if (!classes) notes.push(`${names.length} classes from the largest id in the ${maskPaths.length} masks (a classes.txt in ${root} names them and saves reading every mask)`);
  const describe = `segmentation folder ${resolve(root)} (${names.length} classes, ${images.length.toLocaleString('en-US')} images with masks)`;
  return { dataset: maskedDataset({ paths: images, maskPaths, classes: names, describe }), notes };
}
