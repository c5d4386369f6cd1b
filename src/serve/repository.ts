// What `tessera serve <target>` serves: a run directory (under its run name), an .onnx file, or a
// model repository — `<name>/<version>/` folders (versions are positive integers, as in Triton),
// each holding a run's model.json + model.safetensors or one .onnx file, with an optional
// `<name>/serve.json` giving that model's own batching.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';

import { formatIssues } from '../config/load.js';
import type { BackendKind, ModelSource } from './backend/types.js';
import { batchingFor, BatchingSchema, type BatchingOptions } from './options.js';

export interface ResolveModelsOptions {
  /** The name to serve a single run or .onnx file under (not allowed for a repository). */
  name?: string;
  /** For run directories: 'torch' (default) runs model.safetensors, 'onnx' the run's model.onnx. */
  backend?: BackendKind;
  /** Batching defaults for every model. */
  batching?: Partial<BatchingOptions>;
}

/** Names that are one URL path segment as they are. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new Error(`${what} '${name}' cannot be a model name: use letters, digits, '_', '.' and '-' (starting with a letter or digit)`);
  return name;
}

const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** A folder with a run's model (model.json) or one .onnx file → its back end and file. */
function modelIn(dir: string, backend: BackendKind | undefined): { backend: BackendKind; path: string } {
  if (existsSync(join(dir, 'model.json'))) {
    if (backend !== 'onnx') return { backend: 'torch', path: dir };
    const onnx = join(dir, 'model.onnx');
    if (!existsSync(onnx)) throw new Error(`--backend onnx: ${dir} has no model.onnx; write it with: tessera export ${dir}`);
    return { backend: 'onnx', path: onnx };
  }
  const onnx = readdirSync(dir).filter((f) => extname(f) === '.onnx');
  if (onnx.length === 1 && backend !== 'torch') return { backend: 'onnx', path: join(dir, onnx[0] as string) };
  if (onnx.length > 1) throw new Error(`${dir} holds ${onnx.length} .onnx files (${onnx.join(', ')}); a version folder holds one model`);
  throw new Error(`${dir} holds no model: expected a run's model.json + model.safetensors${backend === 'torch' ? '' : ' or one .onnx file'}`);
}

function readServeJson(path: string): Partial<BatchingOptions> {
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = BatchingSchema.partial().safeParse(raw);
  if (!parsed.success) throw new Error(`${path}:\n${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}

export function resolveModels(target: string, options: ResolveModelsOptions = {}): ModelSource[] {
  const s = statSync(target, { throwIfNoEntry: false });
  if (!s) throw new Error(`${target} does not exist`);
  const defaults = options.batching ?? {};
  if (s.isFile()) {
    if (extname(target) !== '.onnx') throw new Error(`${target} is not a run directory, an .onnx file or a model repository`);
    if (options.backend === 'torch') throw new Error(`--backend torch serves a run directory; ${target} is an ONNX file`);
    const name = checkName(options.name ?? basename(target, '.onnx'), 'the file name');
    return [{ name, version: '1', backend: 'onnx', path: target, batching: batchingFor(defaults, {}, 1) }];
  }
  if (existsSync(join(target, 'model.json'))) {
    const name = checkName(options.name ?? basename(resolve(target)), 'the run name');
    return [{ name, version: '1', ...modelIn(target, options.backend), batching: batchingFor(defaults, {}, 1) }];
  }
  if (options.name !== undefined) throw new Error(`--name names a single run or .onnx file; ${target} is a model repository, whose folders name its models`);
  const found: Omit<ModelSource, 'batching'>[] = [];
  const own = new Map<string, Partial<BatchingOptions>>();
  for (const name of readdirSync(target).sort()) {
    const dir = join(target, name);
    if (name.startsWith('.') || !isDir(dir)) continue;
    checkName(name, `model folder ${dir}:`);
    own.set(name, readServeJson(join(dir, 'serve.json')));
    const versions = readdirSync(dir).filter((v) => isDir(join(dir, v)));
    if (versions.length === 0) throw new Error(`${dir} has no version folders: put the model in ${join(dir, '1')}/`);
    for (const v of versions) {
      if (!/^[1-9]\d{0,8}$/.test(v)) throw new Error(`${join(dir, v)}: a version folder is named by a positive integer`);
      found.push({ name, version: v, ...modelIn(join(dir, v), options.backend) });
    }
  }
  if (found.length === 0) throw new Error(`${target} holds no models: expected a run directory (model.json), an .onnx file, or <name>/<version>/ folders holding either`);
  found.sort((a, b) => (a.name === b.name ? Number(a.version) - Number(b.version) : a.name < b.name ? -1 : 1));
  return found.map((m) => ({ ...m, batching: batchingFor(defaults, own.get(m.name) ?? {}, found.length) }));
}
