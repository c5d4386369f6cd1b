// serve: an inference server (Open Inference Protocol / KServe v2 REST, plus an image route) with
// dynamic batching into a worker thread per model that owns it (LibTorch or ONNX Runtime).
export { startServer, type Server, type StartServerOptions } from './server.js';
export { resolveModels, type ResolveModelsOptions } from './repository.js';
export { resolveServeOptions, SERVE_DEFAULTS, ServeOptionsError, type ServeOptions, type ServeOptionsInput, type BatchingOptions } from './options.js';
export { BACKENDS, type BackendKind, type ModelSource, type ModelInfo } from './backend/types.js';
export { ServeError } from './errors.js';
