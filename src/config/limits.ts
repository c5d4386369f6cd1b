// Upper bounds on what a run may ask of the machine. A value past an absolute limit can only
// exhaust any machine (`--image-size 100000` asks for 30 GB per image, `--threads 100000` for
// thousands of OS threads): the schema refuses it. Limits that depend on this machine are applied
// when a command starts: thread and worker counts above the core count are lowered, with a
// warning (more LibTorch threads than cores only adds contention, and every worker costs memory);
// a batch of input pixels larger than a quarter of the memory is refused before any data is read.
import { availableParallelism, totalmem } from 'node:os';

import { fieldName } from './flags.js';
import type { RunConfig } from './schema.js';

export const LIMITS = {
  /** Pixels per side of `data.imageSize` (a 4096×4096 RGB image is 200 MB as float32). */
  imageSide: 4096,
  batchSize: 65_536,
  epochs: 100_000,
  threads: 1024,
  workers: 256,
  gradAccumulation: 4096,
  /** Checkpoint generations kept (each is a full copy of model and optimizer). */
  checkpointsKept: 100,
  /** Gallery images inlined in the report. */
  gallery: 1000,
} as const;

export interface Machine {
  cores: number;
  memoryBytes: number;
}

export function thisMachine(): Machine {
  return { cores: availableParallelism(), memoryBytes: totalmem() };
}

export class ResourceLimitError extends Error {
  override name = 'ResourceLimitError';
}

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/** `requested` threads or workers, lowered to the cores here with a warning naming the field. */
export function fitCount(path: string, requested: number, warn: (line: string) => void, machine: Machine = thisMachine()): number {
  if (requested <= machine.cores) return requested;
  warn(`${fieldName(path)} is ${requested}, more than the ${machine.cores} cores here: using ${machine.cores}`);
  return machine.cores;
}

/**
 * The config with its thread and worker counts fitted to this machine; throws a ResourceLimitError
 * when one batch of input pixels (float32) would take more than a quarter of the memory.
 */
export function fitToMachine(config: RunConfig, warn: (line: string) => void, machine: Machine = thisMachine()): RunConfig {
  const size = config.data.imageSize;
  if (size) {
    const channels = config.data.channels ?? 3;
    const bytes = config.train.batchSize * channels * size[0] * size[1] * 4;
    if (bytes > machine.memoryBytes / 4)
      throw new ResourceLimitError(
        `${fieldName('train.batchSize')} ${config.train.batchSize} × ${fieldName('data.imageSize')} ${size[0]}×${size[1]} × ${channels} channels ` +
          `needs ${gb(bytes)} for one batch of inputs, more than a quarter of this machine's ${gb(machine.memoryBytes)}; lower one of them`,
      );
  }
  const threads = config.train.threads === undefined ? undefined : fitCount('train.threads', config.train.threads, warn, machine);
  const workers = fitCount('data.workers', config.data.workers, warn, machine);
  return {
    ...config,
    data: { ...config.data, workers },
    train: { ...config.train, ...(threads === undefined ? {} : { threads }) },
  };
}
