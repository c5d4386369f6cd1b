// Whether, and how, the loader runs a sample pipeline on the native JPEG kernel (image/jpeg-native.ts)
// instead of sharp: decided once per pipeline, from its spec — a "plan" the loader keeps and
// `tessera data explain` prints.
//
// The kernel does decode → crop → resize (bilinear) → window → horizontal flip → write into the
// batch. So a pipeline is planned native when its decode gives a fixed channel count ('rgb' or
// 'grey') and its transforms are geometric ones that fold into one decode (resize, centerCrop,
// randomCrop, randomResizedCrop; bilinear), ending in a fixed size, then at most one
// horizontalFlip. Each sample's crop box comes from the same code as the sharp path's
// (foldGeometry: the transforms' own `plan`, their own random streams), and the flip from the
// same draw (drawFlip), so both paths crop the same box and flip the same samples; only the
// resize's arithmetic differs (PIL's, bit for bit, at full DCT scale; see jpeg-native.test.ts).
//
// Per sample the plan may still say "not this one": a file that is not a JPEG whose header the
// probe reads (PNG, WebP, a damaged file), decoded pixels, an image over the pixel limit, or
// geometry that does not fold for this image (a centre crop larger than the image pads). Those
// samples take the sharp path, inside the same batch, and so does every sample the kernel fails
// on — so a bad file is judged by sharp, with sharp's reason, exactly as without the kernel.
//
// A first batch transform that maps each byte to a float by itself (toFloat, normalize) is fused:
// the kernel writes its floats (byteTable: the transform run on the 256 byte values) and the
// loader skips it.
import { DECODE_LIMITS } from '../image/decode.js';
import { probeJpeg, type JpegBatchOptions, type JpegSample } from '../image/jpeg-native.js';
import type { BatchTransform } from '../transforms/batch.js';
import { byteTable } from '../transforms/bytewise.js';
import { ComposedPipeline, foldGeometry, transformStream } from '../transforms/compose.js';
import { drawFlip } from '../transforms/geometric.js';
import { hw, type Transform, type TransformSpec } from '../transforms/spec.js';
import type { SampleContext, SamplePipeline } from '../types.js';

/** The transforms that fold into one decode geometry (crop → resize → crop). */
const GEOMETRIC = new Set<TransformSpec['type']>(['resize', 'centerCrop', 'randomCrop', 'randomResizedCrop']);

export interface NativePlan {
  native: true;
  /** Every sample's output: the batch's C×H×W. */
  channels: 1 | 3;
  height: number;
  width: number;
  /** Float output through this table (the fused first batch transform), else uint8. */
  table: Float32Array | undefined;
  /** Leading batch transforms the kernel does (0 or 1): the loader runs the rest. */
  fused: number;
  /** Kernel threads (the loader's workers, at least 1). */
  threads: number;
  /** The kernel call's options, less the per-batch ones. */
  options: Omit<JpegBatchOptions, 'normalize'>;
  /** The kernel's sample for these bytes, or undefined when this sample takes the sharp path. */
  sample(bytes: Uint8Array, ctx: SampleContext, id: string): Omit<JpegSample, 'slot'> | undefined;
  /** One line: what the kernel does, for logs and `data explain`. */
  describe(): string;
}

export type JpegPlan = NativePlan | { native: false; reason: string; describe(): string };

/** The plan that sends every sample through sharp, saying why. */
export const notNative = (reason: string): JpegPlan => ({ native: false, reason, describe: () => `sharp, sample by sample (not the native JPEG path: ${reason})` });

const interpolationOf = (s: TransformSpec): string | undefined => ('interpolation' in s ? s.interpolation : undefined);

/** The output size a run of geometric transforms ends in, when it does not depend on the image. */
function fixedSize(last: TransformSpec): { height: number; width: number } | undefined {
  if (last.type === 'resize' && typeof last.size === 'number') return undefined;
  if (!('size' in last)) return undefined;
  const [height, width] = hw(last.size as number | readonly [number, number]);
  return { height, width };
}

/**
 * The plan for `pipeline` followed by `batchTransforms`, with `workers` (the loader's setting) as
 * the kernel's thread count. Not native, with the reason, when the kernel cannot do the pipeline.
 */
export function planJpegPath(pipeline: SamplePipeline | undefined, batchTransforms: readonly BatchTransform[], workers: number): JpegPlan {
  if (!pipeline) return notNative('the loader has no per-sample pipeline');
  if (!(pipeline instanceof ComposedPipeline)) return notNative('the sample pipeline is not a compose() pipeline');
  const { decode, transforms } = pipeline;
  const channelMode = decode.channels ?? 'rgb';
  if (channelMode === 'keep') return notNative("decode.channels 'keep' gives grey or colour depending on the file");
  if (decode.timeoutMs !== undefined) return notNative('decode.timeoutMs is set (the kernel has no per-decode time limit)');
  const specs = transforms.map((t) => t.spec);
  let g = 0;
  while (g < specs.length && GEOMETRIC.has((specs[g] as TransformSpec).type)) g++;
  const rest = specs.slice(g);
  const flip = rest[0]?.type === 'horizontalFlip' ? g : undefined;
  const extra = rest.slice(flip === undefined ? 0 : 1)[0];
  if (extra && GEOMETRIC.has(extra.type)) return notNative(`transform ${specs.indexOf(extra)} (${extra.type}) comes after the flip; the kernel crops and resizes before it flips`);
  if (extra) return notNative(`transform ${specs.indexOf(extra)} (${extra.type}) runs on decoded pixels`);
  if (g === 0) return notNative('no crop or resize gives the samples one size');
  for (const [i, s] of specs.slice(0, g).entries()) {
    const interpolation = interpolationOf(s);
    if (interpolation !== undefined && interpolation !== 'bilinear') return notNative(`transform ${i} (${s.type}) resizes ${interpolation}; the kernel resizes bilinear only`);
  }
  if (specs.slice(0, g).filter((s) => s.type === 'resize' || s.type === 'randomResizedCrop').length > 1) return notNative('two resizes do not fold into one decode');
  const size = fixedSize(specs[g - 1] as TransformSpec);
  if (!size) return notNative(`the output size depends on each image (transform ${g - 1}, ${(specs[g - 1] as TransformSpec).type} to one side; add a centerCrop)`);

  const channels: 1 | 3 = channelMode === 'grey' ? 1 : 3;
  let table: Float32Array | undefined;
  try {
    table = batchTransforms[0] ? byteTable(batchTransforms[0], channels) : undefined;
  } catch {
    table = undefined; // it refuses this channel count: not fused, so it fails where it always did, on the first batch
  }
  const threads = Math.max(1, workers);
  const maxPixels = decode.maxPixels ?? DECODE_LIMITS.maxPixels;
  const geometric = transforms.slice(0, g) as Transform[];
  const flipSpec = flip === undefined ? undefined : (specs[flip] as Extract<TransformSpec, { type: 'horizontalFlip' }>);
  const steps = [...specs.slice(0, g).map((s) => s.type), ...(flipSpec ? ['horizontalFlip'] : [])].join(' → ');
  return {
    native: true,
    channels,
    ...size,
    table,
    fused: table ? 1 : 0,
    threads,
    options: {
      width: size.width,
      height: size.height,
      channels: channelMode,
      maxPixels,
      failOn: decode.failOn ?? DECODE_LIMITS.failOn,
      dctScaling: decode.shrinkOnLoad ?? true,
      threads,
    },
    sample(bytes, ctx, id) {
      let info;
      try {
        info = probeJpeg(bytes, id, { maxPixels });
      } catch {
        return undefined; // over the pixel limit: the sharp path says so, in its words
      }
      if (!info) return undefined;
      let folded;
      try {
        folded = foldGeometry(geometric, info, ctx, id);
      } catch {
        return undefined; // a transform refuses this image: the sharp path reports it
      }
      const { geometry: gm, size: out } = folded;
      if (folded.folded < g || out.width !== size.width || out.height !== size.height) return undefined;
      // Without a resize every crop folds into `pre`; a crop after the resize is the kernel's window.
      const crop = gm.pre ?? { left: 0, top: 0, width: info.width, height: info.height };
      return {
        bytes,
        id,
        crop,
        resize: gm.resize ? { width: gm.resize.width, height: gm.resize.height } : { width: crop.width, height: crop.height },
        offset: gm.post ? { left: gm.post.left, top: gm.post.top } : { left: 0, top: 0 },
        flip: flipSpec !== undefined && drawFlip(flipSpec, transformStream(ctx, flip as number)),
      };
    },
    describe: () =>
      `native JPEG kernel (libjpeg-turbo, ${threads} thread${threads === 1 ? '' : 's'}): decode → ${steps} → ${size.width}×${size.height}×${channels} ` +
      `${table ? 'float32 (first batch transform fused)' : 'uint8'}, written into the batch; other files through sharp, sample by sample`,
  };
}
