// What `tessera info` reports: LibTorch's version and build, threads, devices, CPU features and
// which BLAS is actually loaded in this process (the one thing that changes linear-layer speed ~25×).
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { cpus } from 'node:os';

import { cuda } from '../tensor/device.js';
import { addonPath, native } from '../tensor/native.js';
import { autoPrecision, cpuFlags, type PrecisionChoice } from './precision.js';
import { getNumInteropThreads, getNumThreads } from './threads.js';

export interface BlasInfo {
  /** 'openblas' | 'mkl' | 'reference' | 'blis' | 'unknown' | 'none' */
  kind: string;
  /** The shared object the process mapped, resolved through symlinks. */
  library: string | null;
  /** OpenBLAS build variant (openmp, pthread, serial) where the path tells it. */
  variant: string | null;
  /** True when the slow reference BLAS is in use. */
  slow: boolean;
}

export interface RuntimeInfo {
  tessera: string;
  node: string;
  addon: string;
  libtorch: { version: string; cxx11Abi: boolean; config: string; capability: string | null };
  threads: { intraOp: number; interOp: number; cores: number };
  /** Whether the addon tuned glibc malloc to keep freed memory (native/csrc/runtime.cc). */
  mallocTuned: boolean;
  devices: { cpu: string; cudaAvailable: boolean; cudaDevices: number };
  cpuFeatures: { avx2: boolean; avx512f: boolean; avx512bf16: boolean; amx: boolean };
  blas: BlasInfo;
  /** What Tessera chooses for training on this machine where the config leaves it open. */
  training: { precision: PrecisionChoice; optimizerStep: string; kernels: string };
  warnings: string[];
}

/** Finds the BLAS library mapped into this process (LibTorch loads it with the addon). */
export function detectBlas(maps = readMaps()): BlasInfo {
  const libs = [...new Set(maps.split('\n').map((l) => l.split(/\s+/).at(-1) ?? '').filter((p) => /blas|mkl_|blis/i.test(p) && p.includes('.so')))];
  const resolved = libs.map((p) => (existsSync(p) ? realpathSync(p) : p));
  const find = (re: RegExp) => resolved.find((p) => re.test(p)) ?? null;
  const mkl = find(/libmkl_/);
  if (mkl) return { kind: 'mkl', library: mkl, variant: null, slow: false };
  const openblas = find(/openblas/);
  if (openblas) {
    const variant = /openblas-(openmp|pthread|serial)/.exec(openblas)?.[1] ?? null;
    return { kind: 'openblas', library: openblas, variant, slow: false };
  }
  const blis = find(/blis/);
  if (blis) return { kind: 'blis', library: blis, variant: null, slow: false };
  const reference = find(/\/blas\/libblas|libblas\.so/);
  if (reference) return { kind: 'reference', library: reference, variant: null, slow: true };
  return { kind: 'none', library: null, variant: null, slow: false };
}

function readMaps(): string {
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return '';
  }
}

export function packageVersion(): string {
  try {
    const url = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function runtimeInfo(): RuntimeInfo {
  const build = native.buildInfo();
  const flags = cpuFlags();
  const blas = detectBlas();
  const capability = /CPU capability usage: (\S+)/.exec(build.config)?.[1] ?? null;
  const warnings: string[] = [];
  if (blas.slow)
    warnings.push(
      `LibTorch is using the reference BLAS (${blas.library}): linear layers run ~25x slower. ` +
        'Install OpenBLAS: apt-get install libopenblas0-openmp',
    );
  if (blas.kind === 'openblas' && blas.variant && blas.variant !== 'openmp')
    warnings.push(`OpenBLAS is the ${blas.variant} build; LibTorch uses OpenMP threads, so libopenblas0-openmp avoids oversubscription.`);
  return {
    tessera: packageVersion(),
    node: process.version,
    addon: addonPath(),
    libtorch: { version: build.version, cxx11Abi: build.cxx11Abi, config: build.config, capability },
    threads: { intraOp: getNumThreads(), interOp: getNumInteropThreads(), cores: cpus().length },
    mallocTuned: native.allocatorInfo().tuned,
    devices: { cpu: cpus()[0]?.model ?? 'unknown', cudaAvailable: cuda.isAvailable(), cudaDevices: cuda.deviceCount() },
    cpuFeatures: {
      avx2: flags.has('avx2'),
      avx512f: flags.has('avx512f'),
      avx512bf16: flags.has('avx512_bf16'),
      amx: flags.has('amx_tile'),
    },
    blas,
    training: {
      precision: autoPrecision(flags),
      // Only ATen's own kernels (batch norm, pooling, elementwise) follow ATEN_CPU_CAPABILITY; oneDNN's
      // convolutions pick their instructions themselves. Measured on fashion-net: avx512 is no faster.
      kernels:
        flags.has('avx512f') && capability && !capability.startsWith('AVX512')
          ? `${capability} (LibTorch's default; ATEN_CPU_CAPABILITY=avx512 selects AVX-512, measured no faster for training here, BENCHMARKS.md)`
          : (capability ?? 'unknown'),
      optimizerStep: 'one op per tensor (SGD foreach: true makes it one native call per parameter group and line: measured not faster on the CPU)' },
    warnings,
  };
}

export function formatRuntimeInfo(i: RuntimeInfo): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `Tessera ${i.tessera} on Node ${i.node}`,
    `  addon            ${i.addon}`,
    `LibTorch ${i.libtorch.version} (C++11 ABI: ${yes(i.libtorch.cxx11Abi)}, CPU kernels: ${i.libtorch.capability ?? 'unknown'})`,
    `  BLAS             ${i.blas.kind}${i.blas.variant ? ` (${i.blas.variant})` : ''}${i.blas.library ? `  ${i.blas.library}` : ''}`,
    `  threads          intra-op ${i.threads.intraOp}, inter-op ${i.threads.interOp}, cores ${i.threads.cores}`,
    `  malloc           ${i.mallocTuned ? 'tuned to keep freed memory (TESSERA_MALLOC_TUNING=0 for glibc defaults)' : 'glibc defaults'}`,
    `Devices`,
    `  cpu              ${i.devices.cpu}`,
    `  cuda             ${i.devices.cudaAvailable ? `${i.devices.cudaDevices} device(s)` : 'not available'}`,
    `CPU features       AVX2 ${yes(i.cpuFeatures.avx2)}, AVX-512 ${yes(i.cpuFeatures.avx512f)}, AVX-512 BF16 ${yes(i.cpuFeatures.avx512bf16)}, AMX ${yes(i.cpuFeatures.amx)}`,
    `Training defaults`,
    `  precision        ${i.training.precision.why} (train.mixedPrecision auto)`,
    `  optimizer step   ${i.training.optimizerStep}`,
    `  CPU kernels      ${i.training.kernels}`,
    `Build options`,
    ...i.libtorch.config.trim().split('\n').map((l) => `  ${l.trim()}`),
  ];
  for (const w of i.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n');
}
