// A manifest: a CSV (with a header row) or JSONL file listing one sample per row — an image path,
// its label, and optionally the split it belongs to and a group key. Instead of one label a row may
// have several (a `labels` column, or one 0/1 column per class: multi-label) or a segmentation mask
// (a `mask` column): manifest-targets.ts reads those. Paths are relative to the
// manifest's folder. Labels are class names (classes sorted, or given explicitly) or integer
// indices. Label indices are assigned over the whole manifest before a split is picked, so train,
// val and test subsets of one manifest agree on what label 3 means.
//
// Every error names the manifest, the line and the column at fault.
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';

import { DataError, type IndexedDataset, type SampleRecord, type TargetKind } from '../types.js';
import { CsvError, parseCsvWithHeader } from './csv.js';
import { compareCodePoints } from './image-folder.js';
import { manifestTargets, multiHot } from './manifest-targets.js';
import { classesFromMasks, maskedDataset } from './segmentation.js';

export interface ManifestOptions {
  /** 'csv' or 'jsonl'; by default from the extension (.csv, .jsonl, .ndjson). */
  format?: 'csv' | 'jsonl';
  /** Keep only the rows whose split column equals this (e.g. 'train'). */
  split?: string;
  /** Column (CSV) or key (JSONL) names. Defaults: path, label, split, group. */
  columns?: { path?: string; label?: string; split?: string; group?: string };
  /** 'name' (default): labels are class names. 'index': labels are integers 0..K-1. */
  labelType?: 'name' | 'index';
  /** Class names in label order. Names not in the list are errors. Default: the names found, sorted. */
  classes?: readonly string[];
  /** Folder that relative paths start from. Default: the manifest's folder. */
  root?: string;
}

export interface ManifestDataset extends IndexedDataset {
  readonly file: string;
  /** Every sample's resolved file path, in sample order. */
  readonly paths: readonly string[];
  /** Each sample's split value (undefined when the manifest has no split column). */
  splits(): readonly (string | undefined)[];
  /** The distinct split values in the manifest, sorted (empty when it has none). */
  readonly splitNames: readonly string[];
  /** The manifest line of each sample, for error messages. */
  readonly lines: readonly number[];
  /** What the rows are labelled with: a class, a mask, or several labels. */
  readonly targets: TargetKind;
}

interface Row {
  line: number;
  path: string;
  /** The label column's value (class manifests). */
  label: string | number | undefined;
  split: string | undefined;
  group: string | undefined;
  /** Every column's value, for the other kinds of targets (manifest-targets.ts). */
  cells: Map<string, unknown>;
}

/** Lines of a JSONL file as rows; values must be strings (or numbers, for index labels); the header is the first row's keys. */
function parseJsonl(text: string, file: string, cols: Required<NonNullable<ManifestOptions['columns']>>): { header: string[]; rows: Row[] } {
  const rows: Row[] = [];
  let header: string[] | undefined;
  for (const [k, raw] of text.split(/\r?\n/).entries()) {
    const line = k + 1;
    if (raw.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`${file}:${line}`, `bad JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DataError(`${file}:${line}`, 'each line must be a JSON object');
    const rec = obj as Record<string, unknown>;
    const text = (key: string, required: boolean, numberOk = false): string | number | undefined => {
      const v = rec[key];
      if (v === undefined || v === null) {
        if (required) throw new DataError(`${file}:${line}`, `missing field "${key}"`);
        return undefined;
      }
      if (typeof v === 'string' || (numberOk && typeof v === 'number')) return v;
      throw new DataError(`${file}:${line}`, `field "${key}" must be a string${numberOk ? ' or a number' : ''}, got ${JSON.stringify(v)}`);
    };
    header ??= Object.keys(rec);
    rows.push({
      line,
      path: text(cols.path, true) as string,
      label: header.includes(cols.label) ? (text(cols.label, true, true) as string | number) : undefined,
      split: text(cols.split, false) as string | undefined,
      group: text(cols.group, false) as string | undefined,
      cells: new Map(Object.entries(rec)),
    });
  }
  return { header: header ?? [], rows };
}

function parseCsvRows(text: string, file: string, cols: Required<NonNullable<ManifestOptions['columns']>>): { header: string[]; rows: Row[] } {
  let parsed;
  try {
    parsed = parseCsvWithHeader(text, file);
  } catch (e) {
    if (e instanceof CsvError) throw new DataError(`${file}:${e.line}`, e.message.slice(`${file}:${e.line}: `.length));
    throw e;
  }
  if (!parsed.columns.includes(cols.path)) throw new DataError(`${file}:1`, `no column "${cols.path}" in the header (columns: ${parsed.columns.join(', ')})`);
  const hasSplit = parsed.columns.includes(cols.split);
  const hasGroup = parsed.columns.includes(cols.group);
  const rows = parsed.rows.map(({ line, values }) => ({
    line,
    path: values.get(cols.path) as string,
    label: values.get(cols.label),
    // An empty cell means "no split" / "no group", as a missing key does in JSONL.
    split: hasSplit ? values.get(cols.split) || undefined : undefined,
    group: hasGroup ? values.get(cols.group) || undefined : undefined,
    cells: values as Map<string, unknown>,
  }));
  return { header: parsed.columns, rows };
}

/** Turns each row's label into a class index; returns the class names. */
function assignLabels(rows: Row[], file: string, labelCol: string, opts: ManifestOptions): { classes: string[]; labels: Int32Array } {
  const at = (r: Row) => `${file}:${r.line}`;
  const labels = new Int32Array(rows.length);
  if (opts.labelType === 'index') {
    let max = -1;
    for (const [k, r] of rows.entries()) {
      const v = typeof r.label === 'number' ? r.label : r.label === undefined || r.label.trim() === '' ? NaN : Number(r.label);
      if (!Number.isInteger(v) || v < 0) throw new DataError(at(r), `column "${labelCol}": label ${JSON.stringify(r.label)} is not a non-negative integer`);
      if (opts.classes && v >= opts.classes.length) {
        throw new DataError(at(r), `column "${labelCol}": label ${v} is out of range for ${opts.classes.length} classes`);
      }
      labels[k] = v;
      max = Math.max(max, v);
    }
    return { classes: opts.classes ? [...opts.classes] : Array.from({ length: max + 1 }, (_, i) => String(i)), labels };
  }
  for (const r of rows) {
    if (r.label === undefined) throw new DataError(at(r), `missing field "${labelCol}"`);
    if (typeof r.label === 'number') throw new DataError(at(r), `column "${labelCol}": label ${r.label} is a number; pass labelType: 'index' for integer labels`);
    if (r.label === '') throw new DataError(at(r), `column "${labelCol}": empty label`);
  }
  const classes = opts.classes ? [...opts.classes] : [...new Set(rows.map((r) => r.label as string))].sort(compareCodePoints);
  const index = new Map(classes.map((c, i) => [c, i]));
  if (index.size !== classes.length) throw new DataError(file, 'the classes option lists a class twice');
  for (const [k, r] of rows.entries()) {
    const i = index.get(r.label as string);
    if (i === undefined) {
      const shown = classes.length <= 10 ? classes.join(', ') : `${classes.slice(0, 10).join(', ')}, …`;
      throw new DataError(at(r), `column "${labelCol}": unknown label "${r.label}" (classes: ${shown})`);
    }
    labels[k] = i;
  }
  return { classes, labels };
}

/** A row's mask file, resolved like its image path. */
function maskPathOf(r: Row, file: string, base: string): string {
  const m = r.cells.get('mask');
  if (typeof m !== 'string' || m.trim() === '') throw new DataError(`${file}:${r.line}`, `column "mask": ${JSON.stringify(m ?? null)} is not a mask file path`);
  return isAbsolute(m) ? m : resolve(base, m);
}

/** Reads a CSV or JSONL manifest. Rejects with a DataError naming `file:line` and the column at fault. */
export async function manifest(path: string, options: ManifestOptions = {}): Promise<ManifestDataset> {
  const cols = { path: 'path', label: 'label', split: 'split', group: 'group', ...options.columns };
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined);
  if (format === undefined) throw new DataError(path, `cannot tell the manifest format from "${ext}": use .csv or .jsonl, or pass format`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such manifest file' : `cannot read the manifest (${code ?? (e as Error).message})`, { cause: e });
  }

  const { header, rows: all } = format === 'csv' ? parseCsvRows(text, path, cols) : parseJsonl(text, path, cols);
  if (all.length === 0) throw new DataError(path, 'the manifest lists no samples');
  for (const r of all) {
    if (r.path.trim() === '') throw new DataError(`${path}:${r.line}`, `column "${cols.path}": empty path`);
  }
  const targets = manifestTargets(path, header, cols);
  // Multi-label rows: K 0/1 values each; a row's class index stays -1 (it has several).
  const multi = targets.kind === 'labels' || targets.kind === 'columns' ? multiHot(all, path, targets.kind, targets.classColumns, options.classes) : undefined;
  const base = options.root ?? dirname(path);
  const allMasks = targets.kind === 'mask' ? all.map((r) => maskPathOf(r, path, base)) : [];
  // Masks: ids are named by data.classes, else `class 0`… up to the largest id in every mask.
  const { classes, labels: allLabels } = multi
    ? { classes: multi.classes, labels: new Int32Array(all.length).fill(-1) }
    : targets.kind === 'mask'
      ? { classes: options.classes ? [...options.classes] : await classesFromMasks(allMasks), labels: new Int32Array(all.length).fill(-1) }
      : assignLabels(all, path, cols.label, options);
  const splitNames = [...new Set(all.flatMap((r) => (r.split === undefined ? [] : [r.split])))].sort(compareCodePoints);

  let keep = all.map((_, k) => k);
  if (options.split !== undefined) {
    if (splitNames.length === 0) throw new DataError(path, `split "${options.split}" was asked for, but the manifest has no "${cols.split}" column`);
    keep = keep.filter((k) => all[k]?.split === options.split);
    if (keep.length === 0) throw new DataError(path, `no rows in split "${options.split}" (splits: ${splitNames.join(', ')})`);
  }
  const rows = keep.map((k) => all[k] as Row);
  const labels = Int32Array.from(keep, (k) => allLabels[k] as number);
  const paths = rows.map((r) => (isAbsolute(r.path) ? r.path : resolve(base, r.path)));
  const lines = rows.map((r) => r.line);
  const hasGroups = rows.some((r) => r.group !== undefined);
  const what = `manifest ${resolve(path)}${options.split === undefined ? '' : ` [${options.split}]`}`;
  const kindOf = targets.kind === 'mask' ? 'images with masks' : multi ? 'multi-label files' : 'files';
  const describe = `${what} (${classes.length} classes, ${rows.length.toLocaleString('en-US')} ${kindOf})`;
  const listing = { file: path, paths, lines, splitNames, splits: () => rows.map((r) => r.split) };
  if (targets.kind === 'mask') {
    const maskPaths = keep.map((k) => allMasks[k] as string);
    const groups = hasGroups ? rows.map((r) => r.group) : undefined;
    return { ...maskedDataset({ paths, maskPaths, classes, describe, ...(groups ? { groups } : {}), where: (i) => `${path}:${lines[i]}` }), ...listing, targets: 'mask' };
  }
  const K = classes.length;
  const hot = multi ? Uint8Array.from(keep.flatMap((k) => Array.from(multi.hot.subarray(k * K, (k + 1) * K)))) : undefined;

  return {
    kind: 'indexed',
    targets: multi ? 'labels' : 'class',
    file: path,
    length: rows.length,
    classes,
    paths,
    lines,
    splitNames,
    labels: () => labels.slice(),
    splits: () => rows.map((r) => r.split),
    ...(hasGroups ? { groups: () => rows.map((r) => r.group) } : {}),
    async read(index: number): Promise<SampleRecord> {
      const p = paths[index];
      const row = rows[index];
      if (p === undefined || row === undefined) throw new RangeError(`${path}: sample index ${index} is out of range [0, ${rows.length})`);
      let bytes: Buffer;
      try {
        bytes = await readFile(p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DataError(p, `cannot read (${code ?? (e as Error).message}), listed at ${path}:${row.line}`, { cause: e });
      }
      const rec: SampleRecord = { input: { kind: 'encoded', bytes }, label: labels[index] as number, id: p };
      if (hot) rec.target = { kind: 'labels', labels: hot.slice(index * K, (index + 1) * K) };
      if (row.group !== undefined) rec.group = row.group;
      return rec;
    },
    sampleId: (index: number) => paths[index] ?? `${path}[${index}]`,
    describe: () => describe,
  };
}
