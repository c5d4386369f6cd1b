// Joint transforms keep image and mask aligned: the masks are drawn from the images themselves
// (each pixel's class is a function of its colour), so after every geometric transform — per
// sample (crops, flips, rotation, affine, resizes) and per batch (the joint crop and flip), through
// workers or not — the mask must still equal that function of the transformed image. And masks are
// never blended (nearest neighbour), padding is 255 (ignore), photometric transforms leave masks alone.
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { decodeMaskPng } from '../../../src/data/image/mask.js';
import { DataLoader } from '../../../src/data/loader/loader.js';
import { jointCropFlipStep } from '../../../src/data/pipeline/targets.js';
import { RandomStream } from '../../../src/data/random.js';
import { JointPipeline } from '../../../src/data/transforms/joint.js';
import type { TransformSpec } from '../../../src/data/transforms/spec.js';
import type { IndexedDataset, RawImage, SampleRecord } from '../../../src/data/types.js';

// Class k's colour (never black: black is what padding brings in), and the colour of ignored pixels.
const PALETTE: [number, number, number][] = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [220, 220, 40], [40, 220, 220]];
const IGNORE_COLOUR: [number, number, number] = [128, 128, 128];

/** The class a colour stands for: the nearest palette colour; black (padding) and grey are 255. */
function classOf(r: number, g: number, b: number): number {
  const all: [number, number, number, number][] = [...PALETTE.map((c, k) => [...c, k] as [number, number, number, number]), [...IGNORE_COLOUR, 255], [0, 0, 0, 255]];
  let best = 255;
  let dist = Infinity;
  for (const [cr, cg, cb, k] of all) {
    const d = (r - cr) ** 2 + (g - cg) ** 2 + (b - cb) ** 2;
    if (d < dist) [dist, best] = [d, k];
  }
  return best;
}

/** A 40×30 image of 5×5 blocks of random classes (some ignored), and its mask. */
function blocks(seed: number): { image: RawImage; mask: RawImage } {
  const [w, h] = [40, 30];
  const rng = new RandomStream({ seed, purpose: 'test' });
  const image = new Uint8Array(w * h * 3);
  const mask = new Uint8Array(w * h);
  for (let by = 0; by < h / 5; by++)
    for (let bx = 0; bx < w / 5; bx++) {
      const k = rng.bernoulli(0.1) ? 255 : rng.int(0, PALETTE.length);
      for (let y = by * 5; y < by * 5 + 5; y++)
        for (let x = bx * 5; x < bx * 5 + 5; x++) {
          mask[y * w + x] = k;
          image.set(k === 255 ? IGNORE_COLOUR : (PALETTE[k] as number[]), 3 * (y * w + x));
        }
    }
  return { image: { data: image, width: w, height: h, channels: 3 }, mask: { data: mask, width: w, height: h, channels: 1 } };
}

const pngOf = (im: RawImage) => {
  let s = sharp(im.data, { raw: { width: im.width, height: im.height, channels: im.channels } });
  if (im.channels === 1) s = s.toColourspace('b-w');
  return s.png().toBuffer();
};

/**
 * Pixels where the mask is not the class of the image's colour; `interior`: only those whose 5×5 mask
 * neighbourhood is uniform (a bilinear resize blends the image across a region's edge, over its kernel).
 */
function misaligned(image: RawImage, mask: RawImage, interior = false): number {
  assert.equal(image.width, mask.width);
  assert.equal(image.height, mask.height);
  let bad = 0;
  for (let y = 0; y < image.height; y++)
    for (let x = 0; x < image.width; x++) {
      const p = y * image.width + x;
      if (interior) {
        let uniform = true;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
          const [yy, xx] = [Math.min(image.height - 1, Math.max(0, y + dy)), Math.min(image.width - 1, Math.max(0, x + dx))];
          if (mask.data[yy * image.width + xx] !== mask.data[p]) uniform = false;
        }
        if (!uniform) continue;
      }
      if (classOf(image.data[3 * p] as number, image.data[3 * p + 1] as number, image.data[3 * p + 2] as number) !== mask.data[p]) bad++;
    }
  return bad;
}

const GEOMETRY: TransformSpec[] = [
  { type: 'randomResizedCrop', size: [26, 34], scale: [0.3, 1], interpolation: 'nearest' },
  { type: 'horizontalFlip' },
  { type: 'verticalFlip' },
  { type: 'rotation', degrees: 35 },
  { type: 'affine', degrees: 10, translate: [0.1, 0.15], scale: [0.8, 1.2], shear: 8 },
  { type: 'randomCrop', size: 20, padding: 4 },
  { type: 'centerCrop', size: 24 },
  { type: 'resize', size: [31, 27], interpolation: 'nearest' },
];

describe('joint image + mask transforms', () => {
  it('after every geometric transform the mask is still the function of the image (nearest resampling: every pixel)', async () => {
    const pipeline = new JointPipeline({ decode: { channels: 'rgb' }, transforms: GEOMETRY });
    let padded = 0;
    for (let s = 0; s < 12; s++) {
      const { image, mask } = blocks(s);
      const out = await pipeline.runWithMask({ kind: 'encoded', bytes: await pngOf(image) }, { kind: 'encoded', bytes: await pngOf(mask) }, { seed: 3, epoch: s % 3, index: s });
      assert.equal(out.image.width, 27);
      assert.equal(out.mask.height, 31);
      assert.equal(misaligned(out.image, out.mask), 0, `sample ${s}`);
      // No blended ids: every mask value is a class or 255.
      for (const v of out.mask.data) assert.ok(v < PALETTE.length || v === 255, `mask value ${v}`);
      padded += out.mask.data.filter((v, p) => v === 255 && out.image.data[3 * p] === 0).length;
    }
    assert.ok(padded > 0, 'padding (rotation, affine, crops) came in as 255');
  });

  it("with the image's bilinear resizes, the mask (nearest) still matches inside every region", async () => {
    const specs: TransformSpec[] = [{ type: 'resize', size: 23 }, { type: 'horizontalFlip' }, { type: 'randomResizedCrop', size: 28, scale: [0.5, 1] }, { type: 'rotation', degrees: 20, interpolation: 'bilinear' }];
    const pipeline = new JointPipeline({ decode: { channels: 'rgb' }, transforms: specs });
    for (let s = 0; s < 8; s++) {
      const { image, mask } = blocks(100 + s);
      const out = await pipeline.runWithMask({ kind: 'encoded', bytes: await pngOf(image) }, { kind: 'encoded', bytes: await pngOf(mask) }, { seed: 1, epoch: 0, index: s });
      assert.equal(misaligned(out.image, out.mask, true), 0, `sample ${s}`);
      for (const v of out.mask.data) assert.ok(v < PALETTE.length || v === 255, `mask value ${v} is a blend`);
    }
  });

  it('photometric transforms change the image only; the image path is the ordinary pipeline', async () => {
    const plain = new JointPipeline({ decode: { channels: 'rgb' }, transforms: GEOMETRY });
    const coloured = new JointPipeline({ decode: { channels: 'rgb' }, transforms: [...GEOMETRY, { type: 'colorJitter', brightness: 0.5, hue: 0.2 }, { type: 'gaussianBlur', kernelSize: 3 }] });
    const { image, mask } = blocks(7);
    const input = { kind: 'encoded' as const, bytes: await pngOf(image) };
    const maskInput = { kind: 'encoded' as const, bytes: await pngOf(mask) };
    const ctx = { seed: 5, epoch: 1, index: 4 };
    const a = await plain.runWithMask(input, maskInput, ctx);
    const b = await coloured.runWithMask(input, maskInput, ctx);
    assert.deepEqual(b.mask.data, a.mask.data);
    assert.notDeepEqual(b.image.data, a.image.data);
    assert.deepEqual((await plain.run(input, ctx)).data, a.image.data, 'run() and runWithMask() give the same image');
  });

  it('RandAugment is refused: it mixes geometry and colour in one draw', () => {
    assert.throws(() => new JointPipeline({ transforms: [{ type: 'randAugment' }] }), /randAugment mixes geometric and colour operations/);
  });

  it('through the loader (worker threads) and the batch crop/flip, every batch stays aligned', async () => {
    const records = await Promise.all(
      Array.from({ length: 10 }, async (_, i): Promise<SampleRecord> => {
        const { image, mask } = blocks(200 + i);
        return { input: { kind: 'encoded', bytes: await pngOf(image) }, label: -1, id: `blocks-${i}`, target: { kind: 'mask', mask: { kind: 'encoded', bytes: await pngOf(mask) } } };
      }),
    );
    const dataset: IndexedDataset = { kind: 'indexed', length: records.length, classes: ['a', 'b', 'c', 'd', 'e'], labels: () => new Int32Array(records.length).fill(-1), read: async (i) => records[i] as SampleRecord, describe: () => 'blocks' };
    const pipeline = new JointPipeline({ decode: { channels: 'rgb' }, transforms: [{ type: 'resize', size: [24, 32], interpolation: 'nearest' }, { type: 'horizontalFlip' }, { type: 'rotation', degrees: 15 }] });
    const outs: { x: Uint8Array; y: BigInt64Array }[][] = [];
    for (const workers of [0, 2]) {
      const loader = new DataLoader(dataset, { batchSize: 4, shuffle: true, seed: 9, workers, pipeline, batchTransforms: [jointCropFlipStep(3, true).transform] });
      const got: { x: Uint8Array; y: BigInt64Array }[] = [];
      try {
        for await (const b of loader.epoch(1)) {
          const [n, , h, w] = b.x.shape as [number, number, number, number];
          assert.deepEqual(b.y.shape, [n, h, w]);
          assert.equal(b.y.dtype, 'int64');
          const x = b.x.permute([0, 2, 3, 1]).contiguous().data() as Uint8Array;
          const y = b.y.data() as BigInt64Array;
          for (let s = 0; s < n; s++) {
            const image = { data: x.subarray(s * h * w * 3, (s + 1) * h * w * 3), width: w, height: h, channels: 3 as const };
            const mask = { data: Uint8Array.from(y.subarray(s * h * w, (s + 1) * h * w), Number), width: w, height: h, channels: 1 as const };
            assert.equal(misaligned(image, mask), 0, `${b.ids[s]} (workers ${workers})`);
          }
          got.push({ x, y });
          b.x.dispose();
          b.y.dispose();
        }
      } finally {
        await loader.close();
      }
      outs.push(got);
    }
    assert.deepEqual(outs[1], outs[0], 'the same batches with and without worker threads');
  });
});

/** A PNG file written by hand: colour type, bit depth and palette as given (what sharp cannot make). */
function pngFile(width: number, height: number, colour: number, depth: number, rows: Uint8Array[], palette?: number[][]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colour;
  // Filter 1 (Sub) on odd rows, 0 on even ones: the decoder must undo filters.
  const raw = Buffer.concat(rows.map((r, y) => {
    const bpp = Math.max(1, (r.length / width) | 0);
    const f = y % 2 === 1 ? Uint8Array.from(r, (v, i) => (v - (i >= bpp ? (r[i - bpp] as number) : 0)) & 255) : r;
    return Buffer.concat([Buffer.from([y % 2]), Buffer.from(f)]);
  }));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', Buffer.from(palette.flat()))] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('mask files', () => {
  it('palette PNGs give their indices (not the colours), grey PNGs their values, at bit depths 2, 8 and 16', () => {
    const ids = [[0, 1, 2, 3], [3, 2, 1, 0]];
    // Palette, 8-bit: VOC-style colours whose luminance says nothing about the ids.
    const pal = decodeMaskPng(pngFile(4, 2, 3, 8, ids.map((r) => Uint8Array.from(r)), [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]), 'pal');
    assert.deepEqual(Array.from(pal.data), ids.flat());
    // Palette, 2-bit: four pixels in one byte.
    const packed = ids.map((r) => Uint8Array.of((r[0]! << 6) | (r[1]! << 4) | (r[2]! << 2) | r[3]!));
    assert.deepEqual(Array.from(decodeMaskPng(pngFile(4, 2, 3, 2, packed, [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]]), 'pal2').data), ids.flat());
    // Grey 16-bit.
    const sixteen = ids.map((r) => Uint8Array.from(r.flatMap((v) => [0, v])));
    assert.deepEqual(Array.from(decodeMaskPng(pngFile(4, 2, 0, 16, sixteen), 'g16').data), ids.flat());
    // RGB whose channels agree (a grey mask saved as colour).
    const rgb = ids.map((r) => Uint8Array.from(r.flatMap((v) => [v, v, v])));
    assert.deepEqual(Array.from(decodeMaskPng(pngFile(4, 2, 2, 8, rgb), 'rgb').data), ids.flat());
  });

  it('refuses colour masks, JPEGs, interlacing and 16-bit ids above 255, naming the file', async () => {
    assert.throws(() => decodeMaskPng(pngFile(1, 1, 2, 8, [Uint8Array.of(10, 20, 30)]), 'a.png'), /a\.png: mask is a colour image \(pixel 0,0 is RGB 10,20,30\)/);
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).jpeg().toBuffer();
    assert.throws(() => decodeMaskPng(jpeg, 'b.jpg'), /b\.jpg: mask is a JPEG: masks must be PNG files/);
    const interlaced = pngFile(1, 1, 0, 8, [Uint8Array.of(1)]);
    interlaced[8 + 8 + 12] = 1; // IHDR's interlace byte
    assert.throws(() => decodeMaskPng(interlaced, 'c.png'), /c\.png: .*interlaced/);
    assert.throws(() => decodeMaskPng(pngFile(1, 1, 0, 16, [Uint8Array.of(1, 0)]), 'd.png'), /d\.png: mask pixel 0,0 is 256/);
  });
});
