// The run config field by field: every leaf of the schema (src/config/schema.ts) with its type,
// default and flag, and the comment above it in schema.ts. docs/config.md is written from this
// (`npm run gen:docs`), and test/run/config-walk.test.ts walks the same list, so a field added to
// the schema is undocumented or untested only until the tests run.
import type { z } from 'zod';

import { flagOf } from './flags.js';
import * as schema from './schema.js';

export interface ConfigField {
  /** Dotted path: `train.optimizer.lr`. */
  path: string;
  /** `integer`, `number`, `true/false`, `'sgd' | 'adam'`, `text`, …: what a value looks like. */
  type: string;
  /** The default as JSON, or undefined when the field is unset by default (chosen from the data, or off). */
  default: string | undefined;
  /** The shorthand flag (`--lr`), if there is one. */
  flag: string | undefined;
  /** The comment above the field in schema.ts (empty when the source was not given). */
  description: string;
}

type Schema = z.ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  defaultValue?: unknown;
  shape?: Record<string, Schema>;
  entries?: Record<string, string>;
  options?: Schema[];
  items?: Schema[];
  element?: Schema;
  values?: unknown[];
  /** A pipe (z.preprocess): the schema the value ends in. */
  out?: Schema;
}
const defOf = (s: Schema) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The exported z.object schemas by identity → their names (`DataConfig`), to find their comments. */
const NAMES = new Map<Schema, string>(Object.entries(schema).filter(([, v]) => typeof v === 'object' && v !== null && '_zod' in v && defOf(v as Schema).type === 'object').map(([k, v]) => [v as Schema, k]));

function describeType(s: Schema): string {
  const d = defOf(s);
  switch (d.type) {
    case 'number':
      return (s as unknown as { isInt: boolean }).isInt ? 'integer' : 'number';
    case 'boolean':
      return 'true/false';
    case 'string':
      return 'text';
    case 'enum':
      return Object.values(d.entries ?? {}).map((v) => `'${v}'`).join(' | ');
    case 'literal':
      return (d.values ?? []).map((v) => JSON.stringify(v)).join(' | ');
    case 'tuple':
      return `[${(d.items ?? []).map(describeType).join(', ')}]`;
    case 'array':
      return `list of ${describeType(d.element as Schema)}`;
    case 'union':
      return (d.options ?? []).map(describeType).join(' or ');
    case 'pipe':
      return describeType(d.out as Schema);
    case 'object':
      return `{ ${Object.entries(d.shape ?? {}).map(([k, v]) => `${k}: ${describeType(unwrap(v).inner)}`).join(', ')} }`;
    default:
      return d.type;
  }
}

/** Strips default/optional wrappers: the value's own schema and its default. */
function unwrap(s: Schema): { inner: Schema; default: unknown } {
  let inner = s;
  let value: unknown;
  for (;;) {
    const d = defOf(inner);
    if (d.type === 'default') value = d.defaultValue;
    else if (d.type !== 'optional') return { inner, default: value };
    inner = d.innerType as Schema;
  }
}

/**
 * The `/** … *\/` comment above each property of each `export const X = z.object({…})` in
 * schema.ts, keyed `X.property`. The file's own layout (4-space properties) is what is parsed.
 */
export function schemaComments(source: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let pending: string[] | undefined;
  let open = false;
  for (const line of source.split('\n')) {
    const decl = /^export const (\w+) = /.exec(line);
    if (decl) [current, pending, open] = [decl[1], undefined, false];
    const single = /^ {4}\/\*\* (.*) \*\/$/.exec(line);
    if (single) pending = [single[1] as string];
    else if (/^ {4}\/\*\*$/.test(line)) [pending, open] = [[], true];
    else if (open && /^ {5}\*\/$/.test(line)) open = false;
    else if (open) pending?.push(line.replace(/^ {5}\* ?/, ''));
    const prop = /^ {4}(\w+): /.exec(line);
    if (prop && current && !open) {
      if (pending) out.set(`${current}.${prop[1]}`, pending.join(' ').trim());
      pending = undefined;
    }
  }
  return out;
}

/** Every leaf field of the run config, in schema order; descriptions from `source` (schema.ts) when given. */
export function configFields(source?: string): ConfigField[] {
  const comments = source === undefined ? new Map<string, string>() : schemaComments(source);
  const fields: ConfigField[] = [];
  const walk = (object: Schema, prefix: string) => {
    const owner = NAMES.get(object);
    for (const [key, field] of Object.entries(defOf(object).shape ?? {})) {
      const path = prefix + key;
      const { inner, default: value } = unwrap(field);
      if (NAMES.has(inner)) {
        walk(inner, `${path}.`);
        continue;
      }
      const description = (owner && comments.get(`${owner}.${key}`)) ?? '';
      fields.push({ path, type: describeType(inner), default: value === undefined ? undefined : JSON.stringify(value), flag: flagOf(path), description });
    }
  };
  walk(schema.RunConfig, '');
  return fields;
}

/** A Markdown table cell: a `|` would end the cell, a `<name>` outside code would read as HTML (docs/cli.md uses it too). */
export const cell = (text: string) =>
  text
    .replace(/\n/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;')).replace(/\|/g, '\\|'))
    .join('`');

/** docs/config.md: one table row per field, grouped by section. */
export function configReference(source: string): string {
  const fields = configFields(source);
  const lines = [
    '# The run config',
    '',
    'Every field of the run config (src/config/schema.ts), as `tessera train --config run.yaml` reads it, `--set',
    'path=value` sets it and `runs/<name>/config.json` records it. Generated from the schema and its comments',
    '(`npm run gen:docs`); test/run/config-walk.test.ts shows what each field changes in a run.',
    'A default of “—” means unset: chosen from the data, or off (the description says which).',
    '',
  ];
  const sections = new Map<string, ConfigField[]>();
  for (const f of fields) {
    const top = f.path.includes('.') ? (f.path.split('.')[0] as string) : 'top level';
    sections.set(top, [...(sections.get(top) ?? []), f]);
  }
  for (const [section, list] of sections) {
    lines.push(`## ${section}`, '', '| field | flag | type | default | meaning |', '| --- | --- | --- | --- | --- |');
    for (const f of list)
      lines.push(`| \`${f.path}\` | ${f.flag ? `\`${f.flag}\`` : ''} | ${cell(f.type)} | ${f.default === undefined ? '—' : `\`${cell(f.default)}\``} | ${cell(f.description)} |`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
