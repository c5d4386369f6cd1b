// Parse: LibTorch's native_functions.yaml → typed function schemas.
// This is the only file that knows the schema grammar, e.g.
//   add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor
//   max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface SchemaArg {
  name: string;
  /** The type without alias annotations, e.g. `Tensor?`, `int[2]`, `Tensor[]`. */
  type: string;
  /** The schema's default literal (`1`, `None`, `[0, 0]`, `Mean`), if any. */
  default?: string;
  /** Declared after `*`: keyword-only in Python, options-only in TypeScript. */
  kwOnly: boolean;
  /** Annotated `(a!)`: the op writes into this argument. */
  mutated: boolean;
}

export interface SchemaReturn {
  type: string;
  /** Annotated `(a!)`: returns a mutated argument (in-place ops return self). */
  mutated: boolean;
}

export interface Schema {
  /** `add.Tensor` */
  fullName: string;
  /** `add` */
  name: string;
  /** `Tensor` (empty for the default overload) */
  overload: string;
  args: SchemaArg[];
  returns: SchemaReturn[];
  /** Whether `returns` was written as a parenthesised tuple. */
  tupleReturn: boolean;
  variants: { function: boolean; method: boolean };
  /** The original schema text, for comments in generated code. */
  text: string;
}

/** Splits on commas that are not nested inside brackets or parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

/** `Tensor(a!)[]` → { type: 'Tensor[]', mutated: true }. */
function stripAlias(type: string): { type: string; mutated: boolean } {
  const m = /\(([^)]*)\)/.exec(type);
  if (!m) return { type, mutated: false };
  return { type: type.replace(m[0], ''), mutated: (m[1] ?? '').includes('!') };
}

function parseArg(text: string, kwOnly: boolean): SchemaArg {
  const eq = text.indexOf('=');
  const decl = eq >= 0 ? text.slice(0, eq).trim() : text.trim();
  const dflt = eq >= 0 ? text.slice(eq + 1).trim() : undefined;
  const space = decl.lastIndexOf(' ');
  const { type, mutated } = stripAlias(decl.slice(0, space).trim());
  const arg: SchemaArg = { name: decl.slice(space + 1), type, kwOnly, mutated };
  if (dflt !== undefined) arg.default = dflt;
  return arg;
}

export function parseSchema(text: string, variants = 'function'): Schema {
  const m = /^([\w.]+)\((.*)\)\s*->\s*(.+)$/.exec(text.trim());
  if (!m) throw new Error(`cannot parse schema: ${text}`);
  const [, fullName = '', argText = '', retText = ''] = m;
  const [name = '', overload = ''] = fullName.split('.');
  const args: SchemaArg[] = [];
  let kwOnly = false;
  for (const part of splitTopLevel(argText)) {
    if (part === '*') kwOnly = true;
    else args.push(parseArg(part, kwOnly));
  }
  const tupleReturn = retText.startsWith('(');
  const inner = tupleReturn ? retText.slice(1, -1) : retText;
  const returns = splitTopLevel(inner).map((r) => {
    // A return may be named: `Tensor values`.
    const decl = r.includes(' ') && !r.endsWith(')') ? r.slice(0, r.lastIndexOf(' ')) : r;
    return stripAlias(decl.trim());
  });
  return {
    fullName,
    name,
    overload,
    args,
    returns: returns.length === 1 && returns[0]?.type === '' ? [] : returns,
    tupleReturn,
    variants: { function: variants.includes('function'), method: variants.includes('method') },
    text: text.trim(),
  };
}

/** Reads every schema in a native_functions.yaml, keyed by `name.overload`. */
export function readSchemas(yamlPath: string): Map<string, Schema> {
  const entries = parseYaml(readFileSync(yamlPath, 'utf8')) as Array<{ func: string; variants?: string }>;
  const out = new Map<string, Schema>();
  for (const e of entries) {
    const s = parseSchema(e.func, e.variants ?? 'function');
    out.set(s.fullName, s);
  }
  return out;
}
