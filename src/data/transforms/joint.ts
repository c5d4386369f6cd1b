// The per-sample pipeline of segmentation: an image and its mask through the same geometry. The
// image goes through the ordinary pipeline (compose.ts: decode, the leading crops and resizes folded
// into it, the rest on pixels); the mask through each geometric transform's mask form, drawing from
// the same stream (transformStream(ctx, i): keyed by seed, epoch, sample and position), so both get
// the same crop box, flip, angle and scale. What the mask form changes:
//   - resampling is nearest neighbour: a class id is never blended with its neighbour's;
//   - what padding brings in is 255 (ignore), not a class: the mask is shifted by one (id k → k + 1,
//     255 → 0) before the transforms and back after, so the 0 every transform pads with becomes 255;
//   - photometric transforms (colour, blur, noise, erasing) leave it alone.
// RandAugment and TrivialAugmentWide mix geometric and colour operations in one draw and are refused.
import { decodeMask } from '../image/mask.js';
import { probeImage } from '../image/decode.js';
import { DataError, type RawImage, type SampleContext, type SampleInput, type SamplePipeline } from '../types.js';
import { buildTransform, compose, transformStream, type ComposedPipeline, type ComposeOptions, type PipelineSummary } from './compose.js';
import type { Transform, TransformSpec } from './spec.js';

/** The transform's counterpart for the mask (undefined: it leaves masks alone). */
export function maskTransformSpec(spec: TransformSpec): TransformSpec | undefined {
  switch (spec.type) {
    case 'resize':
    case 'randomResizedCrop':
      return { ...spec, interpolation: 'nearest' };
    case 'rotation':
    case 'affine':
      return { ...spec, interpolation: 'nearest', fill: 0 };
    case 'randomCrop':
      return { ...spec, fill: 0 };
    case 'centerCrop':
    case 'horizontalFlip':
    case 'verticalFlip':
      return spec;
    case 'colorJitter':
    case 'grayscale':
    case 'gaussianBlur':
    case 'gaussianNoise':
    case 'randomErasing':
    case 'cutout':
      return undefined;
    case 'randAugment':
    case 'trivialAugmentWide':
      throw new RangeError(`${spec.type} mixes geometric and colour operations in one random draw and cannot move a segmentation mask with the image; use the geometric and photometric transforms on their own`);
  }
}

/** Class ids k → k + 1 and 255 → 0 (shift 1), or back (shift 255): padding's 0 becomes the ignore value. */
function shifted(m: RawImage, by: 1 | 255): RawImage {
  const data = new Uint8Array(m.data.length);
  for (let i = 0; i < data.length; i++) data[i] = ((m.data[i] as number) + by) & 255;
  return { ...m, data };
}

export class JointPipeline implements SamplePipeline {
  readonly image: ComposedPipeline;
  private readonly maskTransforms: (Transform | undefined)[];

  constructor(options: ComposeOptions) {
    this.image = compose(options);
    this.maskTransforms = this.image.transforms.map((t) => {
      const spec = maskTransformSpec(t.spec);
      return spec && buildTransform(spec);
    });
  }

  /** The image alone, exactly as the ordinary pipeline makes it (prediction, images without masks). */
  run(input: SampleInput, ctx: SampleContext, id?: string): Promise<RawImage> {
    return this.image.run(input, ctx, id);
  }

  async runWithMask(input: SampleInput, maskInput: SampleInput, ctx: SampleContext, id = `sample ${ctx?.index}`): Promise<{ image: RawImage; mask: RawImage }> {
    const maskId = `the mask of ${id}`;
    const mask = decodeMask(maskInput, maskId);
    const size = input.kind === 'encoded' ? await probeImage(input.bytes, id, this.image.decode) : input.image;
    if (size.width !== mask.width || size.height !== mask.height)
      throw new DataError(id, `its mask is ${mask.width}x${mask.height} but the image is ${size.width}x${size.height}; a mask must have its image's size`);
    const image = await this.image.run(input, ctx, id);
    let m = shifted(mask, 1);
    for (const [i, t] of this.maskTransforms.entries()) {
      if (!t) continue;
      try {
        m = await t.apply(m, transformStream(ctx, i));
      } catch (e) {
        throw new DataError(maskId, `transform ${i} (${t.spec.type}) failed on the mask: ${(e as Error).message}`, { cause: e });
      }
    }
    m = shifted(m, 255);
    if (m.width !== image.width || m.height !== image.height) throw new DataError(id, `the mask came out ${m.width}x${m.height} and the image ${image.width}x${image.height}`);
    return { image, mask: m };
  }

  /** The image's steps, one at a time (what `data explain` prints). */
  summary(input: SampleInput, ctx: SampleContext, id?: string): Promise<PipelineSummary> {
    return this.image.summary(input, ctx, id);
  }

  workerSpec(): { module: string; export: string; args: unknown } {
    return { module: import.meta.url, export: 'jointPipelineFromSpec', args: this.image.toJSON() };
  }

  toJSON(): ReturnType<ComposedPipeline['toJSON']> {
    return this.image.toJSON();
  }
}

/** A segmentation pipeline: decode options and transforms, as compose() takes them. */
export function jointCompose(options: ComposeOptions): JointPipeline {
  return new JointPipeline(options);
}

/** Worker-side factory named by workerSpec(). */
export function jointPipelineFromSpec(args: ComposeOptions): JointPipeline {
  return new JointPipeline(args);
}
