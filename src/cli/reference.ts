// docs/cli.md: every command and every flag, written from the commands' own definitions (the text
// `tessera <command> --help` prints), so the reference cannot drift from the code. `npm run
// gen:docs` rewrites it; test/cli/reference.test.ts fails when the file differs from this output.
import type { Command, Help } from 'commander';

import { cell } from '../config/reference.js';

/** `train`, `data check`: the names from the program down to `cmd`. */
function path(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

function commandSection(cmd: Command, help: Help): string[] {
  const lines = [`## tessera ${path(cmd).join(' ')}`, '', cell(help.commandDescription(cmd)), '', '```', help.commandUsage(cmd), '```', ''];
  const args = help.visibleArguments(cmd).filter((a) => a.description);
  if (args.length) {
    lines.push('| argument | meaning |', '| --- | --- |');
    for (const a of args) lines.push(`| \`${help.argumentTerm(a)}\` | ${cell(help.argumentDescription(a))} |`);
    lines.push('');
  }
  const options = help.visibleOptions(cmd).filter((o) => o.long !== '--help');
  if (options.length) {
    lines.push('| option | meaning |', '| --- | --- |');
    for (const o of options) lines.push(`| \`${help.optionTerm(o)}\` | ${cell(help.optionDescription(o))} |`);
    lines.push('');
  }
  return lines;
}

/** Every command with a description, depth first in the order they were registered (help's own commands left out). */
export function commandsOf(program: Command): Command[] {
  const out: Command[] = [];
  const walk = (c: Command) => {
    for (const sub of c.commands) {
      if (sub.name() === 'help') continue;
      if (sub.commands.length === 0) out.push(sub);
      walk(sub);
    }
  };
  walk(program);
  return out;
}

/** docs/cli.md for `program`. */
export function cliReference(program: Command): string {
  const commands = commandsOf(program);
  const lines = [
    '# `tessera` commands and flags',
    '',
    'Every command and every flag, generated from the commands themselves (`npm run gen:docs`, src/cli/reference.ts) —',
    'the same text as `tessera <command> --help`; test/cli/reference.test.ts fails when this file falls behind them.',
    'Flags of `train`, `lr-find` and `data explain` are shorthands for fields of the run config (docs/config.md):',
    '`--set path=value` reaches every field.',
    '',
    ...commands.map((c) => `- [tessera ${path(c).join(' ')}](#tessera-${path(c).join('-')}): ${c.description()}`),
    '',
  ];
  for (const c of commands) lines.push(...commandSection(c, c.createHelp()));
  return `${lines.join('\n').trimEnd()}\n`;
}
