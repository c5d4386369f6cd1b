// The files the README's examples name, made small: `pets/` (a folder of photos, one sub-folder per
// class: cat, dog, fox), `pets-test/` (more of them, for a test set), `new-photos/` (unlabelled
// photos to predict), and `resnet18.pt` (torchvision's resnet18 with random weights, as
// `torch.save(model.state_dict())` writes it: the README shows how to get the trained ones).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const COLOURS: Record<string, [number, number, number]> = { cat: [200, 120, 60], dog: [90, 160, 70], fox: [70, 90, 200] };

/** `n` JPEG photos per class of about 40×32 px (sizes vary, never two alike), coloured by class with noise. */
async function photos(dir: string, n: number, seed: number, flat = false): Promise<void> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const [name, rgb] of Object.entries(COLOURS)) {
    const to = flat ? dir : join(dir, name);
    mkdirSync(to, { recursive: true });
    for (let i = 0; i < n; i++) {
      const [w, h] = [36 + ((i * 5) % 24), 30 + ((i * 3) % 14)];
      const px = Buffer.alloc(w * h * 3);
      for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, (rgb[p % 3] as number) + Math.round((rand() - 0.5) * 90)));
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(to, `${flat ? `${name}-` : ''}${String(i).padStart(3, '0')}.jpg`));
    }
  }
}

/** Writes the README's files into `dir`. */
export async function writeReadmeFixtures(dir: string): Promise<void> {
  await photos(join(dir, 'pets'), 12, 1);
  await photos(join(dir, 'pets-test'), 3, 2);
  await photos(join(dir, 'new-photos'), 2, 3, true);
  const r = spawnSync(PYTHON, ['-c', `import torch, torchvision\ntorch.manual_seed(0)\ntorch.save(torchvision.models.resnet18().state_dict(), 'resnet18.pt')`], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`making resnet18.pt with ${PYTHON} failed: ${r.stderr}`);
}
