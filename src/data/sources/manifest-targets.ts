// What a manifest's rows are labelled with, read from its columns (manifest.ts reads the rows):
//
//   label               one class per row (name, or index with labelType 'index')      → class
//   mask                a mask file per row (segmentation; relative to the manifest)    → mask
//   labels              several classes per row: `cat|outdoor` (CSV), or a JSON list
//                       or `cat|outdoor` string (JSONL); empty = none of them          → labels
//   <one column per class>, no label/labels/mask column: each 0 or 1                 → labels
//
// A manifest with both `label` and `mask` (or `labels`) is refused rather than half read.
import { DataError } from '../types.js';
import { compareCodePoints } from './image-folder.js';

export type ManifestTargets = 'class' | 'mask' | 'labels' | 'columns';

/** The columns every manifest may have besides its targets. */
export const RESERVED_COLUMNS = ['path', 'split', 'group'];

/** How the rows are labelled, from the column names (`columns`: the configured names of path/label/split/group). */
export function manifestTargets(file: string, header: readonly string[], cols: { path: string; label: string; split: string; group: string }): { kind: ManifestTargets; classColumns: string[] } {
  const has = (c: string) => header.includes(c);
  const named = [has(cols.label) && cols.label, has('mask') && 'mask', has('labels') && 'labels'].filter(Boolean);
  if (named.length > 1) throw new DataError(`${file}:1`, `has columns ${named.join(' and ')}: a manifest labels its rows one way (label: a class; labels: several; mask: a segmentation mask)`);
  if (has('mask')) return { kind: 'mask', classColumns: [] };
  if (has('labels')) return { kind: 'labels', classColumns: [] };
  if (has(cols.label)) return { kind: 'class', classColumns: [] };
  const others = header.filter((c) => ![cols.path, cols.split, cols.group].includes(c));
  if (others.length >= 2) return { kind: 'columns', classColumns: others };
  throw new DataError(`${file}:1`, `no column "${cols.label}" in the header (columns: ${header.join(', ')}); a manifest needs "${cols.label}" (one class), "labels" (several, a|b), "mask" (segmentation) or one 0/1 column per class`);
}

/** One row's multi-label cell (`a|b`, or a JSON list of names) → its class names. */
export function splitLabels(cell: unknown, where: string): string[] {
  if (cell === undefined || cell === null || cell === '') return [];
  if (Array.isArray(cell)) {
    if (!cell.every((c) => typeof c === 'string' && c !== '')) throw new DataError(where, `column "labels": ${JSON.stringify(cell)} must list class names`);
    return cell as string[];
  }
  if (typeof cell !== 'string') throw new DataError(where, `column "labels": ${JSON.stringify(cell)} must be names separated by | (or a JSON list)`);
  const names = cell.split('|').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new DataError(where, `column "labels": "${cell}" has an empty name between its | separators`);
  return names;
}

/**
 * Multi-hot rows (N×K, row-major) and the class names: `labels` cells, or 0/1 class columns. Class
 * order: `given`, else the column order (class columns) or the names sorted (a labels column).
 */
export function multiHot(rows: readonly { line: number; cells: ReadonlyMap<string, unknown> }[], file: string, kind: 'labels' | 'columns', classColumns: readonly string[], given?: readonly string[]): { classes: string[]; hot: Uint8Array } {
  const at = (line: number) => `${file}:${line}`;
  if (kind === 'columns') {
    const classes = [...classColumns];
    if (given && given.join('\u0000') !== classes.join('\u0000')) throw new DataError(file, `data.classes [${given.join(', ')}] differs from the manifest's class columns [${classes.join(', ')}]`);
    const hot = new Uint8Array(rows.length * classes.length);
    rows.forEach((r, i) => classes.forEach((c, k) => {
      const v = r.cells.get(c);
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (n !== 0 && n !== 1) throw new DataError(at(r.line), `column "${c}": ${JSON.stringify(v)} is not 0 or 1 (one 0/1 column per class)`);
      hot[i * classes.length + k] = n;
    }));
    return { classes, hot };
  }
  const names = rows.map((r) => splitLabels(r.cells.get('labels'), at(r.line)));
  const classes = given ? [...given] : [...new Set(names.flat())].sort(compareCodePoints);
  if (classes.length === 0) throw new DataError(file, 'column "labels" names no class in any row');
  const index = new Map(classes.map((c, k) => [c, k]));
  const hot = new Uint8Array(rows.length * classes.length);
  names.forEach((list, i) => list.forEach((n) => {
    const k = index.get(n);
    if (k === undefined) throw new DataError(at((rows[i] as { line: number }).line), `column "labels": unknown class "${n}" (classes: ${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''})`);
    hot[i * classes.length + k] = 1;
  }));
  return { classes, hot };
}
