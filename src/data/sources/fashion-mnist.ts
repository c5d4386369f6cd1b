// Fashion-MNIST as Debian's dataset-fashion-mnist package installs it: IDX files, read into a
// tensor-backed data set (the loader's fast path: one index_select per batch).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { readIdx } from '../formats/idx.js';
import { idxDataset, type IdxDataset } from './idx.js';

export const FASHION_MNIST_DIR = process.env.TESSERA_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface LabelledImages {
  /** uint8 pixels, N×28×28 row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** The split as a data set (grey 28×28, the ten Fashion-MNIST class names). */
export function fashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): IdxDataset {
  const { imagesPath, labelsPath } = paths(split, dir);
  return idxDataset(imagesPath, labelsPath, FASHION_MNIST_CLASSES, `Fashion-MNIST ${split}`);
}

function paths(split: 'train' | 'test', dir: string): { imagesPath: string; labelsPath: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  if (!existsSync(imagesPath))
    throw new Error(`Fashion-MNIST not found at ${imagesPath}: install it with \`apt-get install dataset-fashion-mnist\` or set TESSERA_FASHION_MNIST`);
  return { imagesPath, labelsPath };
}

/** The split as flat arrays (for the demo and programs that make their own tensors). */
export function loadFashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): LabelledImages {
  const { imagesPath, labelsPath } = paths(split, dir);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.shape.length !== 3 || images.type !== 'uint8') throw new Error(`${imagesPath}: expected uint8 images N×H×W, got ${images.type} [${images.shape}]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0])
    throw new Error(`${labelsPath}: ${labels.shape[0]} labels for ${images.shape[0]} images`);
  return {
    images: images.data as Uint8Array,
    labels: labels.data as Uint8Array,
    count: images.shape[0] as number,
    height: images.shape[1] as number,
    width: images.shape[2] as number,
  };
}
