// serve: an inference server (Open Inference Protocol / KServe v2 REST, plus an image route) with
// dynamic batching into a worker thread per model that owns it (LibTorch or ONNX Runtime).
import type { ModelSource } from './backend/types.js';
import type { Server, StartServerOptions } from './server.js';

export { resolveModels, type ResolveModelsOptions } from './repository.js';
export { resolveServeOptions, SERVE_DEFAULTS, ServeOptionsError, type ServeOptions, type ServeOptionsInput, type BatchingOptions } from './options.js';
export { BACKENDS, type BackendKind, type ModelSource, type ModelInfo } from './backend/types.js';
export { ServeError } from './errors.js';
export type { Server, StartServerOptions } from './server.js';

/**
 * Listens, then loads every model in a worker thread of its own: await the result's `loaded` for
 * readiness, call its `close()` to stop. fastify and its plugins load on the first call, so that
 * importing 'tessera' does not pay for them.
 */
export async function startServer(sources: readonly ModelSource[], options: StartServerOptions = {}): Promise<Server> {
  return (await import('./server.js')).startServer(sources, options);
}
