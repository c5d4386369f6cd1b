// Preprocessing: what turns a stored sample into the tensor a trained model expects, at evaluation
// time — decode channels, the resize/crop geometry (as sample-transform specs), normalisation, input
// layout, memory format and dtype, and the class names of the outputs. A run saves it in model.json
// under `preprocessing`; `tessera eval`, `tessera predict` (and later export and serving) restore it
// with fromJSON and use it as it is: nothing is re-derived from other fields.
import { z } from 'zod';

import { DataLoader, type DataLoaderOptions } from '../loader/loader.js';
import { buildTransform, compose, type ComposedPipeline } from '../transforms/compose.js';
import { jointCompose, type JointPipeline } from '../transforms/joint.js';
import type { TransformSpec } from '../transforms/spec.js';
import type { IndexedDataset, Dataset, SampleRecord } from '../types.js';
import type { BatchStep, MemoryFormat } from './batch-steps.js';
import { evalBatchStepsFor, type PipelineTargets } from './targets.js';

export const PREPROCESSING_FORMAT = 'tessera-preprocessing/1';

const Json = z
  .object({
    format: z.literal(PREPROCESSING_FORMAT),
    decode: z.object({ channels: z.enum(['grey', 'rgb']) }).strict(),
    /** Sample transforms in order (transforms/spec.ts), e.g. resize then centerCrop. */
    transforms: z.array(z.looseObject({ type: z.string() })),
    /** The model's input: what the transforms end in. */
    input: z.object({ channels: z.union([z.literal(1), z.literal(3)]), height: z.number().int().positive(), width: z.number().int().positive() }).strict(),
    normalize: z.object({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }).strict(),
    layout: z.literal('NCHW'),
    memoryFormat: z.enum(['contiguous', 'channelsLast']),
    dtype: z.literal('float32'),
    classes: z.array(z.string()).min(1),
    /** What evaluation batches carry as y (targets.ts); absent: class indices. */
    targets: z.enum(['class', 'mask', 'labels', 'image']).optional(),
  })
  .strict();
export type PreprocessingJSON = z.infer<typeof Json>;

/**
 * Sample transforms that bring any image to height × width without stretching it: Resize of the
 * shorter side to the smaller target side, then CenterCrop (torchvision's Resize(s) + CenterCrop).
 * An image already of the target size passes unchanged; one shaped like the target is scaled and
 * cut to it; one of the other orientation is padded with zeros at its sides by the crop.
 */
export function fitTransforms(height: number, width: number, interpolation: 'bilinear' | 'bicubic' = 'bilinear'): TransformSpec[] {
  return [
    { type: 'resize', size: Math.min(height, width), interpolation },
    { type: 'centerCrop', size: height === width ? height : [height, width] },
  ];
}

export class Preprocessing {
  readonly decodeChannels: 'grey' | 'rgb';
  readonly transforms: readonly TransformSpec[];
  readonly input: { channels: 1 | 3; height: number; width: number };
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly memoryFormat: MemoryFormat;
  readonly classes: readonly string[];
  /** What the model learnt to predict from these inputs: class indices, masks, several labels, the image. */
  readonly targets: PipelineTargets;

  private constructor(j: PreprocessingJSON, where: string) {
    this.decodeChannels = j.decode.channels;
    this.input = { ...j.input };
    if ((j.decode.channels === 'grey' ? 1 : 3) !== j.input.channels) throw new Error(`${where}: decode.channels is ${j.decode.channels} but input.channels is ${j.input.channels}`);
    // One mean per channel (or one for all) is the normalize batch step's to check, on the batch it gets.
    if (j.normalize.mean.length !== j.normalize.std.length) throw new Error(`${where}: normalize has ${j.normalize.mean.length} means and ${j.normalize.std.length} stds`);
    this.transforms = j.transforms.map((t, i) => {
      try {
        return buildTransform(t as TransformSpec).spec; // checks the spec now, not at the first image
      } catch (e) {
        throw new Error(`${where}: transforms[${i}] ${JSON.stringify(t)}: ${(e as Error).message}`);
      }
    });
    this.mean = [...j.normalize.mean];
    this.std = [...j.normalize.std];
    this.memoryFormat = j.memoryFormat;
    this.classes = [...j.classes];
    this.targets = j.targets ?? 'class';
  }

  /** Checks and restores a saved preprocessing; `where` names it in errors (e.g. `runs/x/model.json: preprocessing`). */
  static fromJSON(json: unknown, where = 'preprocessing'): Preprocessing {
    const parsed = Json.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${where} is not a tessera preprocessing: ${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : parsed.error.message}`);
    }
    return new Preprocessing(parsed.data, where);
  }

  toJSON(): PreprocessingJSON {
    return {
      format: PREPROCESSING_FORMAT,
      decode: { channels: this.decodeChannels },
      transforms: this.transforms.map((t) => ({ ...t })),
      input: { ...this.input },
      normalize: { mean: [...this.mean], std: [...this.std] },
      layout: 'NCHW',
      memoryFormat: this.memoryFormat,
      dtype: 'float32',
      classes: [...this.classes],
      ...(this.targets === 'class' ? {} : { targets: this.targets }),
    };
  }

  /** Decode + transforms of one sample (the loader runs it, on workers when asked); with masks, the joint pipeline. */
  samplePipeline(): ComposedPipeline | JointPipeline {
    const o = { decode: { channels: this.decodeChannels }, transforms: this.transforms };
    return this.targets === 'mask' ? jointCompose(o) : compose(o);
  }

  /** Collated uint8 batch → the model's float input (and the targets' step, targets.ts). */
  batchSteps(): BatchStep[] {
    return evalBatchStepsFor(this.targets, { mean: this.mean, std: this.std, memoryFormat: this.memoryFormat, numClasses: this.classes.length });
  }

  /**
   * Whether `record` already is the model's input (pixels of exactly the input size and channels),
   * so the sample transforms would leave it as it is and the loader can skip them: for sources of
   * decoded pixels this keeps the loader's fast path (one tensor gather per batch).
   */
  isInputSized(record: SampleRecord): boolean {
    if (record.input.kind !== 'pixels') return false;
    const im = record.input.image;
    return im.width === this.input.width && im.height === this.input.height && im.channels === this.input.channels;
  }

  /** Batches of `d` in order, prepared for the model: for validation, test and `tessera eval`. */
  async loader(d: Dataset, o: Partial<DataLoaderOptions> & { batchSize: number }): Promise<DataLoader> {
    const direct = d.kind === 'indexed' && d.length > 0 && (await firstReadable(d, (r) => this.isInputSized(r)));
    return new DataLoader(d, { ...o, ...(direct ? {} : { pipeline: this.samplePipeline() }), batchTransforms: this.batchSteps().map((s) => s.transform) });
  }

  /** One line, for logs: `rgb, resize 64 + centerCrop 64, normalize …, NCHW float32`. */
  describe(): string {
    const t = this.transforms.map((s) => `${s.type}(${'size' in s ? JSON.stringify(s.size) : ''})`).join(' + ');
    const norm = `normalize(mean [${this.mean.map((v) => v.toFixed(3)).join(', ')}], std [${this.std.map((v) => v.toFixed(3)).join(', ')}])`;
    return `${this.decodeChannels}, ${t || 'as stored'}, ${norm} → ${this.input.channels}×${this.input.height}×${this.input.width} float32${this.memoryFormat === 'channelsLast' ? ' (channels_last)' : ''}`;
  }

  /** A Preprocessing from its parts (what a pipeline's setup() resolves). */
  static of(o: { channels: 1 | 3; height: number; width: number; transforms: readonly TransformSpec[]; mean: readonly number[]; std: readonly number[]; memoryFormat: MemoryFormat; classes: readonly string[]; targets?: PipelineTargets }): Preprocessing {
    return Preprocessing.fromJSON({
      format: PREPROCESSING_FORMAT,
      decode: { channels: o.channels === 1 ? 'grey' : 'rgb' },
      transforms: o.transforms,
      input: { channels: o.channels, height: o.height, width: o.width },
      normalize: { mean: [...o.mean], std: [...o.std] },
      layout: 'NCHW',
      memoryFormat: o.memoryFormat,
      dtype: 'float32',
      classes: [...o.classes],
      ...(o.targets && o.targets !== 'class' ? { targets: o.targets } : {}),
    });
  }
}

/** `test` on the first sample that reads (a bad first file says nothing about the others). */
async function firstReadable(d: IndexedDataset, test: (r: SampleRecord) => boolean): Promise<boolean> {
  for (let i = 0; i < Math.min(d.length, 100); i++) {
    try {
      return test(await d.read(i));
    } catch {
      // the loader reports bad files by path when it meets them
    }
  }
  return false;
}
