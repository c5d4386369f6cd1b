// Autocast: run a region in lower precision where it is safe (bf16 matmuls and convolutions on
// CPU; fp16 or bf16 on CUDA), keeping reductions and losses in float32 — LibTorch's own autocast
// policy, switched on and off here. Like grad mode, the state is thread-global in LibTorch, so
// the body must be synchronous; the previous state is restored in `finally`.
import { dtypeCode, dtypeName, type DType } from './dtype.js';
import { native } from './native.js';

export type AutocastDevice = 'cpu' | 'cuda';

export interface AutocastOptions {
  /** Default 'cpu'. */
  deviceType?: AutocastDevice;
  /** Default bfloat16 on CPU, float16 on CUDA (PyTorch's defaults). */
  dtype?: DType;
  /** Default true; false turns autocast off inside an autocast region. */
  enabled?: boolean;
}

function enter(o: AutocastOptions): () => void {
  const device = o.deviceType ?? 'cpu';
  const dtype = o.dtype ?? (device === 'cpu' ? 'bfloat16' : 'float16');
  if (device === 'cpu' && dtype !== 'bfloat16')
    throw new TypeError(`autocast on CPU supports only bfloat16, got ${dtype}`);
  if (dtype !== 'bfloat16' && dtype !== 'float16') throw new TypeError(`autocast dtype must be bfloat16 or float16, got ${dtype}`);
  const [wasEnabled, wasDtype] = native.getAutocast(device);
  native.setAutocast(device, o.enabled ?? true, dtypeCode(dtype));
  native.enterAutocast();
  return () => {
    native.exitAutocast();
    native.setAutocast(device, wasEnabled, wasDtype);
  };
}

/** Runs fn under autocast and restores the previous state afterwards (also when fn throws). */
export function autocast<T>(fn: () => T, options: AutocastOptions = {}): T {
  const exit = enter(options);
  try {
    const result = fn();
    if (result instanceof Promise) throw new TypeError('autocast takes a synchronous function: the mode is thread-global');
    return result;
  } finally {
    exit();
  }
}

/** `using _ = autocastGuard({ dtype: 'bfloat16' })` for a block. */
export function autocastGuard(options: AutocastOptions = {}): Disposable {
  const exit = enter(options);
  let done = false;
  return {
    [Symbol.dispose]() {
      if (!done) {
        done = true;
        exit();
      }
    },
  };
}

export function isAutocastEnabled(deviceType: AutocastDevice = 'cpu'): boolean {
  return native.getAutocast(deviceType)[0];
}

export function autocastDtype(deviceType: AutocastDevice = 'cpu'): DType {
  return dtypeName(native.getAutocast(deviceType)[1]);
}
