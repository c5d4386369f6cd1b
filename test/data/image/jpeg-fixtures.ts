// Test JPEGs for the native JPEG path, and the PIL/torchvision reference (jpeg_reference.py) run
// once per test file on every case at once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { smoothImage } from '../fixtures/corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', '..', 'test', 'data', 'image', 'jpeg_reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

/**
 * Photo-like pixels (RGB, HWC): a smooth colour field, fine noise and a few hard-edged blocks, so
 * that resizing has edges and texture to get wrong. Deterministic in `seed`.
 */
export function photo(seed: number, width: number, height: number): Buffer {
  const px = smoothImage(seed, width, height);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    px[i] = Math.max(0, Math.min(255, (px[i] as number) + ((s >>> 24) % 25) - 12));
  }
  for (let b = 0; b < 4; b++) {
    const x0 = Math.floor(((seed * 7 + b * 53) % 97) / 97 * width * 0.8);
    const y0 = Math.floor(((seed * 11 + b * 31) % 89) / 89 * height * 0.8);
    for (let y = y0; y < Math.min(height, y0 + Math.ceil(height / 6)); y++)
      for (let x = x0; x < Math.min(width, x0 + Math.ceil(width / 7)); x++) px.set([(b * 90) % 256, 255 - b * 60, b * 40], (y * width + x) * 3);
  }
  return px;
}

export type Kind = '420' | '444' | '422' | 'progressive' | 'grey' | 'cmyk';

/** Writes `photo(seed, w, h)` as a JPEG of the given kind (quality 90) and returns its path. */
export async function writeJpeg(dir: string, name: string, kind: Kind, seed: number, width: number, height: number, orientation = 1): Promise<string> {
  const path = join(dir, name);
  const raw = photo(seed, width, height);
  if (kind === '422') {
    // sharp writes only 4:4:4 and 4:2:0; PIL writes 4:2:2 (subsampling=1).
    writeFileSync(`${path}.rgb`, raw);
    const py = `import sys; from PIL import Image; Image.frombytes('RGB', (${width}, ${height}), open(sys.argv[1] + '.rgb', 'rb').read()).save(sys.argv[1], quality=90, subsampling=1)`;
    const r = spawnSync(PYTHON, ['-c', py, path], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`writing a 4:2:2 JPEG with PIL failed: ${r.stderr}`);
    return path;
  }
  let s = sharp(raw, { raw: { width, height, channels: 3 } });
  if (kind === 'grey') s = s.greyscale();
  if (kind === 'cmyk') s = s.toColourspace('cmyk');
  if (orientation !== 1) s = s.withMetadata({ orientation });
  const jpeg = s.jpeg({ quality: 90, progressive: kind === 'progressive', chromaSubsampling: kind === '444' ? '4:4:4' : '4:2:0' });
  writeFileSync(path, await jpeg.toBuffer());
  return path;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-jpeg-'));
}

/** One reference computation; see jpeg_reference.py for what each `ref` means. */
export interface RefCase {
  file: string;
  ref: 'pil' | 'tensor' | 'full' | 'eval';
  crop?: [number, number, number, number];
  resize?: [number, number] | number;
  offset?: [number, number];
  out?: [number, number];
  flip?: boolean;
  channels?: 1 | 3;
  normalize?: [number[], number[]];
}

/** Runs every case in one Python process; returns each case's CHW bytes (float32 cases as bytes too). */
export function reference(cases: readonly RefCase[]): Uint8Array[] {
  const dir = tempDir();
  const job = { dir, cases: cases.map((c) => ({ offset: [0, 0], flip: false, channels: 3, ...c })) };
  const r = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`jpeg_reference.py failed:\n${r.stderr}`);
  return cases.map((_, k) => new Uint8Array(readFileSync(join(dir, `${k}.bin`))));
}

/** Peak signal-to-noise ratio of two 8-bit images, in dB (Infinity when equal). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += ((a[i] as number) - (b[i] as number)) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** A small deterministic generator for crop boxes (not the data pipeline's: any boxes will do). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
