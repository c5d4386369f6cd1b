// `tessera data …`: commands about data sets, each taking any source `tessera train` takes (the
// one opener, src/data/pipeline/). `data check` runs the dataset doctor and prints what to fix;
// `data pack` writes a source into packed shards; `data explain` walks one sample through the
// pipeline a run with the same options would build, step by step.
// Exit codes: 0 nothing that stops training (check: warnings, duplicates and imbalance are printed,
// not failed on; explain: every step ran), 1 problems found (unreadable files; for check also test
// images inside the training set and empty classes; explain: a step failed), 2 the command could not
// run (bad arguments, a missing path, an unreadable manifest, an output folder that already holds a pack).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';

import { LIMITS } from '../config/limits.js';
import { checkDataset, type DoctorOptions, type DoctorReport, formatDoctorReport } from '../data/doctor/index.js';
import { BadSampleError, openPackInputs, packDataset, type PackOptions, type PackSummary } from '../data/pack/index.js';
import { PACKED_INDEX } from '../data/formats/packed-index.js';
import { DataSourceError, isUrl, SOURCE_FORMS } from '../data/pipeline/source.js';
import { DataError } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { registerExplainCommand } from './explain.js';

const USAGE = 2;

/** An error about the data a user named (rather than a bug): printed as one sentence, exit 2. */
export const isSourceError = (e: unknown): e is Error => e instanceof DataError || e instanceof DataSourceError;

/** The local paths a source spec names that do not exist (none for fashion-mnist, URLs and brace patterns). */
export function missingPaths(spec: string): string[] {
  if (spec === 'fashion-mnist' || isUrl(spec) || /\{[^}]*(\.\.|,)[^}]*\}/.test(spec)) return [];
  return spec.split(',').map((p) => p.replace(/#[^/]*$/, '')).filter((p) => p !== '' && !existsSync(p));
}

/** Exit 2 with one sentence when the source (or test source) names a path that is not there. */
function reportMissing(what: string, spec: string | undefined): boolean {
  if (spec === undefined || missingPaths(spec).length === 0) return false;
  console.error(`tessera: the ${what} ${spec} does not exist (give ${SOURCE_FORMS}).`);
  return true;
}

function intAtLeast(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}`);
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
  if (reportMissing('data set', source) || reportMissing('test data set', flags.test)) return USAGE;
  const bar = flags.progress && process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'checking {bar} {value}/{total} files, {rate} files/s, ETA {eta_formatted}' }, cliProgress.Presets.shades_classic)
    : undefined;
  const t0 = performance.now();
  const options: DoctorOptions = { minSide: flags.minSide, nearDistance: flags.nearDistance };
  if (flags.test !== undefined) options.test = flags.test;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (bar) {
    options.onProgress = ({ done, total }) => {
      if (done === 1) bar.start(total ?? 0, 0, { rate: 0 });
      bar.update(done, { rate: Math.round(done / ((performance.now() - t0) / 1000)) });
    };
  }
  let report;
  try {
    report = await checkDataset(source, options);
  } catch (e) {
    if (!isSourceError(e)) throw e;
    console.error(`tessera: ${e.message}`);
    return USAGE;
  } finally {
    bar?.stop();
  }
  if (flags.out !== undefined) writeFileAtomic(flags.out, [Buffer.from(`${JSON.stringify(report, null, 2)}\n`)]);
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
  if (!flags.json) for (const line of imbalanceAdvice(report)) console.log(line);
  return report.errors > 0 || report.issues.some((i) => i.code === 'leakage' || i.code === 'empty-class') ? 1 : 0;
}

/** What training offers against class imbalance, when the largest class is over 3× the smallest. */
function imbalanceAdvice(report: DoctorReport): string[] {
  const ratio = report.imbalanceRatio;
  if (ratio === null || ratio <= 3) return [];
  return [
    '',
    `Class imbalance: the largest class has ${ratio}× the samples of the smallest. Training can`,
    '  weigh the loss per class:    --set train.classWeights=inverse   (or inverse-sqrt, effective)',
    '  or sample classes evenly:    --set train.sampler=weighted',
    "and the report's per-class table and macro F1 show how the small classes fare.",
  ];
}

/** `32` or `224x160` (height × width, as torchvision's size). */
function parseSize(v: string): number | [number, number] {
  const m = /^(\d+)(?:[x×](\d+))?$/.exec(v);
  const h = Number(m?.[1]);
  const w = Number(m?.[2] ?? m?.[1]);
  if (!m || !(h > 0 && w > 0)) throw new InvalidArgumentError('--size must be N or HxW with positive integers, e.g. 32 or 224x224');
  if (h > LIMITS.imageSide || w > LIMITS.imageSide) throw new InvalidArgumentError(`--size must be at most ${LIMITS.imageSide} pixels per side`);
  return m[2] === undefined ? h : [h, w];
}

interface PackFlags {
  size?: number | [number, number];
  keepAspect?: boolean;
  grey?: boolean;
  rgb?: boolean;
  rawMaxPixels?: number;
  quality: number;
  split?: string;
  failOnBad?: boolean;
  shrinkOnLoad?: boolean;
  overwrite?: boolean;
  concurrency?: number;
  shardMb?: number;
  json?: boolean;
  progress: boolean;
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;
const num = (n: number) => n.toLocaleString('en-US');

function formatPackSummary(s: PackSummary & { split?: string }): string {
  const rate = s.seconds > 0 ? `, ${num(Math.round((s.count + s.skipped.length) / s.seconds))} samples/s` : '';
  const kept = s.keptSourceJpeg ? `, ${num(s.keptSourceJpeg)} of them the source file as is` : '';
  const lines = [
    `packed ${s.source}`,
    `  → ${s.dir}: ${num(s.count)} samples (${num(s.raw)} raw, ${num(s.jpeg)} JPEG${kept}) in ${s.shards} shard${s.shards === 1 ? '' : 's'}, ${mb(s.bytes)}, ${s.seconds.toFixed(1)} s${rate}`,
    `  ${s.preparation}`,
  ];
  if (s.skipped.length) {
    lines.push(`  skipped ${num(s.skipped.length)} bad file${s.skipped.length === 1 ? '' : 's'}:`);
    for (const b of s.skipped.slice(0, 20)) lines.push(`    ${b.id}: ${b.reason}`);
    if (s.skipped.length > 20) lines.push(`    … and ${num(s.skipped.length - 20)} more (--json lists them all)`);
  }
  return lines.join('\n');
}

async function runPack(source: string, out: string, flags: PackFlags): Promise<number> {
  if (reportMissing('data set', source)) return USAGE;
  if (flags.grey && flags.rgb) {
    console.error('tessera: --grey and --rgb contradict each other; give one.');
    return USAGE;
  }
  let inputs;
  try {
    inputs = await openPackInputs(source, flags.split === undefined ? {} : { split: flags.split });
  } catch (e) {
    if (!isSourceError(e)) throw e;
    console.error(`tessera: ${e.message}`);
    return USAGE;
  }
  const dirOf = (split: string | undefined) => (split === undefined || flags.split !== undefined ? out : join(out, split));
  const taken = inputs.map((i) => dirOf(i.split)).filter((d) => existsSync(join(d, PACKED_INDEX)));
  if (taken.length && !flags.overwrite) {
    console.error(`tessera: ${taken.join(', ')} already hold${taken.length === 1 ? 's' : ''} a packed data set (pass --overwrite to replace it).`);
    return USAGE;
  }
  const options: PackOptions = {
    jpegQuality: flags.quality,
    channels: flags.grey ? 'grey' : flags.rgb ? 'rgb' : 'keep',
    badFiles: flags.failOnBad ? 'fail' : 'skip',
    overwrite: flags.overwrite ?? false,
    ...(flags.size !== undefined ? { size: flags.size } : {}),
    ...(flags.keepAspect ? { keepAspect: true } : {}),
    ...(flags.shrinkOnLoad ? { shrinkOnLoad: true } : {}),
    ...(flags.rawMaxPixels !== undefined ? { rawMaxPixels: flags.rawMaxPixels } : {}),
    ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
    ...(flags.shardMb !== undefined ? { shardBytes: flags.shardMb * 1024 ** 2 } : {}),
  };
  const summaries: (PackSummary & { split?: string })[] = [];
  for (const { split, dataset } of inputs) {
    const bar = flags.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, format: `packing${split ? ` ${split}` : ''} {bar} {value}/{total} samples, {skipped} skipped` }, cliProgress.Presets.shades_classic)
      : undefined;
    bar?.start(dataset.kind === 'indexed' ? dataset.length : (dataset.lengthHint ?? 0), 0, { skipped: 0 });
    try {
      const s = await packDataset(dataset, dirOf(split), {
        ...options,
        ...(bar ? { onProgress: ({ done, skipped }: { done: number; skipped: number }) => bar.update(done, { skipped }) } : {}),
      });
      summaries.push(split === undefined ? s : { split, ...s });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      bar?.stop();
      console.error(`tessera: ${e.message}.`.replace(/\.\.$/, '.'));
      return e instanceof BadSampleError ? 1 : USAGE;
    } finally {
      bar?.stop();
    }
  }
  const skipped = summaries.reduce((n, s) => n + s.skipped.length, 0);
  console.log(flags.json ? JSON.stringify({ clean: skipped === 0, skipped, outputs: summaries }, null, 2) : summaries.map(formatPackSummary).join('\n'));
  return skipped === 0 ? 0 : 1;
}

/** Adds `tessera data` and its subcommands to the program. */
export function registerDataCommands(program: Command): void {
  const data = usageExit(program.command('data').description('check, pack and explain image data sets before training on them'));
  usageExit(
    data
      .command('check')
      .description('check a data set: unreadable, corrupt, too large, mislabelled-format and tiny files (decoded as training decodes them), duplicates, leakage, class balance')
      .argument('<source>', `any source train takes: ${SOURCE_FORMS}`)
      .option('--json', 'print the report as JSON')
      .option('--out <file>', 'also write the JSON report to this file')
      .option('--test <source>', 'a test set to check for leakage against (its images must not appear in <source>)')
      .option('--min-side <px>', 'flag images whose shorter side is below this', intAtLeast('--min-side', 1), 32)
      .option('--near-distance <bits>', 'pHash distance (of 64 bits) up to which images count as near duplicates', intAtLeast('--near-distance', 0, 64), 8)
      .option('--concurrency <n>', 'files inspected at once', intAtLeast('--concurrency', 1, LIMITS.workers))
      .option('--no-progress', 'no progress bar'),
  ).action(async (source: string, flags: CheckFlags) => {
    process.exitCode = await runCheck(source, flags);
  });
  usageExit(
    data
      .command('pack')
      .description('write a data set into packed shards of pre-sized samples (raw pixels, or JPEG for large images) that training reads memory-mapped, without decoding')
      .argument('<source>', `any source train takes: ${SOURCE_FORMS}`)
      .argument('<out>', 'the packed folder; a source with splits (a manifest split column, CIFAR, fashion-mnist) gets one sub-folder per split')
      .option('--size <N|HxW>', 'N: resize the shorter side to N and cut the centre N×N; HxW: resize to exactly H×W (default: keep the size)', parseSize)
      .option('--keep-aspect', 'never crop or distort: --size N only sets the shorter side, --size HxW fits inside H×W')
      .option('--grey', 'store grey (one channel)')
      .option('--rgb', 'store RGB (three channels; default: as the source is)')
      .option('--raw-max-pixels <n>', 'samples of at most this many pixels are stored raw, larger ones as JPEG (default 4096 = 64×64)', intAtLeast('--raw-max-pixels', 0))
      .option('--quality <q>', 'JPEG quality of large samples, 1..100', intAtLeast('--quality', 1), 90)
      .option('--split <name>', 'pack only this split (a manifest split value, train/test, or a sub-folder of an image folder) into <out>')
      .option('--shrink-on-load', 'decode large JPEGs at 1/2, 1/4 or 1/8 scale when the output is that much smaller (faster, not bit-exact)')
      .option('--fail-on-bad', 'stop at the first file that cannot be read or decoded (default: skip and list it)')
      .option('--overwrite', 'replace a pack already in <out>')
      .option('--concurrency <n>', 'files decoded at once', intAtLeast('--concurrency', 1, LIMITS.workers))
      .option('--shard-mb <n>', 'shard size in MiB (default 256)', intAtLeast('--shard-mb', 1, 65_536))
      .option('--json', 'print the summary as JSON')
      .option('--no-progress', 'no progress bar'),
  ).action(async (source: string, out: string, flags: PackFlags) => {
    if (flags.quality > 100) {
      console.error('tessera: --quality must be an integer in 1..100.');
      process.exitCode = USAGE;
      return;
    }
    process.exitCode = await runPack(source, out, flags);
  });
  registerExplainCommand(data, { usageExit, isSourceError, reportMissing, USAGE });
}
