// POST /v2/models/{name}[/versions/{v}]/classify[?top_k=k]: image bytes in, top-k labels and
// probabilities out. The body is one JPEG/PNG/WebP image (its media type, or
// application/octet-stream), or multipart/form-data with one image per file part (up to the model's
// max batch size, all of them together within the body limit). The images are prepared as the model
// was evaluated, and a request's images go through the model in the same batch.
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { badRequest, ServeError, unavailable } from '../errors.js';
import type { EncodedImage } from '../preprocess.js';
import { modelOf, modelPaths, remainingMs, within, type ModelParams, type RouteContext } from './common.js';

/** Media types of a raw image body (the bytes decide the format; see preprocess.ts). */
export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

export interface Prediction {
  /** The file part's file name (or field name), 'body' for a raw body. */
  image: string;
  /** Best first. */
  top: { label: string; index: number; probability: number }[];
}

function topK(logits: Float32Array, k: number, classes: readonly string[] | undefined): Prediction['top'] {
  // Softmax in float64, shifted by the largest logit.
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const order = e.map((_, i) => i).sort((a, b) => (e[b] as number) - (e[a] as number) || a - b);
  return order.slice(0, k).map((index) => ({ label: classes?.[index] ?? String(index), index, probability: (e[index] as number) / sum }));
}

function parseTopK(raw: unknown, fallback: number, classes: number): number {
  if (raw === undefined) return Math.min(fallback, classes);
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) throw badRequest(`top_k must be a positive integer, got ${JSON.stringify(raw)}`);
  return Math.min(n, classes);
}

async function multipartImages(req: FastifyRequest, maxImages: number, bodyLimit: number): Promise<EncodedImage[]> {
  const images: EncodedImage[] = [];
  let bytes = 0;
  try {
    for await (const part of req.parts({ limits: { files: maxImages, fileSize: bodyLimit } })) {
      if (part.type !== 'file') throw badRequest(`multipart field '${part.fieldname}' is not a file; send each image as a file part (top_k goes in the query string)`);
      const id = part.filename || part.fieldname;
      if (!(IMAGE_MEDIA_TYPES as readonly string[]).includes(part.mimetype))
        throw new ServeError(415, `multipart file '${id}' is ${part.mimetype}; the server reads ${IMAGE_MEDIA_TYPES.join(', ')}`);
      const data = await part.toBuffer();
      bytes += data.length;
      if (bytes > bodyLimit) throw new ServeError(413, `the images add up to more than the body limit of ${bodyLimit} bytes`);
      images.push({ bytes: data, id });
    }
  } catch (e) {
    // busboy's own parse errors carry no status: they are a malformed body, not our failure.
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 413 && (e as { code?: string }).code === 'FST_FILES_LIMIT') throw new ServeError(413, `more than ${maxImages} images in one request (the model's max batch size)`);
    if (status === 413 && (e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw new ServeError(413, `an image is over the body limit of ${bodyLimit} bytes`);
    if (status !== undefined && status < 500) throw e;
    throw badRequest(`malformed multipart body: ${(e as Error).message}`);
  }
  if (images.length === 0) throw badRequest('the multipart body holds no image file parts');
  return images;
}

export function classifyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const path of modelPaths('/classify'))
    app.post<{ Params: ModelParams; Querystring: { top_k?: unknown } }>(path, async (req, reply) => {
      const m = modelOf(ctx, req);
      const info = m.info;
      if (!info) throw unavailable(`model '${m.name}' version ${m.version} is still loading; retry later`, 5);
      const k = parseTopK(req.query.top_k, ctx.options.topK, info.output.size);
      let images: EncodedImage[];
      if (req.isMultipart()) images = await multipartImages(req, m.source.batching.maxBatchSize, ctx.options.bodyLimit);
      else if (Buffer.isBuffer(req.body)) images = [{ bytes: req.body, id: 'body' }];
      else throw new ServeError(415, `POST …/classify takes ${IMAGE_MEDIA_TYPES.join(', ')} or multipart/form-data, got ${req.headers['content-type'] ?? 'no content type'}`);
      const timeoutMs = ctx.options.timeoutMs;
      const batch = await within(m.prepare(images), remainingMs(ctx, reply.elapsedTime), timeoutMs);
      const logits = await m.infer(batch, images.length, remainingMs(ctx, reply.elapsedTime), ctx.options.timeoutMs);
      const size = info.output.size;
      return {
        model_name: m.name,
        model_version: m.version,
        predictions: images.map((img, i): Prediction => ({ image: img.id, top: topK(logits.subarray(i * size, (i + 1) * size), k, info.classes) })),
      };
    });
}
