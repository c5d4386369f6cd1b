// `tessera gan [source]`: train a GAN (src/run/gan/). Flags are shorthands for config fields
// (`--nz 64` is `model.nz`), `--set path=value` reaches any field, a --config file is read first.
import { type Command, Option } from 'commander';

import type { Override } from '../config/load.js';
import { ConfigError } from '../config/load.js';
import { GAN_FLAGS, resolveGanConfig, type GanConfig } from '../run/gan/config.js';
import { runGan } from '../run/gan/run.js';
import { CheckpointError } from '../train/checkpoint.js';

interface GanFlags {
  config?: string;
  set?: string[];
  printConfig?: boolean;
  resume?: boolean;
  force?: boolean;
  [k: string]: unknown;
}

const camel = (flag: string): string => (flag.replace(/^--/, '').split(' ')[0] as string).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The config from --config, the shorthand flags, --set and the positional source; bad values are named as typed. */
export function ganConfigFromFlags(flags: GanFlags, source?: string): GanConfig {
  const overrides: Override[] = [];
  if (source !== undefined) overrides.push(['data.source', JSON.stringify(source), `source ${source}`]);
  for (const { flag, path, text } of GAN_FLAGS) {
    const v = flags[camel(flag)];
    if (v === undefined) continue;
    overrides.push([path, text ? JSON.stringify(v) : String(v), `${flag.split(' ')[0]} ${String(v)}`]);
  }
  for (const kv of flags.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set needs path=value, got '${kv}'`);
    overrides.push([kv.slice(0, eq), kv.slice(eq + 1), `--set ${kv}`]);
  }
  return resolveGanConfig({ ...(flags.config ? { file: flags.config } : {}), overrides });
}

export function registerGanCommand(program: Command): void {
  const cmd = program
    .command('gan [source]')
    .description("train a GAN (PyTorch's DCGAN example, or seed 001's): sample grids every epoch, G/D curves, checkpoints, report; Fashion-MNIST by default")
    .option('-c, --config <file>', 'JSON or YAML config file');
  for (const { flag, help } of GAN_FLAGS) cmd.option(flag, help);
  cmd
    .addOption(new Option('--set <path=value...>', 'set any config field, e.g. --set quality.minShare=0.05'))
    .option('--print-config', 'print the resolved config and exit')
    .option('--resume', 'continue the named run from its last checkpoint, even a finished one')
    .option('--force', 'resume even though the config or data changed')
    .action(async (source: string | undefined, flags: GanFlags) => {
      const config = ganConfigFromFlags(flags, source);
      if (flags.printConfig) return void console.log(JSON.stringify(config, null, 2));
      let summary;
      try {
        summary = await runGan(config, { resume: flags.resume ?? false, force: flags.force ?? false });
      } catch (e) {
        if (e instanceof CheckpointError) e.message = e.message.replace('pass force: true', 'pass --force');
        throw e;
      }
      const q = summary.quality;
      const figure = q ? `Fréchet distance ${q.frechetDistance.toFixed(3)} (untrained ${q.before.toFixed(3)}), ${q.classCoverage} of ${q.classes} classes covered — ` : '';
      console.log(`${figure}${Math.round(summary.seconds)} s — report: ${summary.reportPath}`);
      if (summary.stopped?.failed) {
        console.error(`tessera: training failed: ${summary.stopped.reason}`);
        process.exitCode = 1;
      }
    });
}
