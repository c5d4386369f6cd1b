// Random state. LibTorch's CPU generator is the same Philox/MT19937 implementation PyTorch uses,
// so `manualSeed(s)` followed by the same ops gives the same numbers as Python's torch.
import { deviceName, type DeviceLike } from './device.js';
import { native } from './native.js';
import { Tensor } from './tensor.js';

/** Seeds every default generator (CPU and CUDA), like `torch.manual_seed`. */
export function manualSeed(seed: number | bigint): void {
  if (typeof seed === 'number' && (!Number.isInteger(seed) || seed < 0))
    throw new RangeError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** The seed the generator was last seeded with. */
export function initialSeed(device: DeviceLike = 'cpu'): number {
  return native.initialSeed(deviceName(device));
}

/** The full generator state as a uint8 tensor (save it in checkpoints for exact resume). */
export function getRngState(device: DeviceLike = 'cpu'): Tensor {
  return new Tensor(native.getRngState(deviceName(device)));
}

/** Restores a state returned by getRngState. */
export function setRngState(state: Tensor, device: DeviceLike = 'cpu'): void {
  native.setRngState(state.handle, deviceName(device));
}
