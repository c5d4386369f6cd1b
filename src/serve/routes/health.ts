// The Open Inference Protocol's health and metadata routes: the server is live as soon as it
// listens and ready once every model is loaded and warmed up; a model's metadata names its input
// and output tensors (batch axis -1) and, beyond the protocol, its classes, batching and whether
// its answers include the run's test-time flip.
import type { FastifyInstance } from 'fastify';

import { packageVersion } from '../../runtime/info.js';
import { unavailable } from '../errors.js';
import type { ServedModel } from '../model.js';
import { modelOf, modelPaths, type ModelParams, type RouteContext } from './common.js';

function metadata(ctx: RouteContext, m: ServedModel) {
  const info = m.info;
  if (!info) throw unavailable(`model '${m.name}' version ${m.version} is still loading; retry later`, 5);
  return {
    name: m.name,
    versions: ctx.table.versions(m.name),
    platform: info.backend === 'torch' ? 'tessera_libtorch' : 'onnxruntime_onnx',
    inputs: [{ name: info.input.name, datatype: 'FP32', shape: [-1, ...info.input.shape] }],
    outputs: [{ name: info.output.name, datatype: 'FP32', shape: [-1, info.output.size] }],
    parameters: {
      version: m.version,
      max_batch_size: m.source.batching.maxBatchSize,
      ...(info.classes ? { classes: info.classes } : {}),
      image_route: info.preprocessing !== undefined,
      test_time_flip: info.testFlip,
    },
  };
}

export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v2', async () => ({ name: 'tessera', version: packageVersion(), extensions: ['image_classify'] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = ctx.table.ready;
    return reply.code(ready ? 200 : 503).send({ ready, ...(ready ? {} : { models: ctx.table.all.map((m) => ({ name: m.name, version: m.version, state: m.state })) }) });
  });
  for (const path of modelPaths('')) app.get<{ Params: ModelParams }>(path, async (req) => metadata(ctx, modelOf(ctx, req)));
  for (const path of modelPaths('/ready'))
    app.get<{ Params: ModelParams }>(path, async (req, reply) => {
      const m = modelOf(ctx, req);
      return reply.code(m.ready ? 200 : 503).send({ name: m.name, version: m.version, ready: m.ready, state: m.state });
    });
}
