// What a GAN run shows of its generator (src/run/gan/samples.ts): grids laid out as torchvision's
// make_grid + save_image, the fixed noise a pure function of (seed, stream), and sampling in
// training mode (batch statistics) that leaves the running statistics and the mode as they were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { manualSeed, models, noGrad, scope, tensor } from '../../src/index.js';
import { fixedNoise, generate, gridPng } from '../../src/run/gan/samples.js';

describe('GAN samples', () => {
  it("a grid is make_grid's (8 a row, 2 px of black padding) with save_image's rounding of the value range to 0..255", async () => {
    // 10 grey 2×2 images: image k holds k/9 scaled to [-1, 1], except pixel (1, 1), which is -1 … 1 across the row.
    const n = 10;
    const data = new Float32Array(n * 4);
    for (let k = 0; k < n; k++) {
      data.fill((2 * k) / 9 - 1, k * 4, k * 4 + 3);
      data[k * 4 + 3] = k % 2 === 0 ? -1.5 : 0; // clamped to 0; 0 → 127.5 + 0.5 → 128
    }
    const png = await scope(() => gridPng(tensor(data, { shape: [n, 1, 2, 2] }), [-1, 1]));
    assert.equal((await sharp(png).metadata()).channels, 1, 'a grey PNG');
    const { data: px, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [8 * 4 + 2, 2 * 4 + 2]);
    const at = (x: number, y: number) => px[y * info.width + x] as number;
    for (let k = 0; k < n; k++) {
      const [x0, y0] = [(k % 8) * 4 + 2, Math.floor(k / 8) * 4 + 2];
      assert.equal(at(x0, y0), Math.floor(((2 * k) / 9 - 1 + 1) / 2 * 255 + 0.5), `image ${k}`);
      assert.equal(at(x0 + 1, y0 + 1), k % 2 === 0 ? 0 : 128, `image ${k}, pixel (1, 1)`);
      assert.equal(at(x0 - 1, y0), 0, 'padding');
    }
    assert.equal(at(info.width - 1, info.height - 1), 0, 'the unused cells of the last row stay black');
  });

  it('fixed noise is N(0, 1) and a pure function of (seed, stream)', () => {
    const gan = models.dcgan({ imageSize: 8, nz: 16, ngf: 4, ndf: 4, nc: 1 });
    scope(() => {
      const a = fixedNoise(gan, 500, 7, 0);
      assert.deepEqual(a.shape, [500, 16, 1, 1]);
      assert.deepEqual(Array.from(a.data() as Float32Array), Array.from(fixedNoise(gan, 500, 7, 0).data() as Float32Array));
      assert.notDeepEqual(Array.from(a.data() as Float32Array), Array.from(fixedNoise(gan, 500, 7, 1).data() as Float32Array));
      assert.ok(Math.abs(a.mean().item() as number) < 0.03 && Math.abs((a.std().item() as number) - 1) < 0.03);
    });
    gan.dispose();
  });

  it("samples with the batch's statistics, without gradients, leaving the running statistics and the mode as they were", () => {
    manualSeed(3);
    const gan = models.dcgan({ imageSize: 8, nz: 16, ngf: 4, ndf: 4, nc: 1 });
    const g = gan.generator;
    g.eval();
    scope(() => {
      noGrad(() => g.buffers().forEach((b, i) => (b.dtype === 'float32' ? b.add_(0.1 * (i + 1)) : b))); // running statistics that differ from any batch's
      const before = g.buffers().map((b) => Array.from(b.data() as ArrayLike<number>, Number));
      const z = fixedNoise(gan, 6, 1, 0);
      const seen: number[][] = [];
      generate(gan, z, (images) => void seen.push(Array.from(images.data() as Float32Array)), 4);
      assert.equal(seen.length, 2, 'in batches of 4: 4 + 2');
      assert.equal(g.training, false, 'the mode is restored');
      assert.deepEqual(g.buffers().map((b) => Array.from(b.data() as ArrayLike<number>, Number)), before, 'running statistics untouched');
      // What training mode gives for the same batches (running statistics would give something else).
      g.train();
      const expected = noGrad(() => [g.forward(z.narrow(0, 0, 4)), g.forward(z.narrow(0, 4, 2))].map((t) => Array.from(t.data() as Float32Array)));
      g.eval();
      const evalMode = noGrad(() => Array.from(g.forward(z.narrow(0, 0, 4)).data() as Float32Array));
      assert.deepEqual(seen, expected);
      assert.notDeepEqual(seen[0], evalMode);
    });
    gan.dispose();
  });
});
