// The training precision `auto` picks (config train.mixedPrecision, the default): bf16 autocast on a
// CPU with native bf16 arithmetic (AVX-512 BF16 or AMX), float32 elsewhere. Measured on fashion-net
// (BENCHMARKS.md, "A faster step"): its step is ~2× faster under bf16 autocast on such a CPU and the
// main job's accuracy holds; without those instructions LibTorch emulates bf16 (converting in
// software), which is not measured here, so `auto` keeps float32 there. Tessera's runs are on the
// CPU; on CUDA ask for bf16/fp16 explicitly.
import { readFileSync } from 'node:fs';

export type Precision = 'off' | 'bf16' | 'fp16';

export interface PrecisionChoice {
  precision: Precision;
  /** Why, in words, for the run's log and `tessera info`. */
  why: string;
}

/** The CPU's flags from /proc/cpuinfo (empty where there is none). */
export function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** What `auto` means on this machine (for the CPU device). */
export function autoPrecision(flags: ReadonlySet<string> = cpuFlags()): PrecisionChoice {
  const native = ['avx512_bf16', 'amx_bf16'].filter((f) => flags.has(f));
  if (native.length > 0) return { precision: 'bf16', why: `bf16 autocast: the CPU computes in bf16 natively (${native.join(', ')})` };
  return { precision: 'off', why: 'float32: the CPU has no native bf16 arithmetic (no avx512_bf16 or amx_bf16), so bf16 would be emulated' };
}

/** A config's `train.mixedPrecision` resolved: `auto` as above, anything else as given. */
export function resolvePrecision(requested: Precision | 'auto', flags?: ReadonlySet<string>): PrecisionChoice {
  if (requested !== 'auto') return { precision: requested, why: requested === 'off' ? 'float32, as configured' : `${requested} autocast, as configured` };
  return autoPrecision(flags);
}

/** A config's `train.mixedPrecision` as the trainer's autocast setting (false: float32). */
export function autocastOf(mode: Precision | 'auto'): 'bf16' | 'fp16' | false {
  const p = resolvePrecision(mode).precision;
  return p === 'off' ? false : p;
}
