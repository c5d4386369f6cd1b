// `tessera serve` as a library: a fastify server over the models of a run, an .onnx file or a model
// repository. It listens at once (live), loads every model in its own worker thread and is ready
// when all are warmed up; close() stops taking connections, answers what is in flight, then stops
// the workers. Every answer is JSON; an error is `{ "error": "<what was wrong>" }` with a 4xx for
// anything the client can fix, 503 + Retry-After for overload, timeouts and shutdown, and 500 only
// for our own bugs.
import { createHash, timingSafeEqual } from 'node:crypto';

import multipart from '@fastify/multipart';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

import type { ModelSource } from './backend/types.js';
import { ServeError } from './errors.js';
import { ServeMetrics } from './metrics.js';
import { ServedModel } from './model.js';
import { resolveServeOptions, type ServeOptions, type ServeOptionsInput } from './options.js';
import { classifyRoutes, IMAGE_MEDIA_TYPES } from './routes/classify.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { ModelTable } from './table.js';

export interface Server {
  readonly app: FastifyInstance;
  readonly options: ServeOptions;
  readonly models: ModelTable;
  readonly metrics: ServeMetrics;
  /** `http://host:port` once listening. */
  readonly url: string;
  /** Resolves when every model is loaded and warmed up; rejects with the first one that cannot load. */
  readonly loaded: Promise<void>;
  /** Stops accepting, answers everything in flight, stops the model workers. */
  close(): Promise<void>;
}

export interface StartServerOptions extends ServeOptionsInput {
  /** Where the server's own lines go (a model worker that died, a 500); default stderr. */
  log?: (line: string) => void;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Bearer token or X-API-Key, compared in constant time (both sides hashed, so lengths do not leak either). */
function apiKeyCheck(key: string) {
  const want = sha256(key);
  return (headers: Record<string, string | string[] | undefined>): boolean => {
    const auth = headers.authorization;
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : headers['x-api-key'];
    return typeof given === 'string' && timingSafeEqual(sha256(given), want);
  };
}

/** Friendlier words for fastify's own 4xx errors, naming the limit or what the routes take. */
function describeFastifyError(e: FastifyError, options: ServeOptions, contentType: string | undefined): string {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is over the limit of ${options.bodyLimit} bytes (--body-limit)`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `unsupported media type ${contentType === undefined ? '(none given)' : `'${contentType}'`}: …/infer takes application/json, …/classify ${IMAGE_MEDIA_TYPES.join(', ')} or multipart/form-data`;
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return `the body is not valid JSON: ${e.message}`;
    default:
      return e.message;
  }
}

function buildApp(table: ModelTable, options: ServeOptions, metrics: ServeMetrics, log: (line: string) => void, closing: () => boolean): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    // A client that has not sent its whole request by then gets 408 (slow-body clients hold no worker).
    requestTimeout: options.timeoutMs,
    return503OnClosing: true,
    logger: false,
  });
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser([...IMAGE_MEDIA_TYPES], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  void app.register(multipart, { limits: { fileSize: options.bodyLimit }, throwFileSizeLimit: true });

  if (options.apiKey !== undefined) {
    const allowed = apiKeyCheck(options.apiKey);
    app.addHook('onRequest', async (req, reply) => {
      // Probes (Kubernetes, load balancers) carry no key.
      if (req.routeOptions.url?.startsWith('/v2/health/')) return;
      if (!allowed(req.headers)) {
        await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong API key (Authorization: Bearer <key> or X-API-Key: <key>)' });
      }
    });
  }

  // While closing, answers in flight end their keep-alive connection, so the server can finish
  // closing once they are sent (idle connections are closed at once by fastify).
  app.addHook('onSend', async (_req, reply) => {
    if (closing()) void reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, code: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((e: FastifyError | ServeError, req, reply) => {
    const status = e.statusCode ?? 500;
    if (e instanceof ServeError) {
      if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
      return reply.code(status).send({ error: e.message });
    }
    if (status < 500) return reply.code(status).send({ error: describeFastifyError(e as FastifyError, options, req.headers['content-type']) });
    log(`internal error: ${e.stack ?? e.message}`);
    return reply.code(500).send({ error: `internal error: ${e.message}` });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const ctx = { table, options };
  healthRoutes(app, ctx);
  inferRoutes(app, ctx);
  classifyRoutes(app, ctx);
  return app;
}

/** Listens, then loads the models in the background: await `loaded` for readiness. */
export async function startServer(sources: readonly ModelSource[], input: StartServerOptions = {}): Promise<Server> {
  const { log = (line: string) => console.error(`tessera serve: ${line}`), ...rest } = input;
  const options = resolveServeOptions(rest);
  if (sources.length === 0) throw new Error('no models to serve');
  let table: ModelTable | undefined;
  const metrics = new ServeMetrics(
    () => (table?.all ?? []).map((m) => ({ model: m.name, version: m.version, samples: m.queued })),
    Math.max(...sources.map((s) => s.batching.maxBatchSize)),
  );
  const models = sources.map((s) => new ServedModel(s, { metrics, maxPixels: options.maxPixels, log }));
  table = new ModelTable(models);
  let closing: Promise<void> | undefined;
  const app = buildApp(table, options, metrics, log, () => closing !== undefined);
  const url = await app.listen({ host: options.host, port: options.port });
  const loaded = Promise.all(models.map((m) => m.load())).then(() => undefined);
  // A model that fails to load is reported through `loaded`; no unhandled rejection meanwhile.
  loaded.catch(() => undefined);
  return {
    app, options, models: table, metrics, url, loaded,
    close() {
      // Connections first (in-flight requests still need the workers), then the models.
      closing ??= app.close().then(async () => void (await Promise.all(models.map((m) => m.close()))));
      return closing;
    },
  };
}
