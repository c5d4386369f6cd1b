// export: a trained model as a file other runtimes load. ONNX, traced through the op layer.
export { exportOnnx, saveOnnx, MIN_OPSET, MAX_OPSET, type OnnxExportOptions, type OnnxExport } from './onnx.js';
export { compareWithOnnxRuntime, type OnnxComparison, type CompareOptions } from './verify.js';
export { OnnxExportError } from './errors.js';
export type { Value as OnnxValue } from './graph.js';
