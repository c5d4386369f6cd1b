// A per-sample pipeline: decode, then transforms. The leading crops and resizes fold into the one
// sharp call that decodes (crop → resize → crop, JPEG shrink-on-load when it pays), and the rest
// runs in JS on the small result. Transform i draws from transformStream(ctx, i) whether it was
// folded or not, so folding never changes which numbers a sample gets.
import { applyGeometry, decodeRegion, probeImage, toChannels, type DecodeOptions, type Geometry } from '../image/decode.js';
import { checkOptions, isOptionsObject, show } from '../options.js';
import { RandomStream } from '../random.js';
import { DataError, type RawImage, type SampleContext, type SampleInput, type SamplePipeline } from '../types.js';
import { randAugment, trivialAugmentWide } from './autoaugment.js';
import { affine, centerCrop, horizontalFlip, randomCrop, randomResizedCrop, resize, rotation, verticalFlip } from './geometric.js';
import { colorJitter, cutout, gaussianBlur, gaussianNoise, grayscale, randomErasing } from './photometric.js';
import { TRANSFORM_TYPES, type GeometryOp, type Size, type Transform, type TransformSpec } from './spec.js';

/**
 * The numbers transform `position` of a pipeline draws for one sample: keyed by (seed, epoch, sample
 * index, position), so they do not depend on worker count, order, or the other transforms.
 */
export function transformStream(ctx: SampleContext, position: number): RandomStream {
  return new RandomStream({ seed: ctx.seed, purpose: 'augment', epoch: ctx.epoch, index: ctx.index, stream: position });
}

/** Rebuilds a transform from its spec (what a worker thread receives). */
export function buildTransform(spec: TransformSpec): Transform {
  switch (spec.type) {
    case 'resize': return resize(spec);
    case 'centerCrop': return centerCrop(spec);
    case 'randomCrop': return randomCrop(spec);
    case 'randomResizedCrop': return randomResizedCrop(spec);
    case 'horizontalFlip': return horizontalFlip(spec);
    case 'verticalFlip': return verticalFlip(spec);
    case 'rotation': return rotation(spec);
    case 'affine': return affine(spec);
    case 'colorJitter': return colorJitter(spec);
    case 'grayscale': return grayscale(spec);
    case 'gaussianBlur': return gaussianBlur(spec);
    case 'gaussianNoise': return gaussianNoise(spec);
    case 'randomErasing': return randomErasing(spec);
    case 'cutout': return cutout(spec);
    case 'randAugment': return randAugment(spec);
    case 'trivialAugmentWide': return trivialAugmentWide(spec);
    default: throw new TypeError(`unknown transform type ${show((spec as { type?: unknown }).type)} (types: ${TRANSFORM_TYPES.join(', ')})`);
  }
}

export interface ComposeOptions {
  /** How encoded inputs are decoded; for pixel inputs only `channels` applies (default: as given). */
  decode?: DecodeOptions;
  transforms: readonly (Transform | TransformSpec)[];
}

export interface SummaryStep {
  step: string;
  width?: number;
  height?: number;
  channels?: number;
  ms: number;
  /** Set on the step that failed; later steps are not run. */
  error?: string;
}

export interface PipelineSummary {
  ok: boolean;
  steps: SummaryStep[];
  /** How many leading transforms `run` folds into the decode call for this sample. */
  folded: number;
  text: string;
}

/** Adds op to the geometry if sharp can still express it (crop → resize → crop); false otherwise. */
function fold(g: Geometry, op: GeometryOp, size: Size): Size | undefined {
  if (op.kind === 'none') return size;
  if (op.kind === 'resize') {
    if (g.resize || g.post) return undefined;
    g.resize = { width: op.width, height: op.height, interpolation: op.interpolation };
    return { width: op.width, height: op.height };
  }
  const b = op.box;
  if (!g.resize) g.pre = g.pre ? { ...b, left: g.pre.left + b.left, top: g.pre.top + b.top } : { ...b };
  else g.post = g.post ? { ...b, left: g.post.left + b.left, top: g.post.top + b.top } : { ...b };
  return { width: b.width, height: b.height };
}

function describeSpec(s: TransformSpec): string {
  const { type, ...rest } = s;
  const args = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return `${type}(${args})`;
}

function stepError(id: string, i: number, t: Transform, size: Size & { channels?: number }, e: unknown): DataError {
  if (e instanceof DataError) return e;
  const shape = `${size.width}x${size.height}${size.channels ? `x${size.channels}` : ''}`;
  return new DataError(id, `transform ${i} ${describeSpec(t.spec)} failed on a ${shape} image: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * Folds the leading transforms that can run inside decoding into one geometry (crop → resize →
 * crop) for an image of `size`, each drawing from transformStream(ctx, i) as it would on pixels:
 * the geometry, the size it leaves, and how many transforms it covers. `run` decodes with it; the
 * data loader's JPEG path hands the same geometry to the native kernel, so both crop the same box.
 */
export function foldGeometry(transforms: readonly Transform[], size: Size, ctx: SampleContext, id: string): { geometry: Geometry; size: Size; folded: number } {
  const g: Geometry = {};
  let i = 0;
  for (; i < transforms.length; i++) {
    const t = transforms[i] as Transform;
    let ops;
    try {
      ops = t.plan?.(size, transformStream(ctx, i));
    } catch (e) {
      throw stepError(id, i, t, size, e);
    }
    if (!ops) break;
    const trial: Geometry = structuredClone(g);
    let s: Size | undefined = size;
    for (const op of ops) if (s) s = fold(trial, op, s);
    if (!s) break;
    Object.assign(g, trial);
    size = s;
  }
  return { geometry: g, size, folded: i };
}

export class ComposedPipeline implements SamplePipeline {
  readonly transforms: readonly Transform[];
  readonly decode: DecodeOptions;

  constructor(options: ComposeOptions) {
    const o = composeOptions(options);
    this.decode = { ...o.decode };
    this.transforms = o.transforms.map((t, i) => {
      if (typeof t === 'function') throw new TypeError(`compose: transforms[${i}] is ${show(t)}; call it with its options, e.g. ${(t as { name: string }).name}({ ... })`);
      if (!isOptionsObject(t) && !(t !== null && typeof t === 'object' && 'apply' in t)) throw new TypeError(`compose: transforms[${i}] is ${show(t)}, not a transform (e.g. resize({ size: 32 })) or a spec ({ type: 'resize', size: 32 })`);
      return 'apply' in t ? t : buildTransform(t);
    });
  }

  /** Decodes and transforms one sample. `id` names it in errors (default `sample <index>`). */
  async run(input: SampleInput, ctx: SampleContext, id = `sample ${ctx?.index}`): Promise<RawImage> {
    checkContext('run', ctx);
    let size: Size;
    let info;
    if (input.kind === 'encoded') {
      info = await probeImage(input.bytes, id, this.decode);
      size = info;
    } else size = input.image;
    const { geometry: g, folded } = foldGeometry(this.transforms, size, ctx, id);
    let i = folded;
    let img: RawImage;
    if (input.kind === 'encoded') img = await decodeRegion(input.bytes, id, this.decode, g, info);
    else img = toChannels(await applyGeometry(input.image, g, id), this.decode.channels ?? 'keep');
    for (; i < this.transforms.length; i++) {
      const t = this.transforms[i] as Transform;
      try {
        img = await t.apply(img, transformStream(ctx, i));
      } catch (e) {
        throw stepError(id, i, t, img, e);
      }
    }
    return img;
  }

  workerSpec(): { module: string; export: string; args: unknown } {
    return { module: import.meta.url, export: 'pipelineFromSpec', args: this.toJSON() };
  }

  toJSON(): { decode: DecodeOptions; transforms: TransformSpec[] } {
    return { decode: this.decode, transforms: this.transforms.map((t) => t.spec) };
  }

  /**
   * Walks one sample through every step separately (no folding) and reports each step's output
   * size, channels and time, stopping at the step that fails and saying why.
   */
  async summary(input: SampleInput, ctx: SampleContext, id = `sample ${ctx?.index}`): Promise<PipelineSummary> {
    checkContext('summary', ctx);
    const steps: SummaryStep[] = [];
    const time = async (step: string, f: () => Promise<RawImage> | RawImage): Promise<RawImage | undefined> => {
      const t0 = performance.now();
      try {
        const out = await f();
        steps.push({ step, width: out.width, height: out.height, channels: out.channels, ms: performance.now() - t0 });
        return out;
      } catch (e) {
        steps.push({ step, ms: performance.now() - t0, error: e instanceof Error ? e.message : String(e) });
        return undefined;
      }
    };
    let img = await time(input.kind === 'encoded' ? `decode(${JSON.stringify(this.decode)})` : 'pixels', async () => {
      if (input.kind === 'pixels') return toChannels(input.image, this.decode.channels ?? 'keep');
      return decodeRegion(input.bytes, id, this.decode, {});
    });
    for (let i = 0; img && i < this.transforms.length; i++) {
      const t = this.transforms[i] as Transform;
      const cur: RawImage = img;
      img = await time(describeSpec(t.spec), () => t.apply(cur, transformStream(ctx, i)));
    }
    let folded = 0;
    if (steps.every((s) => !s.error)) folded = foldGeometry(this.transforms, { width: steps[0]?.width ?? 0, height: steps[0]?.height ?? 0 }, ctx, id).folded;
    const failed = steps.find((s) => s.error);
    const lines = [`pipeline summary for ${id} (seed ${ctx.seed}, epoch ${ctx.epoch}, index ${ctx.index}):`];
    steps.forEach((s, k) => {
      const shape = s.error ? `FAILED: ${s.error}` : `${s.width}x${s.height}x${s.channels}`;
      lines.push(`  ${String(k).padStart(2)}  ${s.step.padEnd(56)} ${shape}  ${s.ms.toFixed(2)} ms`);
    });
    if (failed) lines.push(`step "${failed.step}" failed; later steps did not run`);
    else lines.push(`ok; run() folds the first ${folded} transform(s) into the decode call`);
    return { ok: !failed, steps, folded, text: lines.join('\n') };
  }
}

/** What a sample's random draws are keyed by: without it they have no key (a seed, above all). */
function checkContext(method: string, ctx: unknown): void {
  const c = ctx as Partial<SampleContext> | null | undefined;
  const ok = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!c || typeof c !== 'object' || !ok(c.seed) || !ok(c.epoch) || !ok(c.index))
    throw new TypeError(`pipeline.${method}(input, ctx): ctx is the sample's { seed, epoch, index }, non-negative integers, e.g. { seed: 0, epoch: 0, index: 0 }; got ${show(ctx)}`);
}

const DECODE_OPTIONS: { [K in keyof Required<DecodeOptions>]: true } = { maxPixels: true, channels: true, background: true, timeoutMs: true, failOn: true, shrinkOnLoad: true };

/** The options as compose takes them, or a message saying what to write (torchvision's `Compose([...])` included). */
function composeOptions(options: unknown): ComposeOptions {
  const example = 'compose({ transforms: [resize({ size: 32 }), horizontalFlip()] })';
  if (Array.isArray(options)) throw new TypeError(`compose takes { transforms: [...] }, not a list (torchvision's Compose([...])): write compose({ transforms: [${options.length} transform${options.length === 1 ? '' : 's'}] }), e.g. ${example}`);
  const o = checkOptions('compose', options, ['transforms', 'decode'], example);
  if (!Array.isArray(o.transforms)) throw new TypeError(`compose: transforms must be a list of transforms, e.g. ${example}; got ${show(o.transforms)}`);
  if (o.decode !== undefined) checkOptions('compose: decode', o.decode, Object.keys(DECODE_OPTIONS), "compose({ decode: { channels: 'rgb' }, transforms: [...] })");
  return o as unknown as ComposeOptions;
}

/** The per-sample pipeline: decode options plus transforms (objects or specs). */
export function compose(options: ComposeOptions): ComposedPipeline {
  return new ComposedPipeline(options);
}

/** Worker-side factory named by workerSpec(): rebuilds an equal pipeline from its JSON. */
export function pipelineFromSpec(args: { decode?: DecodeOptions; transforms: TransformSpec[] }): ComposedPipeline {
  return new ComposedPipeline(args);
}
