// Image bytes → the model's input, exactly as `tessera predict` and evaluation prepare images today
// (src/run/predict.ts): decode to the model's channels with src/data/image's strict decoder and its
// pixel limit, resize (bilinear) to height × width, center crop, then normalize as
// src/data/transforms/ops-batch.ts's normalize does, in float32: x·(1/(255·std)) + (−mean/std).
// When the saved Preprocessing object lands, this file is the one to swap: what it is, how the two
// back ends read it from model.json and from an ONNX file's metadata, and how it runs.
import { z } from 'zod';

import { formatIssues } from '../config/load.js';
import { sniffFormat } from '../data/image/magic.js';
import { compose } from '../data/transforms/compose.js';
import { centerCrop, resize } from '../data/transforms/geometric.js';
import { DataError, type RawImage } from '../data/types.js';
import type { ModelMeta } from '../run/saved-model.js';
import { badRequest, ServeError } from './errors.js';

/** Image → input, as the model was evaluated: decode, resize to height × width, /255, −mean, /std. */
export interface ImagePreprocessing {
  channels: 1 | 3;
  height: number;
  width: number;
  mean: number[];
  std: number[];
}

/** A run's preprocessing: model.json's fields, as `tessera predict` reads them. */
export function preprocessingOfRun(meta: ModelMeta): ImagePreprocessing {
  const { channels, height, width, mean, std } = meta;
  return { channels, height, width, mean, std };
}

// What src/export/run.ts's preprocessingOf writes into an ONNX file's metadata; the steps this file
// cannot repeat are refused.
const OnnxPreprocessing = z.object({
  channels: z.union([z.literal(1), z.literal(3)]),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
  interpolation: z.literal('bilinear').optional(),
  scale: z.number().refine((s) => Math.abs(s - 1 / 255) < 1e-9, 'only 1/255 is supported').optional(),
  layout: z.literal('NCHW').optional(),
});

/** An ONNX file's `preprocessing` metadata (parsed JSON); `where` names the file in errors. */
export function preprocessingOfOnnx(json: unknown, where: string): ImagePreprocessing {
  const p = OnnxPreprocessing.safeParse(json);
  if (!p.success) throw new Error(`${where}: metadata 'preprocessing' cannot be applied:\n${formatIssues(p.error.issues)}`);
  const { channels, height, width, mean, std } = p.data;
  return { channels, height, width, mean, std };
}

export interface EncodedImage {
  bytes: Uint8Array;
  /** Names the image in errors: a multipart file name, or 'body'. */
  id: string;
}

export interface Preprocessor {
  /** (C, H, W) of one prepared image. */
  readonly sampleShape: readonly [number, number, number];
  /** Decodes and prepares every image (in parallel, on libuv's threads); (n, C, H, W) float32. */
  prepare(images: readonly EncodedImage[]): Promise<Float32Array>;
}

/** The formats the image route reads; others are refused with 415 before any decoding. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const;

function checkFormat(img: EncodedImage): void {
  if (img.bytes.length === 0) throw badRequest(`image '${img.id}' is empty (0 bytes)`);
  const format = sniffFormat(img.bytes);
  if (format === undefined) throw badRequest(`image '${img.id}' is not a JPEG, PNG or WebP file (its first bytes match no image format)`);
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) throw new ServeError(415, `image '${img.id}' is ${format.toUpperCase()}; the server reads JPEG, PNG and WebP`);
}

/** The per-channel factors normalize() computes, rounded to float32 as its tensors hold them. */
function affine(p: ImagePreprocessing): { a: Float32Array; b: Float32Array } {
  const c = p.channels;
  if (p.mean.length !== p.std.length || (p.mean.length !== 1 && p.mean.length !== c))
    throw new RangeError(`preprocessing: ${p.mean.length} means and ${p.std.length} stds for ${c} channels`);
  const at = (v: readonly number[], i: number) => (v.length === 1 ? v[0] : v[i]) as number;
  return {
    a: Float32Array.from({ length: c }, (_, i) => 1 / (255 * at(p.std, i))),
    b: Float32Array.from({ length: c }, (_, i) => -at(p.mean, i) / at(p.std, i)),
  };
}

export function imagePreprocessor(p: ImagePreprocessing, options: { maxPixels: number }): Preprocessor {
  const { channels: c, height: h, width: w } = p;
  const size: [number, number] = [h, w];
  const pipeline = compose({ decode: { channels: c === 1 ? 'grey' : 'rgb', maxPixels: options.maxPixels }, transforms: [resize({ size }), centerCrop({ size })] });
  const { a, b } = affine(p);
  const plane = h * w;

  // HWC uint8 → CHW float32 at `out[offset…]`, each value rounded as torch's float32 mul_ then add_.
  const write = (img: RawImage, out: Float32Array, offset: number) => {
    for (let ch = 0; ch < c; ch++) {
      const ac = a[ch] as number;
      const bc = b[ch] as number;
      const base = offset + ch * plane;
      for (let i = 0; i < plane; i++) out[base + i] = Math.fround(Math.fround((img.data[i * c + ch] as number) * ac) + bc);
    }
  };

  return {
    sampleShape: [c, h, w],
    async prepare(images) {
      images.forEach(checkFormat);
      const decoded = await Promise.all(
        images.map(async (img, index) => {
          try {
            return await pipeline.run({ kind: 'encoded', bytes: img.bytes }, { seed: 0, epoch: 0, index }, `image '${img.id}'`);
          } catch (e) {
            // The decoder's DataError names the image and says why (truncated, corrupt, over the pixel limit).
            if (e instanceof DataError) throw badRequest(e.message);
            throw e;
          }
        }),
      );
      const out = new Float32Array(images.length * c * plane);
      decoded.forEach((img, i) => {
        if (img.width !== w || img.height !== h || img.channels !== c) throw new Error(`preprocessing gave a ${img.width}×${img.height}×${img.channels} image, expected ${w}×${h}×${c}`);
        write(img, out, i * c * plane);
      });
      return out;
    },
  };
}
