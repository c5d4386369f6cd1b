// What the five seed examples share and the articles never show: the command line (a data path,
// --epochs, --limit, --test-limit, --batch-size, --seed, --threads) and how a bad input ends the
// program (one sentence on stderr, exit status 1, no stack trace). Nothing here trains anything.
import { parseArgs } from 'node:util';

import { manualSeed, setNumThreads } from 'tessera';

export interface ExampleArgs {
  /** The positional data path, else the environment variable, else the example's default. */
  data: string | undefined;
  epochs: number;
  /** Use only the first N training samples (for quick runs and tests). */
  limit: number | undefined;
  /** Evaluate on only the first N test samples. */
  testLimit: number | undefined;
  batchSize: number;
  seed: number;
  /** The example's own string options (e.g. 003's --test). */
  options: Record<string, string | undefined>;
}

export interface ExampleSpec {
  /** e.g. '000-cifar10-cnn', used as the prefix of error messages. */
  name: string;
  usage: string;
  /** Environment variable naming the data when no path is given. */
  env: string;
  /** Data path when neither the argument nor the variable is given. */
  defaultData?: string;
  epochs: number;
  batchSize: number;
  /** Extra string options, by long name. */
  extra?: readonly string[];
}

/** Ends the program with one clear sentence (bad input is not a crash). */
export function fail(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}

function positiveInt(name: string, flag: string, value: string | undefined, fallback: number): number;
function positiveInt(name: string, flag: string, value: string | undefined, fallback: undefined): number | undefined;
function positiveInt(name: string, flag: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) fail(name, `${flag} must be a positive integer, got '${value}'`);
  return n;
}

const OPTIONS = `options:
  --epochs N      training epochs (default: the article's)
  --limit N       train on the first N training samples only
  --test-limit N  evaluate on the first N test samples only
  --batch-size N  samples per batch (default: the article's, or its framework's default)
  --seed N        seeds shuffling, splits, augmentation and initialisation (default 0)
  --threads N     LibTorch threads (default: all cores)`;

export function exampleArgs(spec: ExampleSpec, argv = process.argv.slice(2)): ExampleArgs {
  const extra = Object.fromEntries((spec.extra ?? []).map((k) => [k, { type: 'string' as const }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        epochs: { type: 'string' }, limit: { type: 'string' }, 'test-limit': { type: 'string' }, 'batch-size': { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
        help: { type: 'boolean', short: 'h' }, ...extra,
      },
    });
  } catch (e) {
    // parseArgs explains at length; its first line says what is wrong.
    fail(spec.name, `${((e as Error).message.split('\n')[0] as string).replace(/\. To specify a positional.*$/, '.')}\nusage: ${spec.usage}`);
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    process.stdout.write(`usage: ${spec.usage}\n${OPTIONS}\n`);
    process.exit(0);
  }
  if (positionals.length > 1) fail(spec.name, `expected one data path, got ${positionals.length} (${positionals.join(' ')})\nusage: ${spec.usage}`);
  const seedText = values.seed as string | undefined;
  if (seedText !== undefined && !(/^\d+$/.test(seedText) && Number.isSafeInteger(Number(seedText)))) fail(spec.name, `--seed must be a non-negative integer, got '${seedText}'`);
  // --threads: LibTorch's intra-op threads (default: all cores). On a busy machine fewer can be faster.
  const threads = positiveInt(spec.name, '--threads', values.threads as string | undefined, undefined);
  if (threads !== undefined) setNumThreads(threads);
  const seed = seedText === undefined ? 0 : Number(seedText);
  // The models draw their initial weights from LibTorch's generator when they are built: seeding it
  // here makes a run repeatable (the articles leave it unseeded).
  manualSeed(seed);
  const env = process.env[spec.env];
  return {
    data: positionals[0] ?? (env === '' ? undefined : env) ?? spec.defaultData,
    epochs: positiveInt(spec.name, '--epochs', values.epochs as string | undefined, spec.epochs),
    limit: positiveInt(spec.name, '--limit', values.limit as string | undefined, undefined),
    testLimit: positiveInt(spec.name, '--test-limit', values['test-limit'] as string | undefined, undefined),
    batchSize: positiveInt(spec.name, '--batch-size', values['batch-size'] as string | undefined, spec.batchSize),
    seed,
    options: Object.fromEntries((spec.extra ?? []).map((k) => [k, values[k] as string | undefined])),
  };
}

/** Runs `main`; any error it throws (a missing file, a wrong shape) becomes one line and exit status 1. */
export function runExample(name: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    if (process.env.TESSERA_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    fail(name, e instanceof Error ? e.message : String(e));
  });
}

/** Indices 0..n-1, or only the first `limit` of them. */
export function firstIndices(n: number, limit: number | undefined): Int32Array {
  const k = limit === undefined ? n : Math.min(n, limit);
  return Int32Array.from({ length: k }, (_, i) => i);
}

/** A number as Python's print shows a float: `1.0`, `0.8125`. */
export function pyFloat(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}
