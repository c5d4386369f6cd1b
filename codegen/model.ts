// Translate: allowlisted schemas → bound ops, the one model both emitters read.
import { readFileSync } from 'node:fs';

import { argKind, returnKind, type ArgKind } from './kinds.js';
import type { Schema, SchemaArg } from './schema.js';

export interface BoundArg {
  schema: SchemaArg;
  kind: ArgKind;
  /** camelCase name used in TypeScript options objects and error messages. */
  jsName: string;
}

export type BoundReturn =
  | { k: 'void' }
  /** In-place: the op returns its (mutated) first argument; JS returns the same Tensor object. */
  | { k: 'self' }
  | { k: 'Tensor' }
  | { k: 'TensorTuple'; n: number }
  | { k: 'TensorList' }
  | { k: 'Bool' }
  | { k: 'Int' }
  | { k: 'Double' }
  | { k: 'Scalar' }
  | { k: 'ScalarType' };

export interface BoundOp {
  schema: Schema;
  args: BoundArg[];
  ret: BoundReturn;
  /** Method-only ops (no `at::` function) are called as `self.name(...)`. */
  callAsMethod: boolean;
  /** C++ function name: `op_add_Tensor`. */
  cppName: string;
  /** Property name on the native addon: `add$Tensor`. */
  nativeName: string;
  /** TypeScript function name shared by all overloads of the group: `add`, `logSoftmax`, `add_`. */
  jsName: string;
}

export interface AllowEntry {
  fullName: string;
  jsName?: string;
  line: number;
}

const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await'.split(' '),
);

export function camelCase(snake: string): string {
  const trailing = snake.endsWith('_') ? '_' : '';
  const core = snake.replace(/_+$/, '');
  return core.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + trailing;
}

/** Reads codegen/allowlist.txt: one `name[.overload] [as jsName]` per line, `#` starts a comment. */
export function readAllowlist(path: string): AllowEntry[] {
  const out: AllowEntry[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const m = /^([\w.]+)(?:\s+as\s+(\w+))?$/.exec(line);
      if (!m) throw new Error(`${path}:${i + 1}: expected 'name[.overload] [as jsName]', got '${line}'`);
      const entry: AllowEntry = { fullName: m[1] ?? '', line: i + 1 };
      if (m[2]) entry.jsName = m[2];
      out.push(entry);
    });
  return out;
}

function bindReturn(s: Schema): BoundReturn {
  const rets = s.returns;
  if (rets.length === 0) return { k: 'void' };
  if (rets.length === 1 && rets[0]?.mutated) {
    if (s.args[0]?.mutated) return { k: 'self' };
    throw new Error(`${s.fullName}: returns a mutated argument other than self (out= variants are not bound)`);
  }
  const kinds = rets.map((r) => {
    const k = returnKind(r);
    if (!k) throw new Error(`${s.fullName}: unsupported return type '${r.type}'`);
    return k;
  });
  if (s.tupleReturn) {
    if (kinds.every((k) => k === 'Tensor')) return { k: 'TensorTuple', n: kinds.length };
    throw new Error(`${s.fullName}: only tuples of Tensors are supported`);
  }
  const k = kinds[0];
  return { k: k === undefined ? 'void' : k } as BoundReturn;
}

export function bindOps(schemas: Map<string, Schema>, allow: AllowEntry[], allowPath: string): BoundOp[] {
  const seen = new Set<string>();
  const errors: string[] = [];
  const bound = allow.flatMap((entry) => {
    try {
      return [bindOne(entry)];
    } catch (e) {
      errors.push((e as Error).message);
      return [];
    }
  });
  if (errors.length > 0) throw new Error(`the allowlist has ${errors.length} problem(s):\n  ${errors.join('\n  ')}`);
  return bound;

  function bindOne(entry: AllowEntry): BoundOp {
    const where = `${allowPath}:${entry.line}`;
    const s = schemas.get(entry.fullName);
    if (!s) throw new Error(`${where}: '${entry.fullName}' is not in native_functions.yaml`);
    if (seen.has(entry.fullName)) throw new Error(`${where}: '${entry.fullName}' is listed twice`);
    seen.add(entry.fullName);
    const args = s.args.map((a) => {
      const kind = argKind(a);
      if (!kind) throw new Error(`${where}: ${s.fullName}: argument '${a.name}' has unsupported type '${a.type}'`);
      return { schema: a, kind, jsName: camelCase(a.name) };
    });
    if (args.some((a, i) => i > 0 && a.schema.mutated))
      throw new Error(`${where}: ${s.fullName} mutates an argument other than self (out= variants are not bound)`);
    const jsName = entry.jsName ?? camelCase(s.name);
    if (RESERVED.has(jsName)) throw new Error(`${where}: '${jsName}' is a reserved word in JS; add 'as <name>'`);
    const suffix = s.overload ? `_${s.overload}` : '';
    return {
      schema: s,
      args,
      ret: bindReturn(s),
      callAsMethod: !s.variants.function,
      cppName: `op_${s.name}${suffix}`,
      nativeName: `${s.name}${s.overload ? `$${s.overload}` : ''}`,
      jsName,
    };
  }
}
