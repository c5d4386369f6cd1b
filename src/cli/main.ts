// The `tessera` command line.
import { Command, InvalidArgumentError } from 'commander';

import { LIMITS } from '../config/limits.js';
import { formatRuntimeInfo, runtimeInfo } from '../runtime/info.js';
import { registerDataCommands } from './data.js';
import { runDemo } from './demo.js';
import { registerExportCommand } from './export.js';
import { registerGanCommand } from './gan.js';
import { registerServeCommand } from './serve.js';
import { registerPruneCommand } from './prune.js';
import { registerTrainCommands } from './train.js';

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max.toLocaleString('en-US')}`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

/** Every command, with its options (docs/cli.md is generated from it: src/cli/reference.ts). */
export const program = new Command()
  .name('tessera')
  .description('Deep learning on image data sets, in TypeScript, at the speed of LibTorch');

program
  .command('info')
  .description('LibTorch version and build, threads, devices, CPU features and the BLAS in use')
  .option('--json', 'print as JSON')
  .action((opts: { json?: boolean }) => {
    const info = runtimeInfo();
    console.log(opts.json ? JSON.stringify(info, null, 2) : formatRuntimeInfo(info));
  });

program
  .command('demo')
  .description('train a small MLP on Fashion-MNIST for a few hundred steps, printing the loss')
  .option('--steps <n>', 'SGD steps', positiveInt('--steps', 1_000_000), 400)
  .option('--batch-size <n>', 'images per step', positiveInt('--batch-size', LIMITS.batchSize), 64)
  .option('--lr <x>', 'learning rate', positiveNumber('--lr'), 0.05)
  .option('--seed <n>', 'random seed', positiveInt('--seed', 2 ** 31 - 1), 1)
  .action((opts: { steps: number; batchSize: number; lr: number; seed: number }) => {
    runDemo({ ...opts, log: (l) => console.log(l) });
  });

registerDataCommands(program);
registerTrainCommands(program);
registerExportCommand(program);
registerServeCommand(program);
registerGanCommand(program);
registerPruneCommand(program);

/** Runs the command line (bin/tessera.js calls it; importing this module runs nothing). */
export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    // One clear sentence, not a stack trace, for errors a user can cause.
    console.error(`tessera: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
