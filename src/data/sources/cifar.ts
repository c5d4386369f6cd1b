// CIFAR-10 and CIFAR-100 from their binary distributions, as the archives unpack:
// `cifar-10-batches-bin/` (data_batch_1..5.bin, test_batch.bin, batches.meta.txt) and
// `cifar-100-binary/` (train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { openCifarBatch, type CifarBatch } from '../formats/cifar.js';
import { DataError, type IndexedDataset } from '../types.js';

export interface CifarOptions {
  split: 'train' | 'test';
  /** 10 or 100; detected from the files present when absent. */
  variant?: 10 | 100;
  /** CIFAR-100 only: the 100 fine classes (default) or the 20 coarse superclasses. */
  label?: 'fine' | 'coarse';
}

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** `dir` may be the unpacked folder itself or the folder that holds it. */
export function cifarDataset(dir: string, o: CifarOptions): IndexedDataset {
  const root = [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')].find(
    (d) => existsSync(join(d, 'test_batch.bin')) || existsSync(join(d, 'data_batch_1.bin')) || existsSync(join(d, 'train.bin')) || existsSync(join(d, 'test.bin')),
  );
  if (!root) throw new DataError(dir, 'no CIFAR binary batches here (expected data_batch_1.bin … test_batch.bin, or train.bin/test.bin)');
  const variant = o.variant ?? (existsSync(join(root, 'train.bin')) || existsSync(join(root, 'test.bin')) ? 100 : 10);
  const label = o.label ?? 'fine';
  if (variant === 10 && label === 'coarse') throw new DataError(root, "CIFAR-10 has no coarse labels: label: 'coarse' needs CIFAR-100");
  const names = variant === 10
    ? o.split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin']
    : [`${o.split}.bin`];
  const missing = names.filter((n) => !existsSync(join(root, n)));
  if (missing.length) throw new DataError(root, `CIFAR-${variant} ${o.split} split is incomplete: missing ${missing.join(', ')}`);
  const batches = names.map((n) => openCifarBatch(join(root, n), variant));

  const count = batches.reduce((s, b) => s + b.count, 0);
  const labels = new Int32Array(count);
  const starts: number[] = [];
  let at = 0;
  for (const b of batches) {
    starts.push(at);
    labels.set(label === 'coarse' ? (b.coarse as Uint8Array) : b.fine, at);
    at += b.count;
  }
  const classes = classNames(root, variant, label);
  const locate = (index: number): [CifarBatch, number] => {
    let k = starts.length - 1;
    while (k > 0 && (starts[k] as number) > index) k--;
    return [batches[k] as CifarBatch, index - (starts[k] as number)];
  };
  return {
    kind: 'indexed',
    length: count,
    classes,
    labels: () => labels.slice(),
    async read(index) {
      if (!Number.isInteger(index) || index < 0 || index >= count) throw new DataError(`${root}[${index}]`, `index out of range (0..${count - 1})`);
      const [batch, i] = locate(index);
      return { input: { kind: 'pixels', image: batch.image(i) }, label: labels[index] as number, id: `${batch.path}[${i}]` };
    },
    describe: () => `CIFAR-${variant} ${o.split} ${root} (${count.toLocaleString('en-US')} images, ${classes.length} ${variant === 100 ? `${label} ` : ''}classes)`,
  };
}

/** Names from the archive's text files when present; CIFAR-10's well-known names otherwise. */
function classNames(root: string, variant: 10 | 100, label: 'fine' | 'coarse'): string[] {
  const file = join(root, variant === 10 ? 'batches.meta.txt' : `${label}_label_names.txt`);
  const expected = variant === 10 ? 10 : label === 'fine' ? 100 : 20;
  if (!existsSync(file))
    return variant === 10 ? [...CIFAR10_CLASSES] : Array.from({ length: expected }, (_, i) => String(i));
  const names = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length !== expected) throw new DataError(file, `lists ${names.length} class names; CIFAR-${variant} ${label} labels need ${expected}`);
  return names;
}
