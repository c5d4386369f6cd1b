// The quality figure of a GAN run, offline: the Fréchet distance between real and generated images
// in the feature space of a classifier Tessera trained itself — the penultimate layer, the input of
// its last Linear (for Fashion-MNIST, the main job's fashion-net: the 128 averaged channels of its
// last stage) — and the classes that classifier finds among the generated images.
//
// This is the FID's formula (metrics/generative.ts) with another network's features: NOT the
// Inception FID. Its numbers are comparable only between runs scored with the same classifier,
// the same number of images and the same reference set; the report gives, next to them, the
// distance between two sets of real images of the same size (what a perfect generator would get).
//
// Both sets reach the classifier the same way: images in the generator's range are mapped to
// [0, 1], converted to the classifier's channels (grey as PIL's convert('L'): 0.299 R + 0.587 G +
// 0.114 B; grey to RGB by repetition), resized to its input (area averaging down, bilinear up) and
// normalised with its saved mean and std. Real images come from the data pipeline already in the
// generator's range, so real and generated differ only in where they come from.
import { FeatureMoments, frechetDistance, ClassCoverage, type FeatureStats } from '../../metrics/generative.js';
import type { Gan } from '../../models/gan.js';
import { headPath } from '../../models/transfer.js';
import { interpolate } from '../../nn/functional.js';
import type { Module } from '../../nn/module.js';
import type { BatchSource } from '../../data/types.js';
import { noGrad } from '../../tensor/autograd.js';
import { tensor } from '../../tensor/factories.js';
import { adaptiveAvgPool2d } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { loadRunModel } from '../saved-model.js';
import { modelInfo, type ZooModel } from '../../models/registry.js';
import type { Callback, CallbackState, TrainContext } from '../../train/events.js';
import { generate } from './samples.js';

/** What one scoring of the generator gives. */
export interface QualityFigure {
  frechetDistance: number;
  /** Classes given to at least minShare of the generated images. */
  classCoverage: number;
  /** Generated images per class the classifier predicted. */
  counts: number[];
}

/** A trained classifier as a feature extractor for images in a generator's range. */
export class FeatureSpace {
  readonly classes: readonly string[];
  readonly #model: ZooModel;
  readonly #head: Module & { forward(x: Tensor): Tensor };
  readonly #input: { channels: number; height: number; width: number };
  readonly #mean: Tensor;
  readonly #std: Tensor;
  readonly #channelsLast: boolean;

  private constructor(run: ReturnType<typeof loadRunModel>) {
    this.#model = run.model;
    this.classes = run.preprocessing.classes;
    this.#input = run.preprocessing.input;
    const head = headPath(run.model);
    this.#head = [...run.model.namedModules()].find(([p]) => p === head)?.[1] as Module & { forward(x: Tensor): Tensor };
    const c = this.#input.channels;
    this.#mean = tensor(Float32Array.from(run.preprocessing.mean), { shape: [1, c, 1, 1] });
    this.#std = tensor(Float32Array.from(run.preprocessing.std), { shape: [1, c, 1, 1] });
    this.#channelsLast = run.preprocessing.memoryFormat === 'channelsLast';
  }

  /** The classifier of a `tessera train` run (its directory or model.json); refuses a model that is not a classifier. */
  static load(run: string): FeatureSpace {
    const loaded = loadRunModel(run);
    if (modelInfo(loaded.name).task !== 'classify') {
      loaded.model.dispose();
      throw new Error(`${run}: ${loaded.name} is not a classifier (its task is ${modelInfo(loaded.name).task}); the quality figure needs a run of \`tessera train\` on classes`);
    }
    return new FeatureSpace(loaded);
  }

  /** `run`'s input: C×H×W. */
  describe(): string {
    const i = this.#input;
    return `${this.classes.length} classes, ${i.channels}×${i.height}×${i.width} input`;
  }

  /** Images (B, C, S, S) in `range` → the classifier's penultimate features (B, D) and its logits (B, K); the caller's scope owns them. */
  embed(images: Tensor, range: readonly [number, number]): { features: Tensor; logits: Tensor } {
    const head = this.#head;
    const forward = head.forward;
    const own = Object.hasOwn(head, 'forward');
    let features: Tensor | undefined;
    // The head's input is the feature vector: seen by wrapping its forward for this one call.
    head.forward = (x: Tensor) => {
      features = x;
      return forward.call(head, x);
    };
    try {
      const logits = noGrad(() => this.#model.forward(this.#prepare(images, range)));
      return { features: (features as Tensor).flatten(1), logits };
    } finally {
      if (own) head.forward = forward;
      else delete (head as { forward?: unknown }).forward; // the class's method again
    }
  }

  #prepare(images: Tensor, [lo, hi]: readonly [number, number]): Tensor {
    const { channels, height, width } = this.#input;
    let x = images.to({ dtype: 'float32', device: 'cpu' }).sub(lo).div(hi - lo).clamp(0, 1); // (B, C, S, S) in [0, 1]
    const c = x.shape[1] as number;
    if (c === 3 && channels === 1) x = x.mul(tensor(Float32Array.from([0.299, 0.587, 0.114]), { shape: [1, 3, 1, 1] })).sum([1], { keepdim: true });
    else if (c === 1 && channels === 3) x = x.expand([-1, 3, -1, -1]);
    else if (c !== channels) throw new RangeError(`the classifier takes ${channels}-channel images, the generator makes ${c}`);
    const [h, w] = [x.shape[2] as number, x.shape[3] as number];
    if (h !== height || w !== width) x = h >= height && w >= width ? adaptiveAvgPool2d(x, [height, width]) : interpolate(x, { size: [height, width], mode: 'bilinear' });
    x = x.sub(this.#mean).div(this.#std);
    return this.#channelsLast ? x.contiguous('channelsLast') : x.contiguous();
  }

  dispose(): void {
    this.#model.dispose();
    this.#mean.dispose();
    this.#std.dispose();
  }
}

/** Feature statistics of up to `n` real images from `source` (one pass, in its order). */
export async function realStatistics(space: FeatureSpace, source: BatchSource, n: number, range: readonly [number, number]): Promise<FeatureStats> {
  const moments = new FeatureMoments();
  try {
    for await (const batch of source.epoch(0)) {
      try {
        const take = Math.min(batch.x.shape[0] as number, n - moments.count);
        scope(() => moments.update(space.embed(batch.x.narrow(0, 0, take), range).features));
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
      if (moments.count >= n) break;
    }
    return moments.stats('the real images of the quality figure');
  } finally {
    moments.reset();
  }
}

/** Scores the generator on the noise `z` against the real statistics (see the header). */
export function scoreGenerator(space: FeatureSpace, gan: Gan, z: Tensor, real: FeatureStats, o: { range: readonly [number, number]; minShare: number }): QualityFigure {
  const n = z.shape[0] as number;
  const moments = new FeatureMoments();
  const coverage = new ClassCoverage(space.classes.length, { minCount: Math.max(1, Math.ceil(o.minShare * n)) });
  try {
    generate(gan, z, (images) => {
      const { features, logits } = space.embed(images, o.range);
      moments.update(features);
      coverage.update(logits);
    });
    const fd = scope(() => frechetDistance(moments.stats('the generated images of the quality figure'), real));
    return { frechetDistance: fd, classCoverage: coverage.compute(), counts: coverage.counts() };
  } finally {
    moments.reset();
  }
}

/** One scoring: epoch 0 is the untrained generator. */
export interface QualityPoint extends QualityFigure {
  epoch: number;
}

/**
 * Scores the generator before training (a fresh run) and after every epoch's training, writing
 * `frechet_distance` and `class_coverage` into the epoch's logs; the points (with the per-class
 * counts) are its checkpoint state. Scoring draws nothing from torch's generator and leaves the
 * models as they were, so a resumed run scores the same.
 */
export class QualityCallback implements Callback {
  readonly name = 'quality';
  /** After History and GanHistory have written the epoch's logs, before History keeps the row (afterEpoch). */
  readonly order = -80;
  points: QualityPoint[] = [];

  constructor(
    readonly space: FeatureSpace,
    readonly gan: Gan,
    readonly noise: Tensor,
    readonly real: FeatureStats,
    readonly o: { range: readonly [number, number]; minShare: number; log?: (line: string) => void },
  ) {}

  beforeFit(ctx: TrainContext): void {
    if (ctx.resumed) return;
    const p = this.#score(0);
    this.points = [p];
    this.o.log?.(`quality before training: Fréchet distance ${p.frechetDistance.toFixed(3)}, ${p.classCoverage} of ${this.space.classes.length} classes covered`);
  }

  afterTrain(ctx: TrainContext): void {
    const p = this.#score(ctx.epoch + 1);
    this.points.push(p);
    ctx.logs['frechet_distance'] = p.frechetDistance;
    ctx.logs['class_coverage'] = p.classCoverage;
  }

  #score(epoch: number): QualityPoint {
    return { epoch, ...scoreGenerator(this.space, this.gan, this.noise, this.real, this.o) };
  }

  stateDict(): CallbackState {
    return { values: { points: this.points } };
  }

  loadStateDict(state: CallbackState): void {
    this.points = (state.values as { points: QualityPoint[] }).points.map((p) => ({ ...p, counts: [...p.counts] }));
  }
}
