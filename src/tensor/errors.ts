// Typed errors for everything that can go wrong across the native boundary. The addon creates
// these classes itself (registered in native.ts), so a LibTorch failure arrives as a TorchError
// carrying the op that failed and LibTorch's own message; the process never goes down.

/** What kind of failure a TorchError reports (mirrors ErrorKind in native/csrc/errors.h). */
export type TorchErrorKind =
  | 'torch'
  | 'index'
  | 'value'
  | 'type'
  | 'not_implemented'
  | 'out_of_memory'
  | 'argument'
  | 'disposed'
  | 'internal';

export class TorchError extends Error {
  /** The ATen op (with overload) or native entry point that failed, e.g. `add.Tensor`. */
  readonly op: string;
  readonly kind: TorchErrorKind;

  constructor(message: string, op: string, kind: TorchErrorKind = 'torch') {
    super(`${op}: ${message}`);
    this.name = 'TorchError';
    this.op = op;
    this.kind = kind;
  }
}

/** An index out of range (LibTorch's IndexError). */
export class TorchIndexError extends TorchError {
  override name = 'TorchIndexError';
}

/** A bad value, or a wrong argument kind detected by the native side (e.g. a string for a Tensor). */
export class TorchValueError extends TorchError {
  override name = 'TorchValueError';
}

/** A dtype that an op does not support (LibTorch's TypeError). */
export class TorchTypeError extends TorchError {
  override name = 'TorchTypeError';
}

/** A tensor used after `dispose()`. */
export class DisposedTensorError extends TorchError {
  override name = 'DisposedTensorError';
}

/** Which class the native side instantiates for each kind. */
export const ERROR_CLASSES: Record<TorchErrorKind, typeof TorchError> = {
  torch: TorchError,
  index: TorchIndexError,
  value: TorchValueError,
  type: TorchTypeError,
  not_implemented: TorchError,
  out_of_memory: TorchError,
  argument: TorchValueError,
  disposed: DisposedTensorError,
  internal: TorchError,
};
