// Decoding: every format, orientation, CMYK, 16-bit, alpha and palette case, and strict errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import sharp from 'sharp';

import { applyGeometry, decodeImage, decodeRegion, probeImage } from '../../../src/data/image/decode.js';
import { DataError, type RawImage } from '../../../src/data/types.js';
import * as fx from '../fixtures/images.js';

function maxDiff(a: RawImage, b: RawImage): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return m;
}

test('lossless formats decode to the exact pixels; JPEG within compression error', async () => {
  const img = fx.pattern(37, 23);
  for (const f of ['png', 'webp', 'tiff', 'avif', 'jpeg'] as const) {
    const out = await decodeImage(await fx.encode(img, f), { id: `x.${f}` });
    const d = maxDiff(out, img);
    // Lossless AVIF goes through YCbCr at 8 bits and may be off by one.
    const tol = f === 'jpeg' ? 40 : f === 'avif' ? 2 : 0;
    assert.ok(d <= tol, `${f}: max diff ${d} > ${tol}`);
  }
});

test('GIF: the first frame of an animation', async () => {
  const a = fx.solid(8, 6, [255, 0, 0]);
  const b = fx.solid(8, 6, [0, 0, 255]);
  const out = await decodeImage(await fx.animatedGif([a, b]), { id: 'anim.gif' });
  assert.deepEqual([out.width, out.height, out.channels], [8, 6, 3]);
  assert.ok((out.data[0] as number) > 200 && (out.data[2] as number) < 50, `first pixel ${out.data.subarray(0, 3).join(',')}`);
});

test('BMP: 24-bit bottom-up, top-down, 8-bit palette, 32-bit bit fields with alpha; RLE refused by name', async () => {
  const img = fx.pattern(13, 7);
  assert.equal(maxDiff(await decodeImage(fx.bmp(img), { id: 'a.bmp' }), img), 0);
  assert.equal(maxDiff(await decodeImage(fx.bmp(img, { topDown: true }), { id: 'b.bmp' }), img), 0);
  const grey = fx.pattern(13, 7, 1);
  assert.equal(maxDiff(await decodeImage(fx.bmp(grey), { id: 'g.bmp', channels: 'grey' }), grey), 0);
  const rgba = { data: new Uint8Array(4 * 3 * 4), width: 4, height: 3, channels: 4 as const };
  for (let i = 0; i < 12; i++) rgba.data.set([200, 100, 0, i < 6 ? 255 : 0], i * 4);
  const flat = await decodeImage(fx.bmp(rgba), { id: 'c.bmp', background: [0, 0, 255] });
  assert.deepEqual([...flat.data.subarray(0, 3)], [200, 100, 0]);
  assert.deepEqual([...flat.data.subarray(33, 36)], [0, 0, 255]);
  const rle = fx.bmp(grey, { compression: 1 });
  await assert.rejects(decodeImage(rle, { id: 'rle.bmp' }), (e: unknown) => e instanceof DataError && /rle\.bmp/.test(e.message) && /BI_RLE8/.test(e.message));
  const cut = fx.bmp(img).subarray(0, 200);
  await assert.rejects(decodeImage(cut, { id: 'cut.bmp' }), /cut\.bmp: .*truncated BMP/);
});

test('EXIF orientation is applied, and crops refer to the oriented frame', async () => {
  // A 40×20 image, red in the top-left 10×10 block, stored with orientation 6 (display = 90° clockwise).
  const img = fx.solid(40, 20, [0, 0, 0]);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) img.data.set([255, 0, 0], (y * 40 + x) * 3);
  const bytes = await fx.jpegWithOrientation(img, 6);
  const info = await probeImage(bytes, 'o.jpg');
  assert.deepEqual([info.width, info.height, info.orientation], [20, 40, 6]);
  const out = await decodeImage(bytes, { id: 'o.jpg' });
  assert.deepEqual([out.width, out.height], [20, 40]);
  const px = (x: number, y: number): number => out.data[(y * 20 + x) * 3] as number;
  assert.ok(px(15, 5) > 200 && px(5, 5) < 60 && px(5, 35) < 60, 'red block moved to the top-right');
  const crop = await decodeRegion(bytes, 'o.jpg', {}, { pre: { left: 10, top: 0, width: 10, height: 10 } });
  assert.ok((crop.data[0] as number) > 200 && (crop.data[crop.data.length - 3] as number) > 200, 'crop of the oriented frame is all red');
});

test('CMYK JPEG decodes to its sRGB colour, not inverted', async () => {
  const colour = [200, 60, 90] as const;
  const out = await decodeImage(await fx.cmykJpeg(colour), { id: 'cmyk.jpg' });
  assert.equal(out.channels, 3);
  // sRGB → CMYK → sRGB through ICC profiles loses a little (gamut mapping); an inverted decode would be off by >100.
  for (let c = 0; c < 3; c++) assert.ok(Math.abs((out.data[c] as number) - colour[c]!) <= 30, `channel ${c}: ${out.data[c]} vs ${colour[c]}`);
});

test('16-bit PNG: 256 distinct levels from a 1024-step ramp, 65535 → 255, grey and RGB', async () => {
  for (const channels of [1, 3] as const) {
    const out = await decodeImage(await fx.ramp16Png(1024, channels), { id: 'r16.png', channels: 'keep' });
    assert.equal(out.channels, channels);
    assert.equal(new Set(out.data).size, 256);
    assert.equal(out.data[0], 0);
    assert.equal(out.data[out.data.length - 1], 255);
    // Monotone: no wrap-around from a wrong shift.
    for (let i = channels; i < out.data.length; i += channels) assert.ok((out.data[i] as number) >= (out.data[i - channels] as number));
  }
});

test('grey, grey+alpha, palette and RGBA sources; channel modes; alpha onto the chosen background', async () => {
  const grey = fx.pattern(9, 5, 1);
  const g = await encode(grey.data, 9, 5, 1);
  assert.equal((await decodeImage(g, { id: 'g', channels: 'keep' })).channels, 1);
  const rgb = await decodeImage(g, { id: 'g' });
  assert.equal(rgb.channels, 3);
  assert.deepEqual([...rgb.data.subarray(0, 6)], [grey.data[0], grey.data[0], grey.data[0], grey.data[1], grey.data[1], grey.data[1]]);

  const ga = new Uint8Array(4 * 2);
  ga.set([100, 255, 100, 0, 100, 128, 100, 255]);
  const gaPng = await encode(ga, 2, 2, 2);
  const gaOut = await decodeImage(gaPng, { id: 'ga', channels: 'keep', background: 0 });
  assert.equal(gaOut.channels, 1);
  assert.deepEqual([...gaOut.data], [100, 0, 50, 100]);

  const rgba = new Uint8Array([255, 0, 0, 255, 255, 0, 0, 0]);
  const out = await decodeImage(await encode(rgba, 2, 1, 4), { id: 'rgba', background: [0, 255, 0] });
  assert.deepEqual([...out.data], [255, 0, 0, 0, 255, 0]);

  const pal = fx.pattern(10, 10);
  for (let i = 0; i < pal.data.length; i++) pal.data[i] = (pal.data[i] as number) & 0x80; // ≤ 8 colours: the palette is exact
  const palBytes = await fx.palettePng(pal);
  assert.equal(palBytes[25], 3, 'fixture is an indexed PNG');
  const palOut = await decodeImage(palBytes, { id: 'pal.png' });
  assert.equal(maxDiff(palOut, pal), 0);
  assert.equal(palOut.channels, 3);

  const colour = fx.pattern(4, 4);
  const greyOut = await decodeImage(await fx.encode(colour, 'png'), { id: 'c', channels: 'grey' });
  const [r, gg, b] = [colour.data[3], colour.data[4], colour.data[5]] as number[];
  assert.equal(greyOut.data[1], Math.floor((r! * 19595 + gg! * 38470 + b! * 7471 + 0x8000) / 65536), 'PIL 601-2 luma');
});

async function encode(data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Promise<Uint8Array> {
  return fx.input({ data, width, height, channels }).png().toBuffer();
}

test('truncated and corrupt files are DataErrors naming the sample', async () => {
  const img = fx.pattern(64, 48);
  for (const f of ['jpeg', 'png'] as const) {
    const bytes = await fx.encode(img, f);
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.7));
    await assert.rejects(decodeImage(cut, { id: `dir/cut.${f}` }), (e: unknown) => e instanceof DataError && e.id === `dir/cut.${f}` && e.message.includes(f));
  }
  await assert.rejects(decodeImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), { id: 'junk.bin' }), /junk\.bin: cannot decode image \(unrecognised format\)/);
  await assert.rejects(decodeImage(new Uint8Array(0), { id: 'empty.jpg' }), /empty\.jpg: empty file/);
  const jpg = await fx.encode(img, 'jpeg');
  const garbled = Uint8Array.from(jpg);
  garbled.fill(0, 200, 600);
  await assert.rejects(decodeImage(garbled, { id: 'garbled.jpg', failOn: 'error' }), (e: unknown) => e instanceof DataError && e.id === 'garbled.jpg');
});

test('maxPixels is checked from the header, before decoding', async () => {
  const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  await assert.rejects(decodeImage(big, { id: 'bomb.jpg', maxPixels: 1e6 }), /bomb\.jpg: image is 3000x2000 = 6000000 pixels, over the decompression limit of 1000000/);
  const png = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } }).webp().toBuffer();
  await assert.rejects(decodeImage(png, { id: 'bomb.webp', maxPixels: 1e6 }), /bomb\.webp: image is 2000x2000/);
  const b = fx.bmp(fx.pattern(2000, 600));
  await assert.rejects(decodeImage(b, { id: 'bomb.bmp', maxPixels: 1e6 }), /bomb\.bmp: image is 2000x600/);
});

test('timeoutMs rejects instead of waiting', async () => {
  const big = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png({ compressionLevel: 1 }).toBuffer();
  const t0 = performance.now();
  await assert.rejects(decodeImage(big, { id: 'slow.png', timeoutMs: 5 }), /slow\.png: decoding took longer than 5 ms/);
  assert.ok(performance.now() - t0 < 1000, 'rejected promptly');
});

test('shrink-on-load (crop ≥3× the output) stays close to the exact crop-then-resize', async () => {
  const img = fx.smooth(1600, 1200);
  const bytes = await fx.encode(img, 'jpeg');
  const g = { pre: { left: 300, top: 200, width: 900, height: 750 }, resize: { width: 224, height: 224, interpolation: 'bilinear' as const } };
  const fast = await decodeRegion(bytes, 'big.jpg', {}, g);
  const exact = await decodeRegion(bytes, 'big.jpg', { shrinkOnLoad: false }, g);
  let sum = 0;
  for (let i = 0; i < fast.data.length; i++) sum += Math.abs((fast.data[i] as number) - (exact.data[i] as number));
  const mean = sum / fast.data.length;
  assert.ok(mean < 3, `mean abs difference ${mean.toFixed(2)}`);
});

test('resizing grey pixels keeps one channel (libvips would hand back sRGB)', async () => {
  const img: RawImage = { data: Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 7) % 256), width: 28, height: 28, channels: 1 };
  const out = await applyGeometry(img, { resize: { width: 56, height: 42, interpolation: 'bilinear' } });
  assert.deepEqual([out.width, out.height, out.channels, out.data.length], [56, 42, 1, 56 * 42]);
  // A flat image stays flat at its value.
  const flat = await applyGeometry({ data: new Uint8Array(100).fill(77), width: 10, height: 10, channels: 1 }, { resize: { width: 5, height: 5, interpolation: 'bilinear' } });
  assert.ok(flat.data.every((v) => v === 77));
});
