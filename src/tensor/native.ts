// Loads the native addon once and gives the rest of the library a typed view of it.
// A missing or unusable LibTorch gives one clear message naming the three ways to provide it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ERROR_CLASSES, type TorchErrorKind } from './errors.js';
import type { NativeOpName } from './generated/native-names.js';

export interface NativeMemoryStats {
  liveTensors: number;
  liveBytes: number;
  totalCreated: number;
}

export interface NativeBuildInfo {
  version: string;
  config: string;
  parallelInfo: string;
  hasCuda: boolean;
  cudaDeviceCount: number;
  hasMkldnn: boolean;
  hasOpenMP: boolean;
  hasLapack: boolean;
  hasMkl: boolean;
  cxx11Abi: boolean;
}

/** A tensor handle as it crosses the boundary: a number, 0 once disposed. */
export type Handle = number;

/** The hand-written entry points (native/csrc/*.cc). */
export interface NativeCore {
  setErrorClass(kind: TorchErrorKind, ctor: unknown): void;
  release(h: Handle): void;
  memoryStats(): NativeMemoryStats;
  shallowClone(h: Handle): Handle;
  /** Reports the tensor's storage to V8 as external memory (until release): for tensors only the GC frees. */
  trackExternal(h: Handle): void;
  fromBuffer(data: ArrayBufferView | ArrayBuffer, dtype: number, shape: readonly number[]): Handle;
  fromBufferShared(data: ArrayBufferView | ArrayBuffer, dtype: number, shape: readonly number[]): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  /** A private, copy-on-write mapping of the whole file (unmapped when the buffer is collected). */
  mapFile(path: string): ArrayBuffer;
  copyFromBuffer(h: Handle, data: ArrayBufferView | ArrayBuffer): void;
  item(h: Handle): number | boolean;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  dtype(h: Handle): number;
  device(h: Handle): string;
  numel(h: Handle): number;
  describe(h: Handle): { numel: number; contiguous: boolean; channelsLast: boolean; storageOffset: number; isView: boolean };
  isGradEnabled(): boolean;
  setGradEnabled(enabled: boolean): void;
  requiresGrad(h: Handle): boolean;
  isLeaf(h: Handle): boolean;
  gradFnName(h: Handle): string | null;
  getGrad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  backward(tensors: Handle[], grads: (Handle | null)[], retainGraph?: boolean, createGraph?: boolean, inputs?: Handle[]): void;
  grad(
    outputs: Handle[],
    inputs: Handle[],
    gradOutputs: (Handle | null)[] | undefined,
    retainGraph: boolean | undefined,
    createGraph: boolean,
    allowUnused: boolean,
  ): (Handle | null)[];
  buildInfo(): NativeBuildInfo;
  allocatorInfo(): { tuned: boolean };
  getNumThreads(): number;
  setNumThreads(n: number): void;
  getNumInteropThreads(): number;
  manualSeed(seed: number | bigint): void;
  getRngState(device?: string): Handle;
  setRngState(state: Handle, device?: string): void;
  initialSeed(device?: string): number;
  /** The storage a tensor lives in (identity and size in bytes), for the .pt writer. */
  storageOf(h: Handle): { id: string; nbytes: number; users: number };
  getAutocast(deviceType: 'cpu' | 'cuda'): [boolean, number];
  setAutocast(deviceType: 'cpu' | 'cuda', enabled: boolean, dtype: number): void;
  enterAutocast(): number;
  exitAutocast(): void;
  /** A thread pool for the JPEG kernel (native/csrc/jpeg_addon.cc); freed when collected. */
  jpegPoolCreate(threads: number): NativeJpegPool;
  /** Decodes a batch on `pool`; one entry per input: null, or why it failed. See src/data/image/jpeg-native.ts. */
  jpegDecodeBatch(pool: NativeJpegPool, inputs: Uint8Array[], params: Int32Array, out: Uint8Array | Float32Array, layout: NativeJpegLayout): Promise<(string | null)[]>;
}

/** An opaque native JPEG thread pool. */
export type NativeJpegPool = { readonly __nativeJpegPool: unique symbol };

/** Output of every sample of a JPEG batch; `lut` (256 floats per channel) is read for float32 output only. */
export interface NativeJpegLayout {
  width: number;
  height: number;
  channels: 1 | 3;
  maxPixels: number;
  failOn: 'truncated' | 'error' | 'warning';
  dctScaling: boolean;
  lut: Float32Array;
}

export type NativeAddon = NativeCore & Record<NativeOpName, (...args: unknown[]) => unknown>;

const HOW_TO =
  'Tessera needs LibTorch. Use one of: (1) the system LibTorch: `apt-get install libtorch-dev libopenblas0-openmp` ' +
  '(Debian 12 / Ubuntu), then `npm run build:native`; (2) LIBTORCH=/path/to/libtorch, an unpacked official LibTorch ' +
  'archive, then `npm run build:native`; (3) LIBTORCH_USE_PYTORCH=1 with a Python whose `import torch` works, then ' +
  '`npm run build:native`.';

/** Raised when the addon cannot be loaded; its message says how to fix it. */
export class NativeLoadError extends Error {
  override name = 'NativeLoadError';
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function addonPath(): string {
  return process.env.TESSERA_ADDON ?? join(root, 'build', 'Release', 'tessera.node');
}

function load(): NativeAddon {
  const path = addonPath();
  if (!existsSync(path)) throw new NativeLoadError(`The native addon is not built (no ${path}).\n${HOW_TO}`);
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    throw new NativeLoadError(`The native addon at ${path} could not be loaded: ${(e as Error).message}\n${HOW_TO}`);
  }
  for (const [kind, ctor] of Object.entries(ERROR_CLASSES)) addon.setErrorClass(kind as TorchErrorKind, ctor);
  // N-API defines the addon's entry points read-only. The library calls the same functions through a
  // plain object, so that the ONNX exporter's tracer (src/export/trace.ts) can put recording wrappers
  // in place for the length of one traced forward pass; outside a trace nothing is wrapped.
  // Every own key, symbols too (a stand-in addon may carry one, see test/conformance/trace-addon.cts).
  const view: Record<string | symbol, unknown> = {};
  for (const k of Reflect.ownKeys(addon)) view[k] = (addon as unknown as Record<string | symbol, unknown>)[k];
  return view as unknown as NativeAddon;
}

/** The addon's entry points, loaded on first import. */
export const native: NativeAddon = load();
