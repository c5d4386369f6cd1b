// WebDataset shards before training on them: where class names come from, how many samples an
// epoch has, and which samples a held-out split takes from a stream.
//
// Class names, in this order: `data.classes` (a list, or a text file with one name a line); a
// `classes.txt` beside the (first) shard; else the shards' own label members (`.cls`, `.txt`,
// `.json`), read in one pass without decoding any image: integer labels give classes '0'..'K-1',
// names give the sorted names. That pass also counts the samples, so progress bars and
// learning-rate schedules know an epoch's length. Local shards are always scanned (reading a tar
// front to back costs no decoding); http(s) shards only when no class names were given.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { openShard } from '../formats/shard-stream.js';
import { readTar } from '../formats/tar.js';
import { compareCodePoints } from '../sources/image-folder.js';
import { DataError, type SampleRecord, type StreamingDataset } from '../types.js';
import { classNames, DataSourceError, isUrl } from './source.js';

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tif', 'tiff']);
const LABEL_EXTENSIONS = ['cls', 'txt', 'json'];

export interface ShardScan {
  /** Every sample's id (`shard#key`), in archive order. */
  ids: string[];
  /** The distinct label values: integers, or names. */
  labels: Set<number | string>;
}

/** `dir/0001.seg.png` → [`dir/0001`, `seg.png`]; hidden and `__meta__` members are no samples. */
function splitKey(name: string): [string | undefined, string] {
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  if (base.startsWith('.') || base.startsWith('__')) return [undefined, ''];
  const dot = base.indexOf('.');
  if (dot < 0) return [name, ''];
  return [name.slice(0, slash + 1 + dot), base.slice(dot + 1).toLowerCase()];
}

function labelValue(bytes: Uint8Array, ext: string, id: string): number | string | undefined {
  const text = new TextDecoder().decode(bytes).trim();
  let v: unknown = text;
  if (ext === 'json') {
    try {
      v = JSON.parse(text);
    } catch {
      throw new DataError(id, `not valid JSON: ${text.slice(0, 80)}`);
    }
    if (v !== null && typeof v === 'object') v = (v as Record<string, unknown>).label ?? (v as Record<string, unknown>).cls ?? (v as Record<string, unknown>).class;
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) v = Number(v);
  if (typeof v === 'number' && v === -1) return undefined; // unlabelled
  return typeof v === 'number' || typeof v === 'string' ? v : undefined;
}

/** Reads every shard once (tar headers and label members; images are skipped, not decoded). */
export async function scanShards(shards: readonly string[]): Promise<ShardScan> {
  const ids: string[] = [];
  const labels = new Set<number | string>();
  for (const shard of shards) {
    let key: string | undefined;
    let group = new Map<string, Uint8Array>();
    const flush = () => {
      if (key === undefined || ![...group.keys()].some((e) => IMAGE_EXTENSIONS.has(e))) return;
      const id = `${shard}#${key}`;
      ids.push(id);
      const ext = LABEL_EXTENSIONS.find((e) => group.has(e));
      const v = ext === undefined ? undefined : labelValue(group.get(ext) as Uint8Array, ext, `${id}.${ext}`);
      if (v !== undefined) labels.add(v);
    };
    for await (const m of readTar(openShard(shard), shard)) {
      const [k, ext] = splitKey(m.name);
      if (k === undefined) continue;
      if (k !== key) {
        flush();
        group = new Map();
        key = k;
      }
      // Images are only noted (their bytes are dropped at once); label members are kept.
      group.set(ext, IMAGE_EXTENSIONS.has(ext) ? new Uint8Array(0) : m.data);
    }
    flush();
  }
  return { ids, labels };
}

export interface ShardClasses {
  classes: string[];
  /** Where the names came from, in words. */
  from: string;
  /** The scan, when the shards were read (always for local shards). */
  scan?: ShardScan;
}

/** Class names (and, for local shards, the sample ids) of a shard list; see the header. */
export async function shardClasses(shards: readonly string[], given: readonly string[] | string | undefined): Promise<ShardClasses> {
  const first = shards[0] as string;
  const besideFile = !isUrl(first) && existsSync(join(dirname(first), 'classes.txt')) ? join(dirname(first), 'classes.txt') : undefined;
  const named = given !== undefined ? { classes: classNames(given), from: typeof given === 'string' ? `the classes file ${given}` : 'data.classes' }
    : besideFile ? { classes: classNames(besideFile, 'classes.txt'), from: besideFile } : undefined;
  const local = shards.every((s) => !isUrl(s));
  if (named && !local) return named;
  const scan = await scanShards(shards);
  if (scan.ids.length === 0) throw new DataSourceError(`the shards ${shards.length > 1 ? `${first} … (${shards.length})` : first} hold no samples with an image member`);
  if (named) return { ...named, scan };
  const values = [...scan.labels];
  if (values.length === 0) throw new DataSourceError(`the shards' samples have no label members (.cls, .txt or .json): give the class names with data.classes`);
  if (values.every((v) => typeof v === 'number')) {
    const max = Math.max(...(values as number[]));
    const bad = (values as number[]).find((v) => !Number.isInteger(v) || v < 0);
    if (bad !== undefined) throw new DataSourceError(`the shards hold the label ${bad}, which is not a class index`);
    return { classes: Array.from({ length: max + 1 }, (_, i) => String(i)), from: `the shards' integer labels (0..${max}; give names with data.classes or a classes.txt beside the shards)`, scan };
  }
  if (values.every((v) => typeof v === 'string')) {
    return { classes: (values as string[]).sort(compareCodePoints), from: `the class names in the shards' label members`, scan };
  }
  throw new DataSourceError('the shards mix integer labels and class names: give the class list with data.classes (names in label order)');
}

/** Which part of a stream a sample belongs to: a pure function of its id and the seed. */
export interface StreamSplitRule {
  seed: number;
  val: number;
  test: number;
}

/** FNV-1a of `seed:id`, mixed by MurmurHash3's finaliser (ids differing in their last character land far apart), as a fraction in [0, 1). */
function splitPoint(id: string, seed: number): number {
  let h = 0x811c9dc5;
  const s = `${seed}:${id}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * What the split hashes: a streamed sample's id is `<shard path or URL>#<key>`, and only the shard's
 * file name and the key count, so the split does not change when the data set moves (the shard
 * path held the directory: a copy in another place got another test split).
 */
export function locationFreeId(id: string): string {
  const hash = id.lastIndexOf('#');
  const slash = id.lastIndexOf('/', hash < 0 ? id.length : hash);
  return slash < 0 ? id : id.slice(slash + 1);
}

export function streamPart(id: string, r: StreamSplitRule): 'train' | 'val' | 'test' {
  const u = splitPoint(locationFreeId(id), r.seed);
  return u < r.test ? 'test' : u < r.test + r.val ? 'val' : 'train';
}

/**
 * The samples of `d` that the rule puts in `part`: a streamed source cannot be indexed, so a held-out
 * split is decided per sample, by id. `count` (from a scan) becomes the part's length hint.
 */
export function streamSplit(d: StreamingDataset, part: 'train' | 'val' | 'test', rule: StreamSplitRule, count?: number): StreamingDataset {
  return {
    kind: 'streaming',
    classes: d.classes,
    ...(count !== undefined ? { lengthHint: count } : {}),
    async *stream(ctx) {
      for await (const rec of d.stream(ctx)) if (streamPart(rec.id, rule) === part) yield rec as SampleRecord & { index: number };
    },
    describe: () => `the ${part} part (${part === 'train' ? `${Math.round((1 - rule.val - rule.test) * 100)}` : Math.round(rule[part] * 100)}% by sample id) of ${d.describe()}`,
  };
}
