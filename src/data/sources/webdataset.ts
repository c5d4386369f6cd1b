// WebDataset-style tar shards (https://github.com/webdataset/webdataset), streamed without
// unpacking. Members sharing a key, the path up to the first dot of the file name, form one
// sample: `dir/0001.jpg` + `dir/0001.cls` → key `dir/0001`. The label comes from `.cls` (an
// integer, or a class name), `.txt` (same) or `.json` (a number, a name, or {label|cls|class}).
//
// Each epoch visits the shards in an order drawn from (seed, epoch). Ranks split the shards
// (shard i goes to rank i mod worldSize); with fewer shards than ranks, every rank reads every
// shard and keeps sample g when g mod worldSize = rank. Either way each sample of the epoch goes to
// exactly one rank.
import { expandBraces } from '../formats/braces.js';
import { openShard, type ShardStreamOptions } from '../formats/shard-stream.js';
import { readTar, type TarMember } from '../formats/tar.js';
import { RandomStream } from '../random.js';
import { DataError, type SampleRecord, type StreamContext, type StreamingDataset } from '../types.js';

export interface WebDatasetOptions extends Omit<ShardStreamOptions, 'signal'> {
  /** Class names: needed when labels are names, and to range-check integer labels. */
  classes?: readonly string[];
  /** Shuffle the shard order per epoch (default true; turn off for evaluation). */
  shuffleShards?: boolean;
  /** Samples per epoch, when known, for progress bars. */
  lengthHint?: number;
  /** Largest member held in memory (default 256 MiB). */
  maxMemberBytes?: number;
}

const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tif', 'tiff'];
const LABEL_EXTENSIONS = ['cls', 'txt', 'json'];

/** `shards`: paths or http(s) URLs, each possibly a brace pattern (`shard-{000..127}.tar`). */
export function webDataset(shards: string | readonly string[], o: WebDatasetOptions = {}): StreamingDataset {
  const patterns = typeof shards === 'string' ? [shards] : [...shards];
  const list = patterns.flatMap(expandBraces);
  if (list.length === 0) throw new DataError(patterns.join(' '), 'no shards');
  const classes = o.classes ?? [];
  return {
    kind: 'streaming',
    classes,
    ...(o.lengthHint !== undefined ? { lengthHint: o.lengthHint } : {}),
    stream: (ctx) => streamEpoch(list, classes, o, ctx),
    describe: () => `WebDataset ${list.length} shard${list.length === 1 ? '' : 's'} (${patterns.join(', ')}), ${classes.length ? `${classes.length} classes` : 'classes not given'}`,
  };
}

async function* streamEpoch(list: readonly string[], classes: readonly string[], o: WebDatasetOptions, ctx: StreamContext): AsyncGenerator<SampleRecord & { index: number }> {
  const { rank, worldSize } = ctx;
  if (!(Number.isInteger(worldSize) && worldSize >= 1 && Number.isInteger(rank) && rank >= 0 && rank < worldSize))
    throw new RangeError(`rank ${rank} is not in 0..${worldSize - 1}`);
  const order = o.shuffleShards === false ? [...list] : shuffled(list, ctx.seed, ctx.epoch);
  const bySample = order.length < worldSize;
  const mine = bySample ? order : order.filter((_, i) => i % worldSize === rank);
  // Global position: with a shard split, this rank's k-th sample is k·worldSize + rank (unique
  // across ranks without knowing other shards' sizes); with a sample split, the true position g.
  let k = 0;
  let g = 0;
  for (const shard of mine) {
    const stream = { ...o, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    for await (const sample of samplesOf(shard, classes, stream)) {
      if (bySample) {
        if (g++ % worldSize === rank) yield { ...sample, index: g - 1 };
      } else {
        yield { ...sample, index: k++ * worldSize + rank };
      }
    }
  }
}

/** The samples of one shard, in archive order. */
export async function* samplesOf(shard: string, classes: readonly string[], o: WebDatasetOptions & { signal?: AbortSignal } = {}): AsyncGenerator<SampleRecord> {
  let key: string | undefined;
  let group = new Map<string, Uint8Array>();
  const members = readTar(openShard(shard, o), shard, o.maxMemberBytes !== undefined ? { maxMemberBytes: o.maxMemberBytes } : {});
  for await (const m of members) {
    const [k, ext] = splitKey(m);
    if (k === undefined) continue;
    if (key !== undefined && k !== key) {
      yield toSample(shard, key, group, classes);
      group = new Map();
    }
    key = k;
    group.set(ext, m.data);
  }
  if (key !== undefined) yield toSample(shard, key, group, classes);
}

/** `dir/0001.seg.png` → [`dir/0001`, `seg.png`]; hidden and `__meta__` files are skipped. */
function splitKey(m: TarMember): [string | undefined, string] {
  const slash = m.name.lastIndexOf('/');
  const base = m.name.slice(slash + 1);
  if (base.startsWith('.') || base.startsWith('__')) return [undefined, ''];
  const dot = base.indexOf('.');
  if (dot < 0) return [m.name, ''];
  return [m.name.slice(0, slash + 1 + dot), base.slice(dot + 1).toLowerCase()];
}

function toSample(shard: string, key: string, group: Map<string, Uint8Array>, classes: readonly string[]): SampleRecord {
  const id = `${shard}#${key}`;
  const imageExt = IMAGE_EXTENSIONS.find((e) => group.has(e));
  if (!imageExt) throw new DataError(id, `no image member (has ${[...group.keys()].map((e) => `.${e}`).join(', ') || 'nothing'}; expected one of .${IMAGE_EXTENSIONS.join(', .')})`);
  const labelExt = LABEL_EXTENSIONS.find((e) => group.has(e));
  const label = labelExt === undefined ? -1 : parseLabel(group.get(labelExt) as Uint8Array, labelExt, classes, `${id}.${labelExt}`);
  return { input: { kind: 'encoded', bytes: group.get(imageExt) as Uint8Array }, label, id };
}

function parseLabel(bytes: Uint8Array, ext: string, classes: readonly string[], id: string): number {
  const text = new TextDecoder().decode(bytes).trim();
  let value: unknown = text;
  if (ext === 'json') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new DataError(id, `not valid JSON: ${text.slice(0, 80)}`);
    }
    if (value !== null && typeof value === 'object') value = (value as Record<string, unknown>).label ?? (value as Record<string, unknown>).cls ?? (value as Record<string, unknown>).class;
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) value = Number(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -1 || (classes.length > 0 && value >= classes.length))
      throw new DataError(id, `label ${value} is not a class index${classes.length ? ` (${classes.length} classes)` : ''}`);
    return value;
  }
  if (typeof value === 'string') {
    if (classes.length === 0) throw new DataError(id, `label is the class name '${value}', but no class list was given (pass classes)`);
    const i = classes.indexOf(value);
    if (i < 0) throw new DataError(id, `class '${value}' is not one of the ${classes.length} classes`);
    return i;
  }
  throw new DataError(id, `no label in ${JSON.stringify(value)?.slice(0, 80)} (expected a number, a class name, or {"label": …})`);
}

/** The shards in an order keyed by (seed, epoch): the same on every rank and run. */
function shuffled<T>(items: readonly T[], seed: number, epoch: number): T[] {
  return new RandomStream({ seed, purpose: 'shardShuffle', epoch }).shuffle_([...items]);
}
