// What a GAN run shows of its generator: images from a fixed noise batch, laid out as a grid PNG
// the way the DCGAN example saves them (`vutils.save_image(fake, …)`: torchvision's make_grid with 8
// images a row, 2 px of black padding), once before training (`samples/epoch-000.png`) and after
// every epoch (`epoch-001.png`, …), plus a grid of real images (`samples/real.png`); and the two
// models' weights after every epoch as PyTorch state dicts under the example's names
// (`weights/netG_epoch_1.pth`, `netD_epoch_1.pth`; epochs counted from 1, as in the report), which
// `torch.load` opens and the example's `--netG` / `--netD` flags load.
//
// Sampling: the generator runs as it runs in training (the example samples the same way): in
// training mode, so batch norm normalises with the batch's statistics — DCGAN's generator has never
// used its running statistics — without gradients, and with the running statistics put back as
// they were, so sampling changes nothing a checkpoint holds.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { RandomStream } from '../../data/random.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { saveStateDict } from '../../io/state-dict.js';
import type { Gan } from '../../models/gan.js';
import { noGrad } from '../../tensor/autograd.js';
import { tensor } from '../../tensor/factories.js';
import { cat } from '../../tensor/generated/ops.js';
import { persist, scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Callback, TrainContext } from '../../train/events.js';
import { nonFiniteEntries } from '../../train/finite.js';

/** `n` noise vectors (n, ...gan.latentShape), N(0, 1), a pure function of (seed, stream): the same every epoch and on resume. */
export function fixedNoise(gan: Gan, n: number, seed: number, stream: number): Tensor {
  const per = gan.latentShape.reduce((a, b) => a * b, 1);
  const r = new RandomStream({ seed, purpose: 'noise', stream });
  const z = new Float32Array(n * per);
  for (let i = 0; i < z.length; i++) z[i] = r.normal();
  return tensor(z, { shape: [n, ...gan.latentShape] });
}

/**
 * The generator's images for noise `z` (see the header), `batch` at a time, each batch handed to
 * `onBatch` (its tensors die after it).
 */
export function generate(gan: Gan, z: Tensor, onBatch: (images: Tensor) => void, batch = 256): void {
  const g = gan.generator;
  const wasTraining = g.training;
  const saved = noGrad(() => g.buffers().map((b) => persist(b.clone())));
  g.train();
  try {
    noGrad(() => {
      for (let i = 0; i < (z.shape[0] as number); i += batch)
        scope(() => onBatch(g.forward(z.narrow(0, i, Math.min(batch, (z.shape[0] as number) - i)).to({ device: g.parameters()[0]?.device ?? 'cpu' }))));
    });
  } finally {
    noGrad(() => g.buffers().forEach((b, i) => b.copy_(saved[i] as Tensor)));
    for (const t of saved) t.dispose();
    g.train(wasTraining);
  }
}

/**
 * A grid PNG of (N, C, H, W) images whose values span `range`: torchvision's make_grid (nrow 8,
 * padding 2, pad value 0) and save_image's rounding (×255 + 0.5, clamped). Grey stays one channel.
 */
export async function gridPng(images: Tensor, range: readonly [number, number]): Promise<Buffer> {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const [lo, hi] = range;
  const pixels = scope(() => images.detach().to({ device: 'cpu', dtype: 'float32' }).sub(lo).div(hi - lo).mul(255).add(0.5).clamp(0, 255).to({ dtype: 'uint8' }).contiguous().data() as Uint8Array);
  const pad = 2;
  const cols = Math.min(8, n);
  const rows = Math.ceil(n / cols);
  const [gw, gh] = [cols * (w + pad) + pad, rows * (h + pad) + pad];
  const grid = Buffer.alloc(gw * gh * c); // HWC, black
  for (let k = 0; k < n; k++) {
    const [x0, y0] = [(k % cols) * (w + pad) + pad, Math.floor(k / cols) * (h + pad) + pad];
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) grid[((y0 + y) * gw + x0 + x) * c + ch] = pixels[((k * c + ch) * h + y) * w + x] as number;
  }
  let img = sharp(grid, { raw: { width: gw, height: gh, channels: c as 1 | 3 } });
  if (c === 1) img = img.toColourspace('b-w');
  return img.png().toBuffer();
}

/** The generator's grid for the fixed noise `z`, as a PNG. */
export function sampleGrid(gan: Gan, z: Tensor, range: readonly [number, number]): Promise<Buffer> {
  const parts: Tensor[] = [];
  generate(gan, z, (images) => void parts.push(persist(images.to({ device: 'cpu' }))));
  const all = scope(() => persist(cat(parts)));
  for (const t of parts) t.dispose();
  return gridPng(all, range).finally(() => all.dispose());
}

export const sampleFile = (dir: string, epoch: number): string => join(dir, 'samples', `epoch-${String(epoch).padStart(3, '0')}.png`);
export const weightFiles = (dir: string, epoch: number): { generator: string; discriminator: string } => ({
  generator: join(dir, 'weights', `netG_epoch_${epoch}.pth`),
  discriminator: join(dir, 'weights', `netD_epoch_${epoch}.pth`),
});

/**
 * Writes the grid of the fixed noise before training (a fresh run) and after every epoch, and the
 * epoch's netG/netD weights, unless they hold NaN or infinities. Files only: a resumed run writes
 * the same ones again.
 */
export class SampleGrids implements Callback {
  readonly name = 'sampleGrids';
  /** After the logs' afterEpoch, before the checkpoint (order 100): a run killed between them redoes both. */
  readonly order = 80;

  constructor(
    readonly gan: Gan,
    readonly noise: Tensor,
    readonly dir: string,
    readonly range: readonly [number, number],
  ) {
    mkdirSync(join(dir, 'samples'), { recursive: true });
    mkdirSync(join(dir, 'weights'), { recursive: true });
  }

  async beforeFit(ctx: TrainContext): Promise<void> {
    if (!ctx.resumed) await this.#grid(0);
  }

  async afterEpoch(ctx: TrainContext): Promise<void> {
    // Diverged weights are never written: the checkpoint after this refuses them and fails the run.
    if (nonFiniteEntries(this.gan.stateDict()).length > 0) return;
    const epoch = ctx.epoch + 1;
    await this.#grid(epoch);
    const files = weightFiles(this.dir, epoch);
    saveStateDict(files.generator, this.gan.generator);
    saveStateDict(files.discriminator, this.gan.discriminator);
  }

  async #grid(epoch: number): Promise<void> {
    writeFileAtomic(sampleFile(this.dir, epoch), [await sampleGrid(this.gan, this.noise, this.range)]);
  }
}
