// A gallery item made from decoded pixels holds a PNG of exactly those pixels.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import sharp from 'sharp';

import { galleryItem } from '../../src/report/write.js';

const sample = { index: 42, target: 3, pred: 1, predProbability: 0.8, targetProbability: 0.05, loss: 2.99 };

it('galleryItem encodes grey and RGB pixels losslessly and keeps the labels', async () => {
  for (const channels of [1, 3] as const) {
    const data = Uint8Array.from({ length: 5 * 4 * channels }, (_, i) => (i * 37) % 256);
    const item = await galleryItem(sample, { data, width: 5, height: 4, channels }, 'test[42]');
    assert.deepEqual({ ...item, pngBase64: undefined }, { pngBase64: undefined, trueLabel: 3, predLabel: 1, probability: 0.8, trueProbability: 0.05, loss: 2.99, id: 'test[42]' });
    const png = Buffer.from(item.pngBase64, 'base64');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 5, 4, channels], 'grey stays one channel');
    const { data: back } = await sharp(png).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(new Uint8Array(back), data);
  }
});

it('galleryItem names the image whose byte count does not match its size', async () => {
  await assert.rejects(galleryItem(sample, { data: new Uint8Array(10), width: 5, height: 4, channels: 1 }), /image 42 has 10 bytes, expected 5×4×1 = 20/);
});
