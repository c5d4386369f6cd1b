// `tessera data …`: commands about data sets. `data check` runs the dataset doctor on an image
// folder or a manifest and prints what to fix. Exit codes: 0 clean, 1 problems found, 2 the check
// could not run (bad arguments, a missing path, an unreadable manifest).
import { existsSync } from 'node:fs';

import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';

import { checkDataset, type DoctorOptions, formatDoctorReport } from '../data/doctor/index.js';
import { DataError } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';

const USAGE = 2;

function intAtLeast(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

/** Commander exits 1 on usage errors; ours is 2, so "problems found" (1) stays unambiguous. */
function usageExit(cmd: Command): Command {
  return cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE));
}

interface CheckFlags {
  json?: boolean;
  out?: string;
  test?: string;
  minSide: number;
  nearDistance: number;
  concurrency?: number;
  progress: boolean;
}

async function runCheck(source: string, flags: CheckFlags): Promise<number> {
  for (const [what, p] of [['data set', source], ['test data set', flags.test]] as const) {
    if (p !== undefined && !existsSync(p)) {
      console.error(`tessera: the ${what} ${p} does not exist (give an image folder or a .csv/.jsonl manifest).`);
      return USAGE;
    }
  }
  const bar = flags.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'checking {bar} {value}/{total} files' }, cliProgress.Presets.shades_classic) : undefined;
  const options: DoctorOptions = { minSide: flags.minSide, nearDistance: flags.nearDistance };
  if (flags.test !== undefined) options.test = flags.test;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (bar) {
    options.onProgress = ({ done, total }) => {
      if (done === 1) bar.start(total, 0);
      bar.update(done);
    };
  }
  let report;
  try {
    report = await checkDataset(source, options);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    console.error(`tessera: ${e.message}`);
    return USAGE;
  } finally {
    bar?.stop();
  }
  if (flags.out !== undefined) writeFileAtomic(flags.out, [Buffer.from(`${JSON.stringify(report, null, 2)}\n`)]);
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
  return report.clean ? 0 : 1;
}

/** Adds `tessera data` and its subcommands to the program. */
export function registerDataCommands(program: Command): void {
  const data = usageExit(program.command('data').description('check image data sets before training on them'));
  usageExit(
    data
      .command('check')
      .description('check an image folder or a manifest: unreadable, corrupt, mislabelled-format and tiny files, duplicates, leakage, class balance')
      .argument('<source>', 'an image folder (one sub-folder per class) or a manifest (.csv, .jsonl)')
      .option('--json', 'print the report as JSON')
      .option('--out <file>', 'also write the JSON report to this file')
      .option('--test <source>', 'a test set to check for leakage against (its images must not appear in <source>)')
      .option('--min-side <px>', 'flag images whose shorter side is below this', intAtLeast('--min-side', 1), 32)
      .option('--near-distance <bits>', 'pHash distance (of 64 bits) up to which images count as near duplicates', intAtLeast('--near-distance', 0), 8)
      .option('--concurrency <n>', 'files inspected at once', intAtLeast('--concurrency', 1))
      .option('--no-progress', 'no progress bar'),
  ).action(async (source: string, flags: CheckFlags) => {
    process.exitCode = await runCheck(source, flags);
  });
}
