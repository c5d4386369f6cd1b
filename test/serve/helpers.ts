// Shared by the server tests: small trained-looking runs on disk (model.json + model.safetensors, as
// `tessera train` leaves them), real encoded images, a server on a loopback port, and HTTP calls.
import { mkdirSync } from 'node:fs';

import sharp from 'sharp';

import { manualSeed, models } from '../../src/index.js';
import { fitTransforms, Preprocessing } from '../../src/data/pipeline/preprocessing.js';
import { saveRunModel } from '../../src/run/saved-model.js';
import type { ModelSource } from '../../src/serve/backend/types.js';
import { batchingFor, type BatchingOptions } from '../../src/serve/options.js';
import { startServer, type Server, type StartServerOptions } from '../../src/serve/server.js';

export const CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];

export interface RunSpec {
  model: string;
  channels: 1 | 3;
  size: number;
  seed?: number;
  mean?: number[];
  std?: number[];
  memoryFormat?: 'contiguous' | 'channelsLast';
  /** Saved as a run that trained with flips saves it: eval and predict average with the mirror image. */
  testFlip?: boolean;
}

/**
 * A run directory holding `spec.model` with seeded random weights and the preprocessing `tessera
 * train` saves for a photo folder (resize the shorter side, center crop, normalise), as it writes them.
 */
export function makeRun(dir: string, spec: RunSpec): string {
  mkdirSync(dir, { recursive: true });
  manualSeed(spec.seed ?? 1);
  const options = { classes: CLASSES.length, inChannels: spec.channels, imageSize: spec.size };
  const model = models.createModel(spec.model, options);
  const preprocessing = Preprocessing.of({
    channels: spec.channels, height: spec.size, width: spec.size, transforms: fitTransforms(spec.size, spec.size),
    mean: spec.mean ?? (spec.channels === 1 ? [0.286] : [0.49, 0.48, 0.45]),
    std: spec.std ?? (spec.channels === 1 ? [0.353] : [0.25, 0.24, 0.26]),
    memoryFormat: spec.memoryFormat ?? 'contiguous', classes: CLASSES,
  });
  saveRunModel(dir, model, { name: spec.model, options, preprocessing, ...(spec.testFlip ? { testFlip: true } : {}) });
  model.dispose();
  return dir;
}

export function source(path: string, batching: Partial<BatchingOptions> = {}, name = 'm', backend: 'torch' | 'onnx' = 'torch'): ModelSource {
  return { name, version: '1', backend, path, batching: batchingFor({ threads: 1, ...batching }, {}, 1) };
}

/** A w×h picture with structure (gradients and a disc), so resizing and channels matter to the model. */
export async function picture(w: number, h: number, format: 'png' | 'jpeg' | 'webp', seed = 0): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const disc = (x - w / 2) ** 2 + (y - h / 3) ** 2 < (Math.min(w, h) / 4) ** 2;
      px[i] = (x * 255) / w;
      px[i + 1] = disc ? 240 : (y * 255) / h;
      px[i + 2] = (seed * 53 + x * y) % 256;
    }
  const s = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? s.png().toBuffer() : format === 'jpeg' ? s.jpeg({ quality: 90 }).toBuffer() : s.webp({ quality: 90 }).toBuffer();
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: r.status, headers: r.headers, body };
}

export const postJson = (url: string, value: unknown) => call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
export const postBytes = (url: string, bytes: Uint8Array, type: string) => call(url, { method: 'POST', headers: { 'content-type': type }, body: bytes });

/** An infer request body for (n, …shape) values from `f`. */
export function tensorRequest(shape: number[], f: (i: number) => number = (i) => Math.sin(i), extra: Record<string, unknown> = {}): Record<string, unknown> {
  const count = shape.reduce((a, b) => a * b, 1);
  return { inputs: [{ name: 'input', shape, datatype: 'FP32', data: Array.from({ length: count }, (_, i) => f(i)), ...extra }] };
}

/** A server on a free loopback port, its models loaded; lines it logs are kept in `log`. */
export async function serve(sources: ModelSource[], options: StartServerOptions = {}): Promise<Server & { log: string[] }> {
  const log: string[] = [];
  const server = await startServer(sources, { port: 0, log: (l) => log.push(l), ...options });
  await server.loaded;
  return Object.assign(server, { log });
}
