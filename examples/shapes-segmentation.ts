// Segmentation from the command line, on a data set drawn here: circles, squares and triangles of
// random colours on noise, each image with its mask (0 background, 1 circle, 2 square, 3 triangle).
//
//   node dist/examples/shapes-segmentation.js [dir] [--images 700] [--size 32] [--epochs 20]
//
// writes the data set to dir (default: a temporary folder) and trains it as
//   tessera train <dir> --task segmentation --model unet --image-size 32 \
//     --set model.options.baseWidth=16 --set model.options.depth=3 --optimizer adam --lr 0.01 --batch-size 16
// then prints the test mean IoU (issue #14's check: ≥ 0.9) and the time it took.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { data } from 'tessera';

export const SHAPE_CLASSES = ['background', 'circle', 'square', 'triangle'] as const;

/** Whether (x, y) is inside shape `kind` (1 circle, 2 square, 3 triangle) centred at (cx, cy) with half-size r. */
function inside(kind: number, x: number, y: number, cx: number, cy: number, r: number): boolean {
  const [dx, dy] = [x + 0.5 - cx, y + 0.5 - cy];
  if (kind === 1) return dx * dx + dy * dy <= r * r;
  if (kind === 2) return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
  // An upright triangle: apex at the top, base at the bottom.
  const t = (dy + r) / (2 * r); // 0 at the apex, 1 at the base
  return t >= 0 && t <= 1 && Math.abs(dx) <= t * r;
}

/** One image and its mask: 1–3 shapes of random colours over grey noise. */
export function drawShapes(rng: data.RandomStream, size: number): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  for (let p = 0; p < size * size; p++) {
    const v = Math.max(0, Math.min(255, Math.round(128 + 45 * rng.normal())));
    image.set([v, v, v], 3 * p);
  }
  const count = rng.int(1, 4);
  for (let s = 0; s < count; s++) {
    const kind = rng.int(1, 4);
    const r = rng.uniform(size * 0.14, size * 0.26);
    const [cx, cy] = [rng.uniform(r, size - r), rng.uniform(r, size - r)];
    const colour = [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        if (!inside(kind, x, y, cx, cy, r)) continue;
        mask[y * size + x] = kind;
        image.set(colour, 3 * (y * size + x));
      }
  }
  return { image, mask };
}

/** Writes `count` images (PNG) and masks (grey PNG of class ids) to dir/images and dir/masks, and dir/classes.txt. */
export async function writeShapes(dir: string, o: { count: number; size: number; seed?: number; start?: number }): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  writeFileSync(join(dir, 'classes.txt'), `${SHAPE_CLASSES.join('\n')}\n`);
  for (let i = o.start ?? 0; i < (o.start ?? 0) + o.count; i++) {
    const { image, mask } = drawShapes(new data.RandomStream({ seed: o.seed ?? 0, purpose: 'test', index: i }), o.size);
    const name = `shape-${String(i).padStart(5, '0')}`;
    writeFileSync(join(dir, 'images', `${name}.png`), await data.image.encodePng({ data: image, width: o.size, height: o.size, channels: 3 }));
    writeFileSync(join(dir, 'masks', `${name}.png`), await data.image.encodePng({ data: mask, width: o.size, height: o.size, channels: 1 }));
  }
}

/** The command line of the check (see the header). */
export function shapesTrainArgs(dir: string, o: { size: number; epochs: number; name?: string; outDir?: string; threads?: number }): string[] {
  return [
    'train', dir, '--task', 'segmentation', '--model', 'unet', '--image-size', String(o.size), '--epochs', String(o.epochs),
    '--set', 'model.options.baseWidth=16', '--set', 'model.options.depth=3', '--optimizer', 'adam', '--lr', '0.01', '--batch-size', '16',
    '--set', 'train.optimizer.weightDecay=0', '--label-smoothing', '0',
    ...(o.name ? ['--name', o.name] : []), ...(o.outDir ? ['--out-dir', o.outDir] : []), ...(o.threads ? ['--threads', String(o.threads)] : []),
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const dir = args[0] && !args[0].startsWith('--') ? args[0] : mkdtempSync(join(tmpdir(), 'tessera-shapes-'));
  const [count, size, epochs] = [flag('--images', 700), flag('--size', 32), flag('--epochs', 20)];
  await writeShapes(dir, { count, size });
  const { spawnSync } = await import('node:child_process');
  const bin = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...shapesTrainArgs(dir, { size, epochs, outDir: join(dir, 'runs'), name: 'shapes' })], { stdio: 'inherit' });
  console.log(`${count} images of ${size}×${size}, ${epochs} epochs: ${((performance.now() - t0) / 1000).toFixed(0)} s (exit ${r.status}); run in ${join(dir, 'runs', 'shapes')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
