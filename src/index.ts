// Tessera: deep learning on image data sets, in TypeScript, with LibTorch doing the math.
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as models from './models/index.js';
export { getNumThreads, setNumThreads, getNumInteropThreads } from './runtime/threads.js';
export { runtimeInfo, formatRuntimeInfo, detectBlas, type RuntimeInfo, type BlasInfo } from './runtime/info.js';
export * as metrics from './metrics/index.js';
export * as report from './report/index.js';
export * as train from './train/index.js';
export * as data from './data/index.js';
export * as onnx from './export/index.js';
export * as dist from './dist/index.js';
