// One small data set written in every source format the opener reads, for the pipeline tests:
// two classes ('a' dark-red, 'b' light-blue), 12 samples each of 12×12, the same images in every
// format (as pixels, PNG files, IDX, NPY/NPZ, packed shards, tar shards). CIFAR has its own records
// (3072 bytes of random pixels, ten classes): its format fixes the size and the class count.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { writeNpy } from '../../../src/data/formats/npy-write.js';
import { writeTar } from '../../../src/data/formats/tar.js';
import { packDataset } from '../../../src/data/pack/pack.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { cifarRecords } from '../formats/cifar-records.js';
import { py } from '../formats/fuzz.js';

export const SIDE = 12;
export const PER_CLASS = 12;
export const CLASSES = ['a', 'b'];

/** Sample k of class c: a flat colour with a little structure, so no two are equal. */
export function pixels(c: number, k: number): Uint8Array {
  const px = new Uint8Array(SIDE * SIDE * 3);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const bump = (p * 7 + k * 13) % 23;
    px[p * 3] = c === 0 ? 150 + bump : 30 + bump;
    px[p * 3 + 1] = 40 + k * 3;
    px[p * 3 + 2] = c === 0 ? 30 + bump : 200 + bump;
  }
  return px;
}

const png = (px: Uint8Array) => sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();

function idx(shape: number[], payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => new DataView(header.buffer).setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, payload]);
}

export interface Sources {
  root: string;
  /** Format → a source spec of that format. */
  specs: Record<string, string>;
}

/** Writes every format under `root`; returns one spec per format (and per NPY/WebDataset form). */
export async function writeSources(root: string): Promise<Sources> {
  const all = CLASSES.flatMap((_, c) => Array.from({ length: PER_CLASS }, (_, k) => ({ c, k, px: pixels(c, k) })));
  const folder = join(root, 'folder');
  for (const s of all) {
    mkdirSync(join(folder, CLASSES[s.c] as string), { recursive: true });
    writeFileSync(join(folder, CLASSES[s.c] as string, `${s.k}.png`), await png(s.px));
  }
  // A manifest over the folder's files, with a split column: the last 3 of each class are 'test'.
  writeFileSync(join(root, 'm.csv'), ['path,label,split', ...all.map((s) => `folder/${CLASSES[s.c]}/${s.k}.png,${CLASSES[s.c]},${s.k >= PER_CLASS - 3 ? 'test' : 'train'}`)].join('\n'));

  // IDX in MNIST's layout (grey: the red channel), train and t10k.
  const idxDir = join(root, 'idx');
  mkdirSync(idxDir);
  const grey = (px: Uint8Array) => px.filter((_, i) => i % 3 === 0);
  for (const [prefix, part] of [['train', all.filter((s) => s.k < 9)], ['t10k', all.filter((s) => s.k >= 9)]] as const) {
    writeFileSync(join(idxDir, `${prefix}-images-idx3-ubyte`), idx([part.length, SIDE, SIDE], Buffer.concat(part.map((s) => grey(s.px)))));
    writeFileSync(join(idxDir, `${prefix}-labels-idx1-ubyte`), idx([part.length], Uint8Array.from(part.map((s) => s.c))));
  }

  // CIFAR-10: five training batches and a test batch of 4 records each.
  const cifar = join(root, 'cifar');
  mkdirSync(cifar);
  for (let b = 1; b <= 5; b++) writeFileSync(join(cifar, `data_batch_${b}.bin`), cifarRecords(4, 10, b));
  writeFileSync(join(cifar, 'test_batch.bin'), cifarRecords(4, 10, 9));

  // NPY: a folder of images.npy + labels.npy, and an .npz with other key names.
  const npy = join(root, 'npy');
  mkdirSync(npy);
  writeNpy(join(npy, 'images.npy'), { dtype: 'u1', shape: [all.length, SIDE, SIDE, 3], data: Buffer.concat(all.map((s) => s.px)) });
  writeNpy(join(npy, 'labels.npy'), { dtype: 'i4', shape: [all.length], data: Int32Array.from(all.map((s) => s.c)) });
  py(`import numpy as np\nnp.savez('data.npz', x=np.load('images.npy'), y=np.load('labels.npy'))\nnp.savez('std.npz', images=np.load('images.npy'), labels=np.load('labels.npy'))`, npy);

  // Packed: the folder as one pack, and the manifest's splits as a folder of packs.
  await packDataset(await imageFolder(folder), join(root, 'packed'));
  const splits = join(root, 'packed-splits');
  const { openPackInputs } = await import('../../../src/data/pack/sources.js');
  for (const input of await openPackInputs(join(root, 'm.csv'))) await packDataset(input.dataset, join(splits, input.split as string));

  // WebDataset: two shards of PNG + .cls (class names), beside a folder holding only them.
  const wds = join(root, 'wds');
  mkdirSync(wds);
  for (let shard = 0; shard < 2; shard++) {
    const members = [];
    for (const s of all.filter((_, i) => i % 2 === shard)) {
      const key = `${CLASSES[s.c]}${s.k}`;
      members.push({ name: `${key}.png`, data: await png(s.px) }, { name: `${key}.cls`, data: Buffer.from(CLASSES[s.c] as string) });
    }
    await writeTar(join(wds, `shard-${shard}.tar`), members);
  }

  return {
    root,
    specs: {
      'image-folder': folder,
      manifest: join(root, 'm.csv'),
      idx: idxDir,
      'idx pair': `${join(idxDir, 'train-images-idx3-ubyte')},${join(idxDir, 'train-labels-idx1-ubyte')}`,
      cifar10: cifar,
      'npy folder': npy,
      'images.npy alone': join(npy, 'images.npy'),
      'images.npy,labels.npy': `${join(npy, 'images.npy')},${join(npy, 'labels.npy')}`,
      '.npz': join(npy, 'std.npz'),
      '.npz#key': `${join(npy, 'data.npz')}#x,${join(npy, 'data.npz')}#y`,
      packed: join(root, 'packed'),
      'packed splits': splits,
      webdataset: join(wds, 'shard-{0..1}.tar'),
      'webdataset folder': wds,
    },
  };
}
