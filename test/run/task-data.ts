// Small generated data sets for the task tests: multi-label images (coloured patches, one label per
// colour present) listed in a manifest, and grey images for autoencoders. Segmentation's shapes
// come from examples/shapes-segmentation.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { RandomStream } from '../../src/data/random.js';

export const PATCHES: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 50, 230] };

/**
 * `count` 24×24 images on grey noise, each with a patch of every colour it is labelled with (any
 * subset of red, green, blue, also none), and a manifest `labels.csv` (path,labels with a|b) or, with
 * `columns`, one 0/1 column per colour. Returns the manifest's path.
 */
export async function writeMultilabel(dir: string, count: number, o: { columns?: boolean; seed?: number } = {}): Promise<string> {
  mkdirSync(join(dir, 'img'), { recursive: true });
  const names = Object.keys(PATCHES);
  const rows: string[] = [o.columns ? `path,${names.join(',')}` : 'path,labels'];
  for (let i = 0; i < count; i++) {
    const rng = new RandomStream({ seed: o.seed ?? 1, purpose: 'test', index: i });
    const px = new Uint8Array(24 * 24 * 3);
    for (let p = 0; p < px.length; p++) px[p] = 110 + rng.int(0, 40);
    const present = names.filter(() => rng.bernoulli(0.5));
    for (const name of present) {
      const [x0, y0] = [rng.int(0, 16), rng.int(0, 16)];
      for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) px.set(PATCHES[name] as number[], 3 * (y * 24 + x));
    }
    const file = `img/${i}.png`;
    await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(dir, file));
    rows.push(o.columns ? `${file},${names.map((n) => (present.includes(n) ? 1 : 0)).join(',')}` : `${file},${present.join('|')}`);
  }
  const manifest = join(dir, o.columns ? 'columns.csv' : 'labels.csv');
  writeFileSync(manifest, `${rows.join('\n')}\n`);
  return manifest;
}

/** `count` 16×16 grey images of a bright bar on a dark background, as a one-class image folder. */
export async function writeBars(dir: string, count: number): Promise<void> {
  mkdirSync(join(dir, 'bars'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rng = new RandomStream({ seed: 2, purpose: 'test', index: i });
    const px = new Uint8Array(16 * 16);
    const vertical = rng.bernoulli(0.5);
    const at = rng.int(2, 14);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) px[y * 16 + x] = (vertical ? x : y) >= at - 1 && (vertical ? x : y) <= at + 1 ? 230 : 20 + rng.int(0, 20);
    await sharp(px, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, 'bars', `${i}.png`));
  }
}
