// Per-channel mean and std of the training images, measured through the loader: the samples go
// through the same evaluation pipeline, on the same worker threads, as training will use, and the
// sums are taken on the collated uint8 batches with LibTorch ops. The main thread never decodes.
import { subset } from '../subset.js';
import { DataLoader } from '../loader/loader.js';
import { disposeBatch, type Dataset, type SamplePipeline } from '../types.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { DataSourceError } from './source.js';

export interface Normalization {
  mean: number[];
  std: number[];
  /** How many images the numbers come from. */
  samples: number;
}

export interface MeasureOptions {
  /** The evaluation sample pipeline (absent: samples are already input-sized pixels). */
  pipeline?: SamplePipeline;
  channels: 1 | 3;
  /** At most this many images, evenly spread over an indexed data set (a stream's first ones). Default 2000. */
  limit?: number;
  workers: number;
  seed: number;
  signal?: AbortSignal;
}

/** Mean and std (fractions of 255) per channel; bad files are left out, silently (training reports them). */
/** Below this per-channel std (one grey level of 255) a channel is taken as constant. */
export const MIN_STD = 1 / 255;

export async function measureNormalization(d: Dataset, o: MeasureOptions): Promise<Normalization> {
  const limit = o.limit ?? 2000;
  let source: Dataset = d;
  if (d.kind === 'indexed') {
    const n = Math.min(d.length, limit);
    source = subset(d, Array.from({ length: n }, (_, k) => Math.floor((k * d.length) / n)));
  }
  const loader = new DataLoader(source, {
    batchSize: 256,
    seed: o.seed,
    workers: o.workers,
    ...(o.pipeline ? { pipeline: o.pipeline } : {}),
    batchTransforms: [], // the uint8 batch
    badSamples: { policy: 'skip' },
    logger: { warn: () => {} },
  });
  const c = o.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let pixels = 0;
  let images = 0;
  try {
    for await (const batch of loader.epoch(0, o.signal ? { signal: o.signal } : {})) {
      try {
        if (batch.x.shape[1] !== c) throw new DataSourceError(`normalisation: the batch has ${batch.x.shape[1]} channels, the pipeline promised ${c}`);
        const [s, q] = scope(() => {
          const x: Tensor = batch.x.to('float64').div(255); // (N, C, H, W)
          return [x.sum([0, 2, 3]).data() as Float64Array, x.mul(x).sum([0, 2, 3]).data() as Float64Array];
        });
        for (let k = 0; k < c; k++) {
          sum[k] = (sum[k] as number) + (s[k] as number);
          sq[k] = (sq[k] as number) + (q[k] as number);
        }
        const [n, , h, w] = batch.x.shape as [number, number, number, number];
        pixels += n * h * w;
        images += n;
      } finally {
        disposeBatch(batch);
      }
      if (images >= limit) break; // a stream: its first `limit` images are enough
    }
  } finally {
    await loader.close();
  }
  if (pixels === 0) throw new DataSourceError(`${d.describe()}: no readable image among those sampled to measure normalisation`);
  const mean = Array.from(sum, (s) => s / pixels);
  // A channel that barely varies (solid-colour images, a constant border) would be divided by a
  // near-zero std and blow the inputs up by orders of magnitude; below one grey level (1/255) it
  // carries no signal worth amplifying, so it is only centred (std 1).
  const std = Array.from(sq, (s, k) => {
    const v = Math.sqrt(Math.max(s / pixels - (mean[k] as number) ** 2, 0));
    return v < MIN_STD ? 1 : v;
  });
  return { mean, std, samples: images };
}
