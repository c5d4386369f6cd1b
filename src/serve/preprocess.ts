// Image bytes → the model's input, as `tessera predict` and evaluation prepare them: the run's saved
// Preprocessing (src/data/pipeline/preprocessing.ts) as it is — its decode channels and sample
// transforms through src/data/image's strict decoder, with the server's pixel limit, then its batch
// steps' normalisation, x·(1/(255·std)) + (−mean/std), computed here in float32 exactly as the
// normalize step computes it on a tensor (test/serve/routes.test.ts checks the two bit for bit), so
// the main thread needs no LibTorch work and the ONNX Runtime back end none at all.
import { Preprocessing, type PreprocessingJSON } from '../data/pipeline/preprocessing.js';
import { sniffFormat } from '../data/image/magic.js';
import { compose } from '../data/transforms/compose.js';
import { DataError, type RawImage } from '../data/types.js';
import { badRequest, ServeError } from './errors.js';

export interface EncodedImage {
  bytes: Uint8Array;
  /** Names the image in errors: a multipart file name, or 'body'. */
  id: string;
}

export interface Preprocessor {
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

/** The per-channel factors the normalize step computes, rounded to float32 as its tensors hold them. */
function affine(p: Preprocessing): { a: Float32Array; b: Float32Array } {
  const c = p.input.channels;
  if (p.mean.length !== 1 && p.mean.length !== c) throw new RangeError(`preprocessing: ${p.mean.length} means for ${c} channels`);
  const at = (v: readonly number[], i: number) => (v.length === 1 ? v[0] : v[i]) as number;
  return {
    a: Float32Array.from({ length: c }, (_, i) => 1 / (255 * at(p.std, i))),
    b: Float32Array.from({ length: c }, (_, i) => -at(p.mean, i) / at(p.std, i)),
  };
}

/** `saved`: a model's preprocessing as model.json or an ONNX file's metadata holds it. */
export function imagePreprocessor(saved: PreprocessingJSON, options: { maxPixels: number }): Preprocessor {
  const p = Preprocessing.fromJSON(saved);
  const { channels: c, height: h, width: w } = p.input;
  const pipeline = compose({ decode: { channels: p.decodeChannels, maxPixels: options.maxPixels }, transforms: p.transforms });
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
