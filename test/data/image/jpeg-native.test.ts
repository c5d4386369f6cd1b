// The native JPEG path against PIL and torchvision (jpeg_reference.py), on the same files:
// - at full scale (dctScaling off) the pixels equal PIL's bit for bit: the full decode (libjpeg-
//   turbo's own, which PIL links), crops + antialiased bilinear resize + flip, grey output, EXIF
//   orientations, CMYK, progressive, 4:2:0 / 4:2:2 / 4:4:4, odd sizes, and Resize + CenterCrop;
// - float output equals torchvision's ToTensor + Normalize of PIL's pixels, bit for bit;
// - torchvision's tensor resized_crop(antialias=True) differs by at most 1 level (it resizes in
//   float and rounds once; PIL rounds after each pass);
// - with DCT scaling, PSNR ≥ 40 dB (CMYK 35 dB) against full decode + PIL's resize of the same crop.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import sharp from 'sharp';

import { decodeJpegBatch, probeJpeg, resizeCenterCrop, resizeImageBatch, type JpegSample } from '../../../src/data/image/jpeg-native.js';
import type { RawImage } from '../../../src/data/types.js';
import { lcg, maxAbsDiff, photo, psnr, reference, tempDir, writeJpeg, type Kind, type RefCase } from './jpeg-fixtures.js';

interface File {
  name: string;
  path: string;
  bytes: Uint8Array;
  width: number;
  height: number;
}

const files: File[] = [];
let big: File;

before(async () => {
  const dir = tempDir();
  const add = async (name: string, kind: Kind, seed: number, w: number, h: number, orientation = 1): Promise<File> => {
    const path = await writeJpeg(dir, name, kind, seed, w, h, orientation);
    const bytes = new Uint8Array(readFileSync(path));
    const info = probeJpeg(bytes, name);
    assert.ok(info, name);
    return { name, path, bytes, width: info.width, height: info.height };
  };
  // Odd sizes leave partial blocks and MCUs at the right and bottom edges.
  for (const [k, kind] of (['420', '444', '422', 'progressive', 'grey', 'cmyk'] as const).entries()) files.push(await add(`${kind}.jpg`, kind, k + 1, 203, 157));
  for (let o = 2; o <= 8; o++) files.push(await add(`orientation-${o}.jpg`, '420', 10 + o, 173, 131, o));
  big = await add('big.jpg', '420', 30, 960, 720);
});

/** The native output of one sample (uint8 unless `float`), through a batch of one. */
async function native(f: File, s: Omit<JpegSample, 'bytes' | 'id'>, out: [number, number], opts: { dctScaling?: boolean; channels?: 'rgb' | 'grey'; normalize?: { mean: number[]; std: number[] } } = {}): Promise<Uint8Array> {
  const channels = opts.channels === 'grey' ? 1 : 3;
  const n = channels * out[0] * out[1];
  const buf = opts.normalize ? new Float32Array(n) : new Uint8Array(n);
  const [err] = await decodeJpegBatch([{ bytes: f.bytes, id: f.name, ...s }], buf, { width: out[0], height: out[1], dctScaling: opts.dctScaling ?? false, ...opts });
  assert.equal(err, undefined, err?.message);
  return new Uint8Array(buf.buffer);
}

const box = (c: [number, number, number, number]) => ({ left: c[0], top: c[1], width: c[2], height: c[3] });

/** Random crop boxes inside a w×h image, and random output sizes (smaller and larger than the crop). */
function randomCases(f: File, n: number, seed: number): { crop: [number, number, number, number]; out: [number, number]; flip: boolean }[] {
  const r = lcg(seed);
  return Array.from({ length: n }, (_, k) => {
    const w = 1 + Math.floor(r() * f.width);
    const h = 1 + Math.floor(r() * f.height);
    const crop: [number, number, number, number] = [Math.floor(r() * (f.width - w + 1)), Math.floor(r() * (f.height - h + 1)), w, h];
    return { crop, out: [8 + Math.floor(r() * 90), 8 + Math.floor(r() * 90)], flip: k % 2 === 1 };
  });
}

test('full decode (whole image, no resize) equals libjpeg-turbo through PIL, bit for bit', async () => {
  const want = reference(files.map((f) => ({ file: f.path, ref: 'full' })));
  for (const [k, f] of files.entries()) {
    const got = await native(f, {}, [f.width, f.height]);
    assert.equal(maxAbsDiff(got, want[k] as Uint8Array), 0, f.name);
  }
});

test('crop → resize → flip at full scale equals PIL (RandomResizedCrop\'s path) bit for bit, rgb and grey', async () => {
  const cases: (RefCase & { f: File; grey: boolean })[] = [];
  for (const [i, f] of files.entries())
    for (const [k, c] of randomCases(f, 6, 100 + i).entries()) cases.push({ f, file: f.path, ref: 'pil', crop: c.crop, resize: c.out, out: c.out, flip: c.flip, grey: k === 5, channels: k === 5 ? 1 : 3 });
  const want = reference(cases);
  for (const [k, c] of cases.entries()) {
    const got = await native(c.f, { crop: box(c.crop!), flip: c.flip }, c.out!, { channels: c.grey ? 'grey' : 'rgb' });
    assert.equal(maxAbsDiff(got, want[k] as Uint8Array), 0, `${c.f.name} crop ${c.crop} → ${c.out}${c.flip ? ' flipped' : ''}${c.grey ? ' grey' : ''}`);
  }
});

test('float32 output equals torchvision ToTensor + Normalize of PIL\'s pixels, bit for bit', async () => {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const f = files[0] as File;
  const cases = randomCases(f, 3, 7).map((c) => ({ file: f.path, ref: 'pil' as const, crop: c.crop, resize: c.out, out: c.out, flip: c.flip, normalize: [mean, std] as [number[], number[]] }));
  const grey = { ...cases[0]!, channels: 1 as const, normalize: [[0.5], [0.25]] as [number[], number[]] };
  const want = reference([...cases, grey]);
  for (const [k, c] of cases.entries()) assert.equal(maxAbsDiff(await native(f, { crop: box(c.crop), flip: c.flip }, c.out, { normalize: { mean, std } }), want[k] as Uint8Array), 0, `crop ${c.crop}`);
  const g = await native(f, { crop: box(grey.crop), flip: grey.flip }, grey.out, { channels: 'grey', normalize: { mean: [0.5], std: [0.25] } });
  assert.equal(maxAbsDiff(g, want[3] as Uint8Array), 0, 'grey');
});

test('torchvision resized_crop(antialias=True) on the tensor: within 1 level', async () => {
  const cases: (RefCase & { f: File })[] = [];
  for (const [i, f] of files.slice(0, 3).entries()) for (const c of randomCases(f, 4, 300 + i)) cases.push({ f, file: f.path, ref: 'tensor', crop: c.crop, resize: c.out, out: c.out, flip: c.flip });
  const want = reference(cases);
  for (const [k, c] of cases.entries()) {
    const d = maxAbsDiff(await native(c.f, { crop: box(c.crop!), flip: c.flip }, c.out!), want[k] as Uint8Array);
    assert.ok(d <= 1, `${c.f.name} crop ${c.crop}: max diff ${d}`);
  }
});

test('Resize(S) + CenterCrop(C) (resizeCenterCrop) equals torchvision\'s transforms on PIL, bit for bit', async () => {
  const cases = [
    { f: big, resize: 256, crop: [224, 224] as [number, number] },
    { f: files[0] as File, resize: 100, crop: [96, 80] as [number, number] },
    { f: files[7] as File, resize: 64, crop: [64, 60] as [number, number] }, // orientation 3
    { f: files[10] as File, resize: 90, crop: [75, 90] as [number, number] }, // orientation 6: upright is portrait
  ];
  const want = reference(cases.map((c) => ({ file: c.f.path, ref: 'eval', resize: c.resize, out: c.crop })));
  for (const [k, c] of cases.entries()) {
    const got = await native(c.f, resizeCenterCrop(c.f, c.resize, [c.crop[1], c.crop[0]]), c.crop);
    assert.equal(maxAbsDiff(got, want[k] as Uint8Array), 0, `${c.f.name} Resize(${c.resize}) + CenterCrop(${c.crop[0]}x${c.crop[1]})`);
  }
});

test('decoded pixels (resizeImageBatch) get the same crop, resize, flip and grey as a JPEG, and PIL\'s pixels for a PNG', async () => {
  for (const [i, f] of files.slice(0, 8).entries()) {
    // The full decode, as HWC pixels another decoder would hand over.
    const chw = await native(f, {}, [f.width, f.height]);
    const plane = f.width * f.height;
    const image: RawImage = { width: f.width, height: f.height, channels: 3, data: Uint8Array.from({ length: 3 * plane }, (_, k) => chw[(k % 3) * plane + Math.floor(k / 3)] as number) };
    for (const [k, c] of randomCases(f, 3, 500 + i).entries()) {
      const grey = k === 2;
      const out = new Uint8Array((grey ? 1 : 3) * c.out[0] * c.out[1]);
      await resizeImageBatch([{ image, id: f.name, crop: box(c.crop), flip: c.flip }], out, { width: c.out[0], height: c.out[1], channels: grey ? 'grey' : 'rgb' });
      const want = await native(f, { crop: box(c.crop), flip: c.flip }, c.out, { channels: grey ? 'grey' : 'rgb' });
      assert.equal(maxAbsDiff(out, want), 0, `${f.name} crop ${c.crop} → ${c.out}${grey ? ' grey' : ''}`);
    }
  }
  const png = join(tempDir(), 'p.png');
  const px = photo(5, 97, 61);
  writeFileSync(png, await sharp(px, { raw: { width: 97, height: 61, channels: 3 } }).png().toBuffer());
  const [want] = reference([{ file: png, ref: 'pil', crop: [3, 2, 90, 50], resize: [33, 21], out: [33, 21], flip: true }]);
  const out = new Uint8Array(3 * 33 * 21);
  await resizeImageBatch([{ image: { width: 97, height: 61, channels: 3, data: px }, id: 'p.png', crop: { left: 3, top: 2, width: 90, height: 50 }, flip: true }], out, { width: 33, height: 21 });
  assert.equal(maxAbsDiff(out, want as Uint8Array), 0, 'PNG pixels through the kernel equal PIL');
  await assert.rejects(resizeImageBatch([{ image: { width: 4, height: 4, channels: 3, data: new Uint8Array(47) }, id: 'short' }], out, { width: 33, height: 21 }), /short: 47 bytes for a 4x4x3 image/);
});

// Decoding at 1/2, 1/4 or 1/8 scale low-passes in the DCT domain instead of with PIL's triangle
// filter, so the pixels differ slightly, most at hard edges. Measured on these files (photo-like,
// with hard-edged blocks): 44–53 dB, max error 5–18 levels; 52–54 dB (max 2–3) on a 4000×3000 photo
// without blocks at 1/4 and 1/8. CMYK converts to RGB after the scaled decode (a product of two
// channels), which doubles the error at edges: 38 dB. 40 dB is an RMS error of 2.5 levels (35 dB:
// 4.5), invisible; measured for contrast: the 700-px crop moved by 2 source pixels (under 1 output
// pixel) gives 36 dB, by 8 pixels 27 dB, a missing mirror 12 dB.
test('DCT scaling: PSNR ≥ 40 dB (CMYK ≥ 35 dB) against full decode + PIL resize of the same crop', async () => {
  const specs: { f: File; crop: [number, number, number, number]; out: [number, number]; flip: boolean }[] = [
    { f: big, crop: [0, 0, 960, 720], out: [224, 168], flip: false }, // 1/4
    { f: big, crop: [130, 47, 700, 610], out: [224, 224], flip: true }, // 1/2
    { f: big, crop: [301, 222, 480, 400], out: [56, 48], flip: false }, // 1/8
    { f: big, crop: [5, 9, 931, 702], out: [100, 90], flip: true }, // 1/8
  ];
  for (const f of files.filter((x) => x.name.startsWith('orientation') || x.name === 'cmyk.jpg' || x.name === 'grey.jpg' || x.name === 'progressive.jpg'))
    specs.push({ f, crop: [7, 5, f.width - 20, f.height - 13], out: [40, 30], flip: true });
  const want = reference(specs.map((s) => ({ file: s.f.path, ref: 'pil', crop: s.crop, resize: s.out, out: s.out, flip: s.flip })));
  for (const [k, s] of specs.entries()) {
    const got = await native(s.f, { crop: box(s.crop), flip: s.flip }, s.out, { dctScaling: true });
    const p = psnr(got, want[k] as Uint8Array);
    // Not equal: the scaled decode really ran (full scale would match exactly).
    assert.ok(p !== Infinity, `${s.f.name} crop ${s.crop} → ${s.out}: identical to full scale, so no DCT scaling happened`);
    const min = s.f.name === 'cmyk.jpg' ? 35 : 40;
    assert.ok(p >= min, `${s.f.name} crop ${s.crop} → ${s.out}: PSNR ${p.toFixed(1)} dB < ${min}`);
  }
});
