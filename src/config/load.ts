// Resolving a run's configuration: a JSON or YAML file (optional), then flag overrides, then the
// schema's defaults. Every problem is reported by where it came from and which field is at fault.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

import { RunConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Reads a config file (.json, .yaml, .yml) as plain data, naming the file on any failure. */
export function readConfigFile(path: string): Record<string, Json> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    const ext = extname(path).toLowerCase();
    if (ext === '.json') value = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') value = parseYaml(text);
    else throw new Error('use a .json, .yaml or .yml file');
  } catch (e) {
    throw new ConfigError(`config ${path} is not valid: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`config ${path} must hold an object at the top level`);
  return value as Record<string, Json>;
}

/**
 * Sets `path` (dotted, e.g. `train.optimizer.lr`) in a plain object, creating objects on the way.
 * The value is parsed as JSON when it parses (numbers, booleans, arrays), else kept as a string.
 */
export function setPath(target: Record<string, unknown>, path: string, raw: string | number | boolean): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype'))
    throw new ConfigError(`bad config key '${path}'`);
  let node = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (next === undefined) node[k] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next))
      throw new ConfigError(`cannot set '${path}': '${k}' is not an object`);
    node = node[k] as Record<string, unknown>;
  }
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
  }
  node[keys[keys.length - 1] as string] = value;
}

/**
 * `train.optimizer.lr: Too small: expected number to be >0` — one line per problem. A field that
 * a flag set is introduced by what the user typed: `--lr -1 → train.optimizer.lr: Too small: …`.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], origins: ReadonlyMap<string, string> = new Map()): string {
  const lines = issues.map((i) => {
    const where = i.path.length > 0 ? i.path.join('.') : '(top level)';
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      return `${where === '(top level)' ? '' : `${where}: `}unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    }
    // The override that set this field or a field above it: `--image-size 100000` sets both
    // data.imageSize.0 and .1, and is one mistake, reported once, at the field the user set.
    const set = [...origins.keys()].filter((p) => where === p || where.startsWith(`${p}.`)).sort((a, b) => b.length - a.length)[0];
    return set === undefined ? `${where}: ${i.message}` : `${origins.get(set)} → ${set}: ${i.message}`;
  });
  return [...new Set(lines)].join('\n');
}

/** A dotted-path override: path, raw value, and optionally what the user typed to set it (`--epochs many`). */
export type Override = readonly [path: string, value: string | number | boolean, origin?: string];

export interface ResolveOptions {
  /** Config file path, when one was given. */
  file?: string;
  /** Dotted-path overrides from flags, applied after the file, in order. */
  overrides?: readonly Override[];
}

/** File, then overrides, then defaults; throws a ConfigError naming the source and the fields. */
export function resolveConfig(options: ResolveOptions = {}): RunConfig {
  return resolveWith(RunConfig, options);
}

/** resolveConfig for another command's schema (`tessera gan`'s). */
export function resolveWith<S extends z.ZodType>(schema: S, options: ResolveOptions = {}): z.output<S> {
  const raw: Record<string, unknown> = options.file ? readConfigFile(options.file) : {};
  const origins = new Map<string, string>();
  for (const [path, value, origin] of options.overrides ?? []) {
    setPath(raw, path, value);
    if (origin !== undefined) origins.set(path, origin);
    else origins.delete(path);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const where = options.file ? `config ${options.file}` : 'options';
    const lines = formatIssues(parsed.error.issues, origins);
    throw new ConfigError(`${where} ${lines.includes('\n') ? 'have problems' : 'has a problem'}:\n${lines}`);
  }
  return parsed.data;
}
