// POST /v2/models/{name}[/versions/{v}]/infer: the Open Inference Protocol's inference with JSON
// tensors. The request's samples join the model's queue and come back as (n, classes) logits.
import type { FastifyInstance } from 'fastify';

import { ServeError, unavailable } from '../errors.js';
import { outputTensor, parseInferRequest } from '../tensors.js';
import { modelOf, modelPaths, remainingMs, type ModelParams, type RouteContext } from './common.js';

export function inferRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const path of modelPaths('/infer'))
    app.post<{ Params: ModelParams }>(path, async (req, reply) => {
      const m = modelOf(ctx, req);
      const info = m.info;
      if (!info) throw unavailable(`model '${m.name}' version ${m.version} is still loading; retry later`, 5);
      // A body another parser took (an image) is not a JSON tensor request.
      if (!req.headers['content-type']?.startsWith('application/json'))
        throw new ServeError(415, `POST …/infer takes application/json (KServe v2 tensors), got ${req.headers['content-type'] ?? 'no content type'}`);
      const input = parseInferRequest(req.body, info, m.source.batching.maxBatchSize);
      const logits = await m.infer(input.data, input.n, remainingMs(ctx, reply.elapsedTime), ctx.options.timeoutMs);
      return {
        model_name: m.name,
        model_version: m.version,
        ...(input.id !== undefined ? { id: input.id } : {}),
        outputs: [outputTensor(info, logits, input.n)],
      };
    });
}
