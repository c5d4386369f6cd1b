// Shared by the run tests: a small image folder whose classes are told apart by colour, and a
// quiet logger/progress stream.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

export const COLOURS: Record<string, [number, number, number]> = { blue: [30, 40, 220], green: [40, 200, 50], red: [220, 30, 40] };

/** 3 classes told apart by colour, with noise so no two images are equal (16×16 PNG). */
export async function writeFolder(dir: string, perClass: number): Promise<void> {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const [name, rgb] of Object.entries(COLOURS)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(16 * 16 * 3);
      for (let p = 0; p < 16 * 16; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = Math.max(0, Math.min(255, (rgb[c] as number) + Math.round((rand() - 0.5) * 120)));
      await sharp(px, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}

export const quiet = { log: () => {}, progressStream: Object.assign(new (class { write() { return true; } })(), { isTTY: false }) as unknown as NodeJS.WritableStream };
