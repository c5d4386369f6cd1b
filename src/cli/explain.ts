// `tessera data explain <source> [options]`: builds the data pipeline `tessera train <source>
// [options]` would build (same flags, same config file) and walks one sample through every step —
// read, decode, resize/crop, flips, collation with the samples after it, each batch step — printing
// what comes out of each and naming the step that fails. Nothing is written: splits are drawn but
// not saved, and normalisation is measured on at most 256 images.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

import { DataPipeline } from '../data/pipeline/pipeline.js';
import { SOURCE_FORMS } from '../data/pipeline/source.js';
import { chooseModel, pipelineSpec, resolveChannelsLast } from '../run/data.js';
import { taskOf } from '../run/tasks/index.js';
import { resolveTransfer } from '../run/transfer.js';
import { addConfigFlags, type CommonFlags, configFromFlags } from './train.js';

interface ExplainFlags extends CommonFlags {
  split: 'train' | 'val' | 'test';
  index: number;
  batch: number;
  json?: boolean;
}

export interface ExplainHelpers {
  usageExit(cmd: Command): Command;
  isSourceError(e: unknown): e is Error;
  reportMissing(what: string, spec: string | undefined): boolean;
  USAGE: number;
}

function nonNegativeInt(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

async function runExplain(source: string, flags: ExplainFlags, h: ExplainHelpers): Promise<number> {
  if (h.reportMissing('data set', source) || h.reportMissing('test data set', flags.test as string | undefined)) return h.USAGE;
  let config;
  try {
    config = resolveTransfer(configFromFlags(flags, source)); // --pretrained decides channels and normalisation, as in train
  } catch (e) {
    console.error(`tessera: ${(e as Error).message}`);
    return h.USAGE;
  }
  if (flags.printConfig) {
    console.log(JSON.stringify(config, null, 2));
    return 0;
  }
  let p: DataPipeline | undefined;
  try {
    p = await DataPipeline.open({ ...pipelineSpec(config), normalizationSamples: 256 });
    resolveChannelsLast(config.model.channelsLast, config.model.name === 'auto' ? chooseModel(p.resolveImage()).name : config.model.name, p);
    await p.setup();
  } catch (e) {
    p?.close();
    if (!h.isSourceError(e)) throw e;
    console.error(`tessera: ${e.message}`);
    return h.USAGE;
  }
  try {
    const r = await p.summary({ split: flags.split, index: flags.index, batch: flags.batch });
    const model = config.model.name === 'auto' ? `model: ${taskOf(config.task).autoModel(p).name} (chosen for these inputs; --model to choose)` : `model: ${config.model.name}`;
    console.log(flags.json ? JSON.stringify({ ...r, pipeline: p.toJSON(), preprocessing: p.preprocessing.toJSON() }, null, 2) : `${r.text}\n${model}`);
    return r.ok ? 0 : 1;
  } finally {
    p.close();
  }
}

export function registerExplainCommand(data: Command, h: ExplainHelpers): void {
  h.usageExit(
    addConfigFlags(
      data
        .command('explain')
        .description('walk one sample through the pipeline `tessera train <source> [options]` would build, step by step, and name the step that fails')
        .argument('<source>', `any source train takes: ${SOURCE_FORMS}`)
        .option('--split <name>', 'train, val or test', (v: string) => {
          if (v !== 'train' && v !== 'val' && v !== 'test') throw new InvalidArgumentError('--split must be train, val or test');
          return v;
        }, 'train')
        .option('--index <n>', "the sample's position in the split", nonNegativeInt('--index', 0), 0)
        .option('--batch <n>', 'samples collated into the batch: the sample and the ones after it', nonNegativeInt('--batch', 1), 4)
        .option('--json', 'print the steps, the resolved pipeline and its preprocessing as JSON'),
    ),
  ).action(async (source: string, flags: ExplainFlags) => {
    process.exitCode = await runExplain(source, flags, h);
  });
}
