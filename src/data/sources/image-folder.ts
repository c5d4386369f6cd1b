// An image folder with torchvision `ImageFolder` semantics: every sub-folder of the root is a class
// (classes sorted by code point, as Python's `sorted` does), every image file below it — at any
// depth — is a sample of that class. Files are listed in the order torchvision lists them:
// `sorted(os.walk(class_dir, followlinks=True))`, i.e. directories sorted by their whole path
// string, then file names sorted within each directory.
//
// Where we differ from torchvision, on purpose:
// - hidden entries (names starting with '.', e.g. `.ipynb_checkpoints`, `.DS_Store`) are skipped;
// - a symlink cycle does not loop, and a file reached twice through links is listed once;
// - an empty class folder is a warning (torchvision raises), and keeps its label index.
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { DataError, type IndexedDataset, type SampleRecord } from '../types.js';

/** Extensions listed by default (compared case-insensitively, without the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'avif'];

export interface ImageFolderOptions {
  /** Extensions to list, with or without the dot; case-insensitive. Default: IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
  /** Follow symbolic links to files and folders (default true, as torchvision does). When false, links are skipped. */
  followSymlinks?: boolean;
}

export interface ImageFolderDataset extends IndexedDataset {
  readonly root: string;
  /** Every sample's file path (root joined with the path below it), in sample order. */
  readonly paths: readonly string[];
  /** Things a user should know about the listing: empty classes, broken links, files reached twice. */
  readonly warnings: readonly string[];
}

/** Python's `sorted` on str compares code points; JS `<` compares UTF-16 units. They differ above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

const isHidden = (name: string) => name.startsWith('.');

/** What a directory entry is once links are resolved (or 'skip'). */
async function entryKind(dir: string, e: Dirent, follow: boolean, warn: (m: string) => void): Promise<'dir' | 'file' | 'skip'> {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (!e.isSymbolicLink() || !follow) return 'skip';
  try {
    const s = await stat(join(dir, e.name));
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'skip';
  } catch {
    warn(`${join(dir, e.name)}: broken symbolic link, skipped`);
    return 'skip';
  }
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(dir, `cannot list the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

interface Listed {
  /** Directory path as walked (through links), used for torchvision's ordering. */
  dir: string;
  name: string;
  /** The file's identity once links are resolved, for listing each file once. */
  real: string;
  isLink: boolean;
}

/**
 * Walks one class folder. `seenDirs` holds the real paths of folders already walked (in any
 * class), so a link back to an ancestor or to a folder already listed is not walked again.
 */
async function walkClass(
  classDir: string,
  opts: { allowed: Set<string>; follow: boolean },
  seenDirs: Set<string>,
  warn: (m: string) => void,
): Promise<Listed[]> {
  const out: Listed[] = [];
  const visit = async (dir: string) => {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const entries = (await listDir(dir)).filter((e) => !isHidden(e.name));
    entries.sort((a, b) => compareCodePoints(a.name, b.name));
    for (const e of entries) {
      const kind = await entryKind(dir, e, opts.follow, warn);
      if (kind === 'dir') {
        await visit(join(dir, e.name));
      } else if (kind === 'file') {
        const dot = e.name.lastIndexOf('.');
        if (dot < 0 || !opts.allowed.has(e.name.slice(dot + 1).toLowerCase())) continue;
        const isLink = e.isSymbolicLink();
        out.push({ dir, name: e.name, isLink, real: isLink ? await realpath(join(dir, e.name)) : join(real, e.name) });
      }
    }
  };
  await visit(classDir);
  return out;
}

/**
 * Lists an image folder (one sub-folder per class). Rejects with a DataError naming the root when
 * it is missing, not a folder, has no class folders, or has no image at all.
 */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const follow = options.followSymlinks ?? true;
  const allowed = new Set((options.extensions ?? IMAGE_EXTENSIONS).map((x) => x.replace(/^\./, '').toLowerCase()));
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  const rootStat = await stat(root).catch((e: NodeJS.ErrnoException) => {
    throw new DataError(root, e.code === 'ENOENT' ? 'no such folder' : `cannot open (${e.code ?? e.message})`, { cause: e });
  });
  if (!rootStat.isDirectory()) throw new DataError(root, 'not a folder (an image folder has one sub-folder per class)');

  const classes: string[] = [];
  for (const e of await listDir(root)) {
    if (!isHidden(e.name) && (await entryKind(root, e, follow, warn)) === 'dir') classes.push(e.name);
  }
  classes.sort(compareCodePoints);
  if (classes.length === 0) throw new DataError(root, 'no class folders found (an image folder has one sub-folder per class)');

  const seenDirs = new Set<string>([await realpath(root)]);
  const seenFiles = new Set<string>();
  const paths: string[] = [];
  const labels: number[] = [];
  let twice = 0;
  for (const [label, name] of classes.entries()) {
    const files = await walkClass(join(root, name), { allowed, follow }, seenDirs, warn);
    // torchvision's order: sorted((dirpath, ...)) then sorted(filenames) — directories by whole path.
    files.sort((a, b) => compareCodePoints(a.dir, b.dir) || compareCodePoints(a.name, b.name));
    let count = 0;
    for (const f of files) {
      if (seenFiles.has(f.real)) {
        twice++;
        continue;
      }
      seenFiles.add(f.real);
      paths.push(join(f.dir, f.name));
      labels.push(label);
      count++;
    }
    if (count === 0) warn(`${join(root, name)}: class "${name}" has no image files (its label ${label} is kept)`);
  }
  if (twice > 0) warn(`${root}: ${twice} file(s) reached a second time through symbolic links were listed once`);
  if (paths.length === 0) {
    throw new DataError(root, `no image files found in ${classes.length} class folder(s) (extensions: ${[...allowed].join(', ')})`);
  }

  const labelArray = Int32Array.from(labels);
  const describe = `image folder ${resolve(root)} (${classes.length} classes, ${paths.length.toLocaleString('en-US')} files)`;
  return {
    kind: 'indexed',
    root,
    length: paths.length,
    classes,
    paths,
    warnings,
    labels: () => labelArray.slice(),
    async read(index: number): Promise<SampleRecord> {
      const path = paths[index];
      if (path === undefined) throw new RangeError(`${root}: sample index ${index} is out of range [0, ${paths.length})`);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (e) {
        throw new DataError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
      }
      return { input: { kind: 'encoded', bytes }, label: labelArray[index] as number, id: path };
    },
    sampleId: (index: number) => paths[index] ?? `${root}[${index}]`,
    describe: () => describe,
  };
}

/**
 * Image files named directly, and every image file below named folders (at any depth, in the order
 * an image folder lists them; hidden entries skipped): what `tessera predict` classifies. Rejects
 * with a DataError naming an input that does not exist.
 */
export async function listImageFiles(inputs: readonly string[], options: ImageFolderOptions = {}): Promise<string[]> {
  const follow = options.followSymlinks ?? true;
  const allowed = new Set((options.extensions ?? IMAGE_EXTENSIONS).map((x) => x.replace(/^\./, '').toLowerCase()));
  const out: string[] = [];
  for (const input of inputs) {
    const s = await stat(input).catch(() => undefined);
    if (!s) throw new DataError(input, 'does not exist');
    if (!s.isDirectory()) {
      out.push(input);
      continue;
    }
    const files = await walkClass(input, { allowed, follow }, new Set(), () => {});
    files.sort((a, b) => compareCodePoints(a.dir, b.dir) || compareCodePoints(a.name, b.name));
    out.push(...files.map((f) => join(f.dir, f.name)));
  }
  return out;
}
