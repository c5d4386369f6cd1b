// export: a trained model as a file other runtimes load. ONNX, traced through the op layer; int8 QDQ.
export { exportOnnx, saveOnnx, MIN_OPSET, MAX_OPSET, type OnnxExportOptions, type OnnxExport } from './onnx.js';
export { compareWithOnnxRuntime, type OnnxComparison, type CompareOptions } from './verify.js';
export { OnnxExportError } from './errors.js';
export type { Value as OnnxValue } from './graph.js';
export { quantizeOnnx, quantizeModel, calibrationTensors, type QuantizationSummary } from './quantize.js';
export { calibrate, CALIBRATION_METHODS, type CalibrationMethod, type CalibrationOptions, type InputBatch } from './calibrate.js';
export { scaleZeroPoint, activationParams, quantizeWeightPerChannel, quantizeBias, type Range, type QuantParams } from './quantize-math.js';
