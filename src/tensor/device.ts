// Devices, named as PyTorch names them: 'cpu', 'cuda', 'cuda:1'.
import { native } from './native.js';

export type DeviceLike = string;

const DEVICE = /^(cpu|cuda)(?::(\d+))?$/;

/** Validates a device name and returns it in canonical form; 'cuda' means the current CUDA device. */
export function deviceName(d: DeviceLike): string {
  const m = DEVICE.exec(String(d));
  if (!m) throw new TypeError(`'${String(d)}' is not a device (use 'cpu', 'cuda' or 'cuda:N')`);
  return m[2] === undefined ? (m[1] as string) : `${m[1]}:${m[2]}`;
}

export interface CudaInfo {
  available: boolean;
  deviceCount: number;
}

export const cuda = {
  isAvailable(): boolean {
    return native.buildInfo().hasCuda && native.buildInfo().cudaDeviceCount > 0;
  },
  deviceCount(): number {
    return native.buildInfo().cudaDeviceCount;
  },
};
