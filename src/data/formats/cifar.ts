// CIFAR's binary batches (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records, no
// header. CIFAR-10: <1 label byte><3072 pixel bytes>; CIFAR-100: <1 coarse byte><1 fine byte>
// <3072 pixel bytes>. Pixels are three 32×32 planes (R, G, B), each row-major. Files are mapped;
// every label is checked when the batch is opened, so a bad byte is reported with its offset then.
import { DataError, type RawImage } from '../types.js';
import { openFileBytes } from './file-bytes.js';

export const CIFAR_SIDE = 32;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const PIXELS = 3 * PLANE;

export interface CifarBatch {
  readonly path: string;
  readonly count: number;
  /** Label per record; for CIFAR-100 the fine labels (`coarse` holds the others). */
  readonly fine: Uint8Array;
  readonly coarse?: Uint8Array;
  /** Record `i` as an HWC RGB image (a fresh copy). */
  image(i: number): RawImage;
}

/** Opens one batch file of CIFAR-10 (`variant` 10) or CIFAR-100 (100). */
export function openCifarBatch(path: string, variant: 10 | 100): CifarBatch {
  const file = openFileBytes(path);
  const labelBytes = variant === 10 ? 1 : 2;
  const record = labelBytes + PIXELS;
  const count = Math.floor(file.size / record);
  const partial = file.size - count * record;
  if (file.size === 0) throw new DataError(path, 'the file is empty');
  if (partial !== 0)
    throw new DataError(path, `size ${file.size} is not a multiple of the ${record}-byte CIFAR-${variant} record: ` +
      `${partial} stray bytes from byte offset ${count * record} (truncated download, or the other CIFAR variant?)`);
  const fine = new Uint8Array(count);
  const coarse = variant === 100 ? new Uint8Array(count) : undefined;
  const classes = variant === 10 ? 10 : 100;
  for (let i = 0; i < count; i++) {
    const at = i * record;
    const head = file.read(at, labelBytes, `record ${i}`);
    const f = head[labelBytes - 1] as number;
    if (f >= classes) throw new DataError(path, `record ${i} at byte offset ${at + labelBytes - 1}: label ${f} is not below ${classes}`);
    fine[i] = f;
    if (coarse) {
      const c = head[0] as number;
      if (c >= 20) throw new DataError(path, `record ${i} at byte offset ${at}: coarse label ${c} is not below 20`);
      coarse[i] = c;
    }
  }
  return {
    path, count, fine, ...(coarse ? { coarse } : {}),
    image(i) {
      if (!Number.isInteger(i) || i < 0 || i >= count) throw new DataError(`${path}[${i}]`, `record out of range (0..${count - 1})`);
      const planes = file.read(i * record + labelBytes, PIXELS, `record ${i}`);
      const data = new Uint8Array(PIXELS);
      for (let p = 0; p < PLANE; p++) {
        data[3 * p] = planes[p] as number;
        data[3 * p + 1] = planes[PLANE + p] as number;
        data[3 * p + 2] = planes[2 * PLANE + p] as number;
      }
      return { data, width: CIFAR_SIDE, height: CIFAR_SIDE, channels: 3 };
    },
  };
}
