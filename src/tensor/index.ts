// The tensor layer's public surface. Importing it installs the generated Tensor methods.
import './generated/methods.js';

export { Tensor, type ToOptions, type BackwardOptions, type NestedArray } from './tensor.js';
export { tensor, fromBufferShared, scalarTensor, type TensorOptions } from './factories.js';
export { ALL_DTYPES, isDType, isFloatingPoint, type DType, type TypedArray } from './dtype.js';
export { cuda, deviceName, type DeviceLike } from './device.js';
export type { Layout, MemoryFormat, Reduction } from './generated/enums.js';
export type { Scalar } from './dispatch.js';
export { scope, keep, persist, memoryStats, type MemoryStats } from './memory.js';
export * as autograd from './autograd.js';
export { noGrad, enableGrad, noGradGuard, enableGradGuard, isGradEnabled, setGradEnabled } from './autograd.js';
export { autocast, autocastGuard, isAutocastEnabled, autocastDtype, type AutocastOptions, type AutocastDevice } from './autocast.js';
export { manualSeed, initialSeed, getRngState, setRngState } from './random.js';
export { TorchError, TorchIndexError, TorchValueError, TorchTypeError, DisposedTensorError, type TorchErrorKind } from './errors.js';
export { NativeLoadError } from './native.js';
export * as ops from './generated/ops.js';
export * from './generated/ops.js';
