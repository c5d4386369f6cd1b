// A look at a few samples before anything is decoded in bulk: their size, channels and whether they
// are stored as pixels; and the defaults chosen from them when the user named none — the image size
// and the channels a model gets. Headers only: JPEG, PNG and BMP sizes are read in JS, others by
// sharp's header reader, so probing a folder of photos costs milliseconds.
import { probeImage } from '../image/decode.js';
import type { Dataset, SampleRecord } from '../types.js';
import { DataSourceError } from './source.js';

export interface SampleShape {
  width: number;
  height: number;
  /** 1 for grey, 3 for colour. */
  channels: 1 | 3;
  /** Stored as decoded pixels (no decoding needed), rather than as an encoded file. */
  pixels: boolean;
}

export interface Probe {
  /** The first readable sample. */
  first: SampleShape;
  /** Every probed sample that could be read (up to `limit`, evenly spread over an indexed data set). */
  all: SampleShape[];
}

async function shapeOf(r: SampleRecord): Promise<SampleShape> {
  if (r.input.kind === 'pixels') {
    const im = r.input.image;
    return { width: im.width, height: im.height, channels: im.channels, pixels: true };
  }
  const info = await probeImage(r.input.bytes, r.id);
  return { width: info.width, height: info.height, channels: info.bands >= 3 ? 3 : 1, pixels: false };
}

/** Shapes of up to `limit` samples; bad files are skipped (the loader reports them when it meets them). */
export async function probeSamples(d: Dataset, limit = 32): Promise<Probe> {
  const all: SampleShape[] = [];
  const errors: string[] = [];
  const take = async (read: () => Promise<SampleRecord>) => {
    try {
      all.push(await shapeOf(await read()));
    } catch (e) {
      errors.push((e as Error).message);
    }
  };
  if (d.kind === 'indexed') {
    const n = Math.min(d.length, limit);
    for (let k = 0; k < n; k++) {
      const i = Math.floor((k * d.length) / n);
      await take(() => d.read(i));
    }
    // Nothing readable among the spread: try the start before giving up.
    for (let i = 0; all.length === 0 && i < Math.min(d.length, 100); i++) await take(() => d.read(i));
  } else {
    const stop = new AbortController();
    try {
      for await (const r of d.stream({ epoch: 0, seed: 0, rank: 0, worldSize: 1, signal: stop.signal })) {
        await take(async () => r);
        if (all.length + errors.length >= limit) break;
      }
    } finally {
      stop.abort();
    }
  }
  const first = all[0];
  if (!first) throw new DataSourceError(`${d.describe()}: none of the ${errors.length} samples looked at could be read (${errors.slice(0, 3).join('; ')})`);
  return { first, all };
}

/** Largest side a default image size takes: training on CPUs, larger inputs cost more than they give. */
export const DEFAULT_MAX_SIDE = 64;
const DEFAULT_MIN_SIDE = 16;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : Math.round(((s[mid - 1] as number) + (s[mid] as number)) / 2);
}

export interface ChosenSize {
  height: number;
  width: number;
  /** Why, in words, for the log. */
  why: string;
}

/**
 * The image size when none was given: the samples' own when they all share one of at most
 * 128 px a side (MNIST's 28×28, CIFAR's 32×32 — nothing is resized); else a square of their median
 * shorter side, rounded down to a multiple of 8 and kept within 16..64 px. `least`: a side the
 * model needs at the least (the ImageNet stem shrinks its input 4× before the first block), to which
 * a smaller choice is raised.
 */
export function defaultImageSize(p: Probe, least?: MinimumSide): ChosenSize {
  const chosen = fromSamples(p);
  if (!least || (chosen.height >= least.px && chosen.width >= least.px)) return chosen;
  return { height: Math.max(chosen.height, least.px), width: Math.max(chosen.width, least.px), why: `${chosen.why}; raised to ${least.px} px, ${least.why}` };
}

/** The least side a model takes, and why (for the log). */
export interface MinimumSide {
  px: number;
  why: string;
}

function fromSamples(p: Probe): ChosenSize {
  const { first } = p;
  const uniform = p.all.every((s) => s.width === first.width && s.height === first.height);
  if (uniform && Math.max(first.width, first.height) <= 128) return { height: first.height, width: first.width, why: `the samples' own size` };
  const short = median(p.all.map((s) => Math.min(s.width, s.height)));
  const side = Math.max(DEFAULT_MIN_SIDE, Math.min(DEFAULT_MAX_SIDE, Math.floor(short / 8) * 8));
  const seen = uniform ? `all ${first.width}×${first.height}` : `median shorter side ${short} px of ${p.all.length} sampled`;
  return { height: side, width: side, why: `${seen}; a square within ${DEFAULT_MIN_SIDE}..${DEFAULT_MAX_SIDE} px, each image resized on its shorter side and centre-cropped, never stretched` };
}

/** Colour when any probed sample is colour (a grey photo among colour ones is expanded), else grey. */
export function defaultChannels(p: Probe): 1 | 3 {
  return p.all.some((s) => s.channels === 3) ? 3 : 1;
}
