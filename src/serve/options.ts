// What `tessera serve` can be told, with bounds: the server's own settings and, per model, how its
// requests are batched. A value outside its range is refused naming the field, before anything loads.
import { availableParallelism } from 'node:os';

import { z } from 'zod';

import { formatIssues } from '../config/load.js';

/** How one model's requests are gathered into batches (Triton's dynamic_batching, per model). */
export const BatchingSchema = z.strictObject({
  /** Samples in one forward pass. A request with more samples than this is refused (400). */
  maxBatchSize: z.number().int().min(1).max(4096),
  /**
   * How long the oldest queued request may wait for a fuller batch. 0 sends what is queued as soon
   * as the model is free: under load, requests that arrive during a forward pass still share the next.
   */
  maxQueueDelayMs: z.number().min(0).max(10_000),
  /** Samples waiting at most; one more is answered 503 with Retry-After. */
  maxQueue: z.number().int().min(1).max(1_000_000),
  /** LibTorch intra-op threads (torch back end) or ONNX Runtime intra-op threads for this model. */
  threads: z.number().int().min(1).max(1024),
});
export type BatchingOptions = z.infer<typeof BatchingSchema>;

export const ServeOptionsSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  /** A request not answered within this is answered 503 with Retry-After (decode, queue and inference together). */
  timeoutMs: z.number().int().min(1).max(3_600_000),
  /** Largest request body in bytes (JSON tensors, a raw image, or one multipart image part): 413 above it. */
  bodyLimit: z.number().int().min(1024).max(2 ** 31 - 1),
  /** Decompression-bomb limit of the image route: width × height from the header, checked before decoding. */
  maxPixels: z.number().int().min(1).max(1e9),
  /** Classes in an image-route answer unless the request says `top_k`. */
  topK: z.number().int().min(1).max(100_000),
  /** When set, every route but /v2/health/* needs `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
  apiKey: z.string().min(8, 'an API key must be at least 8 characters').optional(),
});
export type ServeOptions = z.infer<typeof ServeOptionsSchema>;
export type ServeOptionsInput = Partial<ServeOptions>;

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  timeoutMs: 30_000,
  bodyLimit: 16 * 1024 * 1024,
  maxPixels: 25_000_000,
  topK: 5,
  maxBatchSize: 32,
  maxQueueDelayMs: 0,
  maxQueue: 256,
} as const;

export class ServeOptionsError extends Error {
  override name = 'ServeOptionsError';
}

/** The options with defaults filled in, checked. (Batching is per model: see batchingFor.) */
export function resolveServeOptions(input: ServeOptionsInput = {}): ServeOptions {
  const raw = {
    host: SERVE_DEFAULTS.host,
    port: SERVE_DEFAULTS.port,
    timeoutMs: SERVE_DEFAULTS.timeoutMs,
    bodyLimit: SERVE_DEFAULTS.bodyLimit,
    maxPixels: SERVE_DEFAULTS.maxPixels,
    topK: SERVE_DEFAULTS.topK,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  };
  const parsed = ServeOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new ServeOptionsError(`serve options:\n${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}

/**
 * One model's batching: its own serve.json (`perModel`, already checked) over the server's defaults.
 * Threads default to the cores shared out between the models: LibTorch's OpenMP pool and ONNX
 * Runtime's pool are per calling thread, so each model's worker has a pool of its own, and more
 * threads than cores in total only adds contention.
 */
export function batchingFor(defaults: Partial<BatchingOptions>, perModel: Partial<BatchingOptions>, models: number, cores = availableParallelism()): BatchingOptions {
  const b = {
    maxBatchSize: perModel.maxBatchSize ?? defaults.maxBatchSize ?? SERVE_DEFAULTS.maxBatchSize,
    maxQueueDelayMs: perModel.maxQueueDelayMs ?? defaults.maxQueueDelayMs ?? SERVE_DEFAULTS.maxQueueDelayMs,
    maxQueue: perModel.maxQueue ?? defaults.maxQueue ?? SERVE_DEFAULTS.maxQueue,
    threads: perModel.threads ?? defaults.threads ?? Math.max(1, Math.floor(cores / Math.max(1, models))),
  };
  // A full batch must fit in the queue, or a request of maxBatchSize samples could never be taken.
  if (b.maxQueue < b.maxBatchSize) throw new ServeOptionsError(`maxQueue (${b.maxQueue}) must be at least maxBatchSize (${b.maxBatchSize})`);
  return b;
}
