// `tessera train`, `eval`, `predict`, `lr-find`, `models`: the CLI over src/run/. Flags are
// shorthands for config fields (`--epochs 5` is `train.epochs`); `--set path=value` reaches any
// field; a --config file (JSON or YAML) is read first and flags override it.
import { writeFileSync } from 'node:fs';

import { type Command, Option } from 'commander';

import { resolveConfig } from '../config/load.js';
import type { RunConfig } from '../config/schema.js';
import { listModels } from '../models/registry.js';
import { evaluateSavedModel } from '../run/eval.js';
import { runLrFind } from '../run/lr-find.js';
import { listImageFiles, predictFiles, predictionsToCsv } from '../run/predict.js';
import { runTraining } from '../run/train.js';

/** Flag → config path. Values are parsed by the schema, so `--epochs x` is reported as `train.epochs`. */
const SHORTHANDS: [flag: string, path: string, help: string][] = [
  ['--model <name>', 'model.name', 'model from the zoo (see `tessera models`)'],
  ['--epochs <n>', 'train.epochs', 'passes over the training set'],
  ['--batch-size <n>', 'train.batchSize', 'images per step'],
  ['--lr <x>', 'train.optimizer.lr', 'peak learning rate'],
  ['--optimizer <name>', 'train.optimizer.name', 'sgd, adam, adamw, rmsprop or lion'],
  ['--schedule <name>', 'train.schedule.name', 'one-cycle, cosine, step or constant'],
  ['--label-smoothing <x>', 'train.labelSmoothing', 'label smoothing of the cross-entropy'],
  ['--seed <n>', 'train.seed', 'seed for weights, order and augmentation'],
  ['--threads <n>', 'train.threads', 'LibTorch threads (default: every core)'],
  ['--mixed-precision <mode>', 'train.mixedPrecision', 'off, bf16 (CPU/CUDA) or fp16 (CUDA)'],
  ['--val-split <x>', 'data.valSplit', 'share of the training set held out for validation'],
  ['--test <source>', 'data.test', 'a separate test set'],
  ['--workers <n>', 'data.workers', 'decoding/augmentation worker threads'],
  ['--name <name>', 'name', 'run name (the directory under --out-dir)'],
  ['--out-dir <dir>', 'outDir', 'where run directories go (default runs)'],
  ['--pretrained <file>', 'model.pretrained', 'start from these weights (.pt or .safetensors)'],
];

export interface CommonFlags {
  config?: string;
  set?: string[];
  imageSize?: string;
  printConfig?: boolean;
  [k: string]: unknown;
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').split(' ')[0]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function addConfigFlags(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'JSON or YAML config file');
  for (const [flag, , help] of SHORTHANDS) cmd.option(flag, help);
  cmd.option('--image-size <HxW>', 'resize images to this size, e.g. 64x64 (data.imageSize)');
  cmd.addOption(new Option('--set <path=value...>', 'set any config field, e.g. --set train.schedule.warmup=0.3'));
  cmd.option('--print-config', 'print the resolved config and exit');
  return cmd;
}

/** The run config from --config, shorthand flags, --set and an optional positional source. */
export function configFromFlags(flags: CommonFlags, source?: string): RunConfig {
  const overrides: [string, string | number | boolean][] = [];
  if (source !== undefined) overrides.push(['data.source', JSON.stringify(source)]);
  for (const [flag, path] of SHORTHANDS) {
    const v = flags[camel(flag)];
    // Strings that are names or paths stay strings; the schema checks numbers.
    if (v !== undefined) overrides.push([path, /^(data\.test|name|outDir|model\.(name|pretrained)|train\.(optimizer|schedule)\.name|train\.mixedPrecision)$/.test(path) ? JSON.stringify(v) : String(v)]);
  }
  if (flags.imageSize !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(flags.imageSize);
    if (!m) throw new Error(`--image-size must look like 64 or 64x48, got '${flags.imageSize}'`);
    overrides.push(['data.imageSize', `[${m[1]},${m[2] ?? m[1]}]`]);
  }
  for (const kv of flags.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--set needs path=value, got '${kv}'`);
    overrides.push([kv.slice(0, eq), kv.slice(eq + 1)]);
  }
  return resolveConfig({ ...(flags.config ? { file: flags.config } : {}), overrides });
}

export function registerTrainCommands(program: Command): void {
  addConfigFlags(
    program
      .command('train [source]')
      .description('train a model: Fashion-MNIST and the default recipe when run without arguments')
      .option('--resume', 'continue the named run from its last checkpoint')
      .option('--force', 'resume even though the config or data changed'),
  ).action(async (source: string | undefined, flags: CommonFlags & { resume?: boolean; force?: boolean }) => {
    const config = configFromFlags(flags, source);
    if (flags.printConfig) return void console.log(JSON.stringify(config, null, 2));
    const summary = await runTraining(config, { resume: flags.resume ?? false, force: flags.force ?? false });
    const acc = summary.testAccuracy === undefined ? '' : `test accuracy ${(summary.testAccuracy * 100).toFixed(2)}% — `;
    console.log(`${acc}${Math.round(summary.seconds)} s — report: ${summary.reportPath}`);
  });

  addConfigFlags(
    program
      .command('lr-find [source]')
      .description('sweep the learning rate over a few hundred batches and suggest one')
      .option('--start-lr <x>', 'smallest lr', Number, 1e-6)
      .option('--end-lr <x>', 'largest lr', Number, 10)
      .option('--iterations <n>', 'batches in the sweep', Number, 200),
  ).action(async (source: string | undefined, flags: CommonFlags & { startLr: number; endLr: number; iterations: number }) => {
    const config = configFromFlags(flags, source);
    if (flags.printConfig) return void console.log(JSON.stringify(config, null, 2));
    await runLrFind(config, { startLr: flags.startLr, endLr: flags.endLr, numIter: flags.iterations });
  });

  program
    .command('eval <run>')
    .description("evaluate a trained run's model on its test set, or on --data")
    .option('--data <source>', 'another labelled data set (same classes)')
    .option('--json', 'print the metrics as JSON')
    .action(async (run: string, flags: { data?: string; json?: boolean }) => {
      const r = await evaluateSavedModel(run, { ...(flags.data ? { data: flags.data } : {}) });
      console.log(flags.json ? JSON.stringify(r.report, null, 2) : r.text);
    });

  program
    .command('predict <run> <inputs...>')
    .description('classify image files or folders with a trained run: top-k labels as CSV or JSON')
    .option('-k, --top-k <n>', 'classes per image', (v) => Number(v), 5)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (run: string, inputs: string[], flags: { topK: number; format: 'csv' | 'json'; out?: string }) => {
      if (!(Number.isInteger(flags.topK) && flags.topK > 0)) throw new Error(`--top-k must be a positive integer, got ${flags.topK}`);
      const files = await listImageFiles(inputs);
      if (files.length === 0) throw new Error(`no image files in ${inputs.join(', ')}`);
      const predictions = await predictFiles(run, files, { topK: flags.topK });
      const k = Math.max(0, ...predictions.map((p) => p.top.length));
      const text = flags.format === 'json' ? `${JSON.stringify(predictions, null, 2)}\n` : predictionsToCsv(predictions, k);
      if (flags.out) writeFileSync(flags.out, text);
      else process.stdout.write(text);
      const bad = predictions.filter((p) => p.error).length;
      if (bad > 0) console.error(`tessera: ${bad} of ${files.length} images could not be read (see the error column)`);
    });

  program
    .command('models')
    .description('the model zoo: names, inputs and torchvision twins')
    .action(() => {
      for (const m of listModels()) console.log(`${m.name.padEnd(20)} ${m.input.join('×').padEnd(10)} ${m.description}${m.twin ? ` (twin: ${m.twin})` : ''}`);
    });
}
