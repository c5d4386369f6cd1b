// Pictures the tasks make from batches: the model's inputs back as pixels (undoing the
// normalisation), PNG files and their base64 form for the report, file names for predictions, and
// the N worst samples of a pass kept as it goes.
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

import sharp from 'sharp';

import { encodePng } from '../../data/image/encode.js';
import type { Preprocessing } from '../../data/pipeline/preprocessing.js';
import type { RawImage } from '../../data/types.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { tensor } from '../../tensor/factories.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';

/** (N, C, H, W) float images in [0, 1] → 8-bit pixels, one RawImage per sample. */
export function unitImages(x: Tensor): RawImage[] {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const data = scope(() => x.float().clamp(0, 1).mul(255).round().to('uint8').permute([0, 2, 3, 1]).contiguous().cpu().data() as Uint8Array);
  return Array.from({ length: n }, (_, i) => ({ data: data.slice(i * h * w * c, (i + 1) * h * w * c), width: w, height: h, channels: c as 1 | 3 }));
}

/** The model's normalised inputs (N, C, H, W) back as the pixels they were made from. */
export function inputImages(x: Tensor, p: Preprocessing): RawImage[] {
  const c = x.shape[1] as number;
  const at = (v: readonly number[], k: number) => (v.length === 1 ? (v[0] as number) : (v[k] as number));
  return scope(() => {
    const std = tensor(Float32Array.from({ length: c }, (_, k) => at(p.std, k)), { shape: [1, c, 1, 1] });
    const mean = tensor(Float32Array.from({ length: c }, (_, k) => at(p.mean, k)), { shape: [1, c, 1, 1] });
    return unitImages(x.float().cpu().mul(std).add(mean));
  });
}

/** A PNG file of the image (grey stays one channel). */
export async function pngBase64(image: RawImage): Promise<string> {
  return (await encodePng(image)).toString('base64');
}

/** Output file names for prediction inputs: each file's name without its extension, made unique, + suffix. */
export class OutputNames {
  private readonly used = new Set<string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** `dir/<stem><suffix>`; a stem seen before gets `-2`, `-3`, … */
  next(file: string, suffixes: readonly string[]): string[] {
    const stem = basename(file, extname(file));
    let name = stem;
    for (let k = 2; this.used.has(name); k++) name = `${stem}-${k}`;
    this.used.add(name);
    return suffixes.map((s) => join(this.dir, `${name}${s}`));
  }
}

export async function writePng(path: string, image: RawImage): Promise<void> {
  writeFileAtomic(path, [await encodePng(image)]);
}

/** The `n` samples with the lowest score seen so far (ties: the earlier one first). */
export class Worst<T> {
  readonly items: { score: number; item: T }[] = [];

  constructor(readonly n: number) {}

  /** Whether a sample of this score would be kept (so its pictures are worth making). */
  wants(score: number): boolean {
    return this.n > 0 && (this.items.length < this.n || score < (this.items.at(-1) as { score: number }).score);
  }

  offer(score: number, make: () => T): void {
    if (!this.wants(score)) return;
    let at = this.items.findIndex((w) => score < w.score);
    if (at < 0) at = this.items.length;
    this.items.splice(at, 0, { score, item: make() });
    if (this.items.length > this.n) this.items.pop();
  }
}
