// The shapes every part of the data path agrees on: what a source yields, what a transform sees,
// what the loader hands the trainer. Sources (src/data/sources/), decoding (src/data/image/),
// transforms (src/data/transforms/) and the loader (src/data/loader/) meet only through these.
import type { Tensor } from '../tensor/tensor.js';

/** A decoded image: 8-bit, channels interleaved (HWC), row-major, tightly packed. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 = grey, 3 = RGB. Decoding never hands out 2 or 4 channels: alpha is flattened. */
  channels: 1 | 3;
}

/** A sample as a source stores it, before decoding. */
export type SampleInput =
  /** File contents: JPEG, PNG, WebP, GIF, TIFF, AVIF (sharp) or BMP (our decoder: sharp's build has none). */
  | { kind: 'encoded'; bytes: Uint8Array }
  /** Pixels already decoded (IDX, CIFAR, NPY, raw packed shards). */
  | { kind: 'pixels'; image: RawImage };

/**
 * What a sample is labelled with beyond one class index, for the tasks that need more: a
 * segmentation mask (class ids per pixel, the image's size, 255 = ignore) that every geometric
 * transform moves with the image, or a multi-label sample's 0/1 per class.
 */
export type SampleTarget =
  | { kind: 'mask'; mask: SampleInput }
  | { kind: 'labels'; labels: Uint8Array };

/** What a source's samples carry: a class index, a mask (segmentation) or several labels (multi-label). */
export type TargetKind = 'class' | 'mask' | 'labels';

export interface SampleRecord {
  input: SampleInput;
  /** Class index into the data set's `classes`; -1 when the sample has no label (or its labels are in `target`). */
  label: number;
  /** A mask or several labels, for sources that have them (see SampleTarget). */
  target?: SampleTarget;
  /** Where the sample came from, for error reports and the doctor: a path, `shard.tar#key`, `file[17]`. */
  id: string;
  /** Group key for group-aware splits (e.g. a patient or a photo session), when the source has one. */
  group?: string;
}

/** Random access by index: image folders, manifests, IDX, CIFAR, NPY, packed shards. */
export interface IndexedDataset {
  readonly kind: 'indexed';
  readonly length: number;
  /** Class names; index i is label i. */
  readonly classes: readonly string[];
  /** Every label, without decoding anything (splits, class counts and samplers need them). */
  labels(): Int32Array;
  /** Group keys, where the source has them (one per sample), else undefined. */
  groups?(): readonly (string | undefined)[] | undefined;
  /** The sample's stored form. Rejects with a DataError naming `id` when it cannot be read. */
  read(index: number): Promise<SampleRecord>;
  /** The id `read` would give (a path, `file[17]`), without reading: names a sample whose read failed or hung. */
  sampleId?(index: number): string;
  /** One line for logs and reports, e.g. `image folder /data/pets (2 classes, 7,390 files)`. */
  describe(): string;
}

/** Position in the sample stream and how the stream is split across processes. */
export interface StreamContext {
  epoch: number;
  seed: number;
  /** This process's rank and the number of processes sharing the data (1 when alone). */
  rank: number;
  worldSize: number;
  signal?: AbortSignal;
}

/** Sequential access only: tar shards, local or over http(s), larger than memory or disk. */
export interface StreamingDataset {
  readonly kind: 'streaming';
  readonly classes: readonly string[];
  /** Samples per epoch when known (from an index or a shard count), for progress and ETA. */
  readonly lengthHint?: number;
  /** The samples of one epoch for this rank, in shard order; each carries its global position. */
  stream(ctx: StreamContext): AsyncIterable<SampleRecord & { index: number }>;
  describe(): string;
}

export type Dataset = IndexedDataset | StreamingDataset;

/**
 * What randomness a sample's transforms may depend on: nothing else. The same (seed, epoch, index)
 * gives the same pixels whatever the worker count, order or machine.
 */
export interface SampleContext {
  seed: number;
  epoch: number;
  index: number;
}

/**
 * The per-sample part of a data pipeline: decode, then transforms, ending in a fixed-size image.
 * Implemented by src/data/transforms/; run by the loader on worker threads.
 */
export interface SamplePipeline {
  /** `id` names the sample in errors (a path, `shard.tar#key`); default `sample <index>`. */
  run(input: SampleInput, ctx: SampleContext, id?: string): Promise<RawImage>;
  /**
   * Pipelines that can carry a segmentation mask: the image as `run` makes it, and the mask through
   * the same geometric steps (nearest neighbour, padding = 255) and none of the photometric ones.
   */
  runWithMask?(input: SampleInput, mask: SampleInput, ctx: SampleContext, id?: string): Promise<{ image: RawImage; mask: RawImage }>;
  /**
   * How a worker thread rebuilds this pipeline: it imports `module` (a file: URL), calls the named
   * export with `args` (structured-cloneable) and gets an equal pipeline back.
   */
  workerSpec(): { module: string; export: string; args: unknown };
}

/** A batch as the loader hands it to the trainer. */
export interface Batch {
  /** Inputs, N×C×H×W float32 (or uint8 when the pipeline stops before normalisation). */
  x: Tensor;
  /**
   * Targets: int64 class indices (N), or float32 N×K soft targets after MixUp/CutMix; int64 masks
   * N×H×W (segmentation); float32 N×K 0/1 labels (multi-label); the float32 input images in [0, 1]
   * (reconstruction).
   */
  y: Tensor;
  /** The samples' global indices within the epoch's data set, and their ids. */
  indices: readonly number[];
  ids: readonly string[];
}

/** A sample that could not be used, reported by id and reason (never silently dropped). */
export interface BadSample {
  id: string;
  index: number;
  reason: string;
}

/** An error about one sample or one file; `id` names it. */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly id: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${id}: ${message}`, options);
  }
}

/**
 * What a trainer consumes: the batches of one epoch at a time. The order is a pure function of
 * (seed, epoch), so `skipBatches` resumes mid-epoch exactly where a checkpoint stopped.
 *
 * Ownership: batch tensors are made outside every memory scope and belong to the consumer, which
 * disposes them (the Trainer does so after each step; see `disposeBatch`).
 */
export interface BatchSource {
  readonly classes: readonly string[];
  /** Batches per epoch, when known. */
  readonly batchesPerEpoch?: number;
  epoch(epoch: number, options?: { skipBatches?: number; signal?: AbortSignal }): AsyncIterable<Batch>;
}

export function disposeBatch(batch: Batch): void {
  batch.x.dispose();
  batch.y.dispose();
}
