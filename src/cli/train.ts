// `tessera train`, `eval`, `predict`, `lr-find`, `models`: the CLI over src/run/. Flags are
// shorthands for config fields (`--epochs 5` is `train.epochs`); `--set path=value` reaches any
// field; a --config file (JSON or YAML) is read first and flags override it.
import { dirname, join } from 'node:path';

import { type Command, InvalidArgumentError, Option } from 'commander';

import { SHORTHANDS } from '../config/flags.js';
import { fitCount, fitToMachine, LIMITS } from '../config/limits.js';
import { ConfigError, resolveConfig, type Override } from '../config/load.js';
import type { RunConfig } from '../config/schema.js';
import { writeFileAtomic } from '../io/atomic.js';
import { listModels } from '../models/registry.js';
import { evaluateRun } from '../run/eval.js';
import { runLrFind } from '../run/lr-find.js';
import { checkBeforeData } from '../run/preflight.js';
import { listImageFiles, predictRun } from '../run/predict.js';
import { launchTraining, RankRun, trainingRole } from '../run/distributed.js';
import { runTraining } from '../run/train.js';
import { readRunModel } from '../run/saved-model.js';
import { setNumThreads } from '../runtime/threads.js';
import { CheckpointError } from '../train/checkpoint.js';
import { addLaunchFlags, asRank, launchFlags } from './distributed.js';

export interface CommonFlags {
  config?: string;
  set?: string[];
  printConfig?: boolean;
  [k: string]: unknown;
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').split(' ')[0]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function addConfigFlags(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'JSON or YAML config file');
  for (const { flag, help } of SHORTHANDS) cmd.option(flag, help);
  cmd.addOption(new Option('--set <path=value...>', 'set any config field, e.g. --set train.schedule.warmup=0.3'));
  cmd.option('--print-config', 'print the resolved config and exit');
  return cmd;
}

/**
 * The run config from --config, shorthand flags, --set and an optional positional source. Values
 * are parsed by the schema, and a bad one is reported with what the user typed: `--epochs many →
 * train.epochs: …`.
 */
export function configFromFlags(flags: CommonFlags, source?: string): RunConfig {
  const overrides: Override[] = [];
  if (source !== undefined) overrides.push(['data.source', JSON.stringify(source), `source ${source}`]);
  for (const { flag, path, text } of SHORTHANDS) {
    const v = flags[camel(flag)];
    if (v === undefined) continue;
    const name = flag.split(' ')[0] as string;
    if (path === 'data.imageSize') {
      const m = /^(\d+)(?:x(\d+))?$/.exec(String(v));
      if (!m) throw new ConfigError(`${name} must look like 64 or 64x48, got '${String(v)}'`);
      overrides.push([path, `[${m[1]},${m[2] ?? m[1]}]`, `${name} ${String(v)}`]);
    } else overrides.push([path, text ? JSON.stringify(v) : String(v), `${name} ${String(v)}`]);
  }
  for (const kv of flags.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set needs path=value, got '${kv}'`);
    overrides.push([kv.slice(0, eq), kv.slice(eq + 1), `--set ${kv}`]);
  }
  return resolveConfig({ ...(flags.config ? { file: flags.config } : {}), overrides });
}

const warn = (line: string) => console.error(`tessera: warning: ${line}`);

/** The run directory a `run` argument names (the directory, its model.json or model.safetensors). */
const dirOfRun = (run: string) => (run.endsWith('.json') || run.endsWith('.safetensors') ? dirname(run) : run);

/** `--threads` of eval and predict: bounded like train.threads, lowered to the cores here. */
function threadsOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > LIMITS.threads) throw new InvalidArgumentError(`--threads must be an integer in 1..${LIMITS.threads}`);
  return n;
}

function useThreads(threads: number | undefined): void {
  if (threads !== undefined) setNumThreads(fitCount('train.threads', threads, warn));
}

/** A number flag in [min, max] (commander calls this with the text the user typed). */
function numberIn(name: string, min: number, max: number, integer = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n >= min && n <= max) || (integer && !Number.isInteger(n))) throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
    return n;
  };
}

export function registerTrainCommands(program: Command): void {
  addLaunchFlags(
    addConfigFlags(
      program
        .command('train [source]')
        .description('train a model: Fashion-MNIST and the default recipe when run without arguments')
        .option('--resume', 'continue the named run from its last checkpoint')
        .option('--force', 'resume even though the config or data changed'),
    ),
  ).action(async (source: string | undefined, flags: CommonFlags & { resume?: boolean; force?: boolean }) => {
    const config = configFromFlags(flags, source);
    if (flags.printConfig) return void console.log(JSON.stringify(config, null, 2));
    // Data parallelism (src/run/distributed.ts): launch the ranks here, or be one of them.
    const role = trainingRole(launchFlags(flags));
    const speaks = role.kind === 'alone' || (role.kind === 'rank' && role.rank === 0); // the launcher and ranks > 0 say nothing of their own
    const fitted = fitToMachine(config, speaks ? warn : () => {});
    if (role.kind === 'launcher') return void (process.exitCode = await launchTraining(role, fitted));
    const summary = await asRank(role, async () => {
      try {
        const ranks = role.kind === 'rank' ? { ranks: await RankRun.join(role) } : {};
        return await runTraining(fitted, { resume: flags.resume ?? false, force: flags.force ?? false, ...ranks });
      } catch (e) {
        // The library's option is `force: true`; on the command line it is --force.
        if (e instanceof CheckpointError) e.message = e.message.replace('pass force: true', 'pass --force');
        throw e;
      }
    });
    if (!speaks) return;
    const headline = summary.headline ? `${summary.headline} — ` : '';
    console.log(`${headline}${Math.round(summary.seconds)} s — report: ${summary.reportPath}`);
    if (summary.stopped?.failed) {
      // A diverged or halted run is a failure, whatever it left on disk.
      console.error(`tessera: training failed: ${summary.stopped.reason}`);
      process.exitCode = 1;
    }
  });

  addConfigFlags(
    program
      .command('lr-find [source]')
      .description('sweep the learning rate over a few hundred batches and suggest one')
      .option('--start-lr <x>', 'smallest lr', numberIn('--start-lr', 1e-12, 1e6), 1e-6)
      .option('--end-lr <x>', 'largest lr', numberIn('--end-lr', 1e-12, 1e6), 10)
      .option('--iterations <n>', 'batches in the sweep', numberIn('--iterations', 2, 100_000, true), 200),
  ).action(async (source: string | undefined, flags: CommonFlags & { startLr: number; endLr: number; iterations: number }) => {
    const config = configFromFlags(flags, source);
    if (flags.printConfig) return void console.log(JSON.stringify(config, null, 2));
    if (!(flags.startLr < flags.endLr)) throw new InvalidArgumentError(`--start-lr (${flags.startLr}) must be below --end-lr (${flags.endLr})`);
    checkBeforeData(config);
    await runLrFind(fitToMachine(config, warn), { startLr: flags.startLr, endLr: flags.endLr, numIter: flags.iterations });
  });

  program
    .command('eval <run>')
    .description("evaluate a trained run's model on its test set, or on --data")
    .option('--data <source>', 'another labelled data set (same classes)')
    .option('--json', 'print the metrics as JSON')
    .option('--threshold <x>', "a multi-label model's threshold instead of the saved one", numberIn('--threshold', 0, 1))
    .option('--threads <n>', 'LibTorch threads (default: every core)', threadsOption)
    .action(async (run: string, flags: { data?: string; json?: boolean; threshold?: number; threads?: number }) => {
      useThreads(flags.threads);
      const r = await evaluateRun(run, { ...(flags.data ? { data: flags.data } : {}), ...(flags.threshold !== undefined ? { threshold: flags.threshold } : {}) });
      console.log(flags.json ? JSON.stringify(r.report, null, 2) : r.text);
    });

  program
    .command('predict <run> <inputs...>')
    .description("image files or folders through a trained run's model: its task's answers (top-k classes, labels above the threshold, masks, reconstructions) as CSV or JSON")
    .option('-k, --top-k <n>', 'classes per image (classify)', (v) => Number(v), 5)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--threshold <x>', 'multilabel: probability above which a label is listed (default: the saved one)', numberIn('--threshold', 0, 1))
    .option('--output-dir <dir>', 'segment: mask PNGs (class ids); reconstruct: reconstructed images (default <run>/predictions)')
    .option('--overlay', 'segment: also write each mask in colour over its image')
    .option('--threads <n>', 'LibTorch threads (default: every core)', threadsOption)
    .action(async (run: string, inputs: string[], flags: { topK: number; format: 'csv' | 'json'; out?: string; threshold?: number; outputDir?: string; overlay?: boolean; threads?: number }) => {
      if (!(Number.isInteger(flags.topK) && flags.topK > 0)) throw new Error(`--top-k must be a positive integer, got ${flags.topK}`);
      useThreads(flags.threads);
      const files = await listImageFiles(inputs);
      if (files.length === 0) throw new Error(`no image files in ${inputs.join(', ')}`);
      const task = readRunModel(run).task?.name ?? 'classify';
      const writes = task === 'segment' || task === 'reconstruct';
      if (!writes && (flags.outputDir !== undefined || flags.overlay)) throw new Error(`--output-dir and --overlay are for segmentation and reconstruction models; ${run} holds a '${task}' model`);
      if (task !== 'segment' && flags.overlay) throw new Error(`--overlay draws segmentation masks; ${run} holds a '${task}' model`);
      const outputDir = writes ? (flags.outputDir ?? join(dirOfRun(run), 'predictions')) : undefined;
      const predictions = await predictRun(run, files, {
        topK: flags.topK,
        ...(flags.threshold !== undefined ? { threshold: flags.threshold } : {}),
        ...(outputDir !== undefined ? { outputDir } : {}),
        ...(flags.overlay ? { overlay: true } : {}),
      });
      const text = flags.format === 'json' ? `${JSON.stringify(predictions.rows, null, 2)}\n` : predictions.csv();
      if (outputDir !== undefined) console.error(`tessera: ${task === 'segment' ? 'masks' : 'reconstructions'} written to ${outputDir}`);
      if (flags.out) writeFileAtomic(flags.out, [Buffer.from(text)]);
      else process.stdout.write(text);
      const bad = predictions.rows.filter((p) => p.error).length;
      if (bad > 0) console.error(`tessera: ${bad} of ${files.length} images could not be read (see the error column)`);
    });

  program
    .command('models')
    .description('the model zoo: names, inputs and torchvision twins')
    .action(() => {
      for (const m of listModels()) console.log(`${m.name.padEnd(20)} ${m.input.join('×').padEnd(10)} ${m.description}${m.twin ? ` (twin: ${m.twin})` : ''}`);
    });
}
