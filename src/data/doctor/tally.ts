// The doctor's running totals. Every inspected file is added once, in sample order, and only what
// the report needs is kept: counts, a few small columns per file (its id, split, SHA-256, size, and
// which earlier file it duplicates or looks like), and the report's lists, each capped at
// `maxListed` entries (groups list at most GROUP_FILES files) with counts of what was left out —
// so a check of a million files stays within a few hundred megabytes, whatever the files hold.
//
// Exact duplicates: files with the same SHA-256 as an earlier one join its group. Look-alikes:
// files whose bytes differ but whose pHash is within `nearDistance` of a group's first image join
// that group (lookalikes.ts). Leakage: a member of either kind of group whose split differs from
// its group's first file's.
import type { FileFacts, Trait } from './inspect.js';
import { SEVERITY, TRAITS } from './inspect.js';
import { LookalikeIndex } from './lookalikes.js';
import type { DoctorReport, FileProblem, FileRef, Stat } from './report.js';

/** Files a listed group shows (its `count` says how many it has). */
export const GROUP_FILES = 20;

/** A sample as the doctor names it. */
export interface Item extends FileRef {
  /** Position in its part. */
  index: number;
  label: number;
  classes: readonly string[];
}

/** A growable typed column. */
class Column<T extends Int32Array | Uint8Array> {
  length = 0;
  constructor(private data: T, private readonly width = 1) {}
  push(...values: number[]): void {
    if ((this.length + 1) * this.width > this.data.length) {
      const grown = new (this.data.constructor as new (n: number) => T)(Math.max(1024, 2 * this.data.length));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(values, this.length * this.width);
    this.length++;
  }
  at(i: number): number {
    return this.data[i * this.width] as number;
  }
  row(i: number): T {
    return this.data.subarray(i * this.width, (i + 1) * this.width) as T;
  }
}

function stat(values: Int32Array): Stat {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  let sum = 0;
  for (const v of s) sum += v;
  return { min: s[0] as number, median, mean: Math.round((sum / s.length) * 100) / 100, max: s[s.length - 1] as number };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The first file of each content: an open-addressing hash table over the SHA-256 column (8 bytes a
 * file at most half full), where a Map would take ten times that.
 */
class ContentIndex {
  private slots = new Int32Array(1024).fill(-1);
  private used = 0;

  constructor(private readonly sha: Column<Uint8Array>) {}

  /** The first earlier file with the same digest as file k (already in the column), or −1 (k is then remembered). */
  firstOf(k: number): number {
    if (2 * (this.used + 1) > this.slots.length) this.grow();
    const digest = this.sha.row(k);
    for (let i = this.home(digest); ; i = (i + 1) & (this.slots.length - 1)) {
      const f = this.slots[i] as number;
      if (f < 0) {
        this.slots[i] = k;
        this.used++;
        return -1;
      }
      if (Buffer.compare(this.sha.row(f), digest) === 0) return f;
    }
  }

  private home(digest: Uint8Array): number {
    return ((digest[0] as number) | ((digest[1] as number) << 8) | ((digest[2] as number) << 16) | ((digest[3] as number) << 24)) & (this.slots.length - 1);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * old.length).fill(-1);
    for (const f of old) {
      if (f < 0) continue;
      let i = this.home(this.sha.row(f));
      while ((this.slots[i] as number) >= 0) i = (i + 1) & (this.slots.length - 1);
      this.slots[i] = f;
    }
  }
}

export class Tally {
  files = 0;
  bytes = 0;
  errors = 0;
  warnings = 0;
  readonly problems: FileProblem[] = [];
  readonly formats: Record<string, number> = {};
  readonly traits = Object.fromEntries(TRAITS.map((t) => [t, { count: 0, examples: [] as string[] }])) as DoctorReport['traits'];
  private readonly ids: string[] = [];
  private readonly splits = new Column(new Uint8Array(1024));
  private readonly splitNames: string[] = [];
  private readonly splitCounts = new Map<string, { files: number; classCounts: Record<string, number> }>();
  private readonly classCounts: number[];
  private readonly widths = new Column(new Int32Array(1024));
  private readonly heights = new Column(new Int32Array(1024));
  private readonly sizeCounts = new Map<number, number>();
  private readonly sha = new Column(new Uint8Array(32 * 1024), 32);
  private readonly byContent = new ContentIndex(this.sha);
  /** Per file: the earlier file it is a copy of / looks like (−1: none), and its pHash distance to it. */
  private readonly copyOf = new Column(new Int32Array(1024));
  private readonly lookalikeOf = new Column(new Int32Array(1024));
  private readonly distance = new Column(new Uint8Array(1024));
  private readonly lookalikes: LookalikeIndex;

  constructor(private readonly o: { nearDistance: number; maxListed: number; classNames: readonly string[] }) {
    this.lookalikes = new LookalikeIndex(o.nearDistance);
    this.classCounts = o.classNames.map(() => 0);
  }

  /** Adds the next file (in sample order); `inMain`: it belongs to the main source (class counts). */
  add(item: Item, f: FileFacts, inMain: boolean): void {
    const k = this.files++;
    this.ids.push(item.id);
    this.bytes += f.bytes;
    const ref: FileRef = item.split === undefined ? { id: item.id } : { id: item.id, split: item.split };
    for (const issue of f.issues) {
      const severity = SEVERITY[issue.code];
      if (severity === 'error') this.errors++;
      else this.warnings++;
      if (this.problems.length < this.o.maxListed) this.problems.push({ ...ref, index: item.index, code: issue.code, severity, message: issue.message });
    }
    if (f.format !== undefined) this.formats[f.format] = (this.formats[f.format] ?? 0) + 1;
    for (const t of f.traits as Trait[]) {
      this.traits[t].count++;
      if (this.traits[t].examples.length < 5) this.traits[t].examples.push(item.id);
    }
    if (f.width !== undefined && f.height !== undefined && f.phash !== undefined) {
      this.widths.push(f.width);
      this.heights.push(f.height);
      const key = f.width * 2 ** 26 + f.height;
      this.sizeCounts.set(key, (this.sizeCounts.get(key) ?? 0) + 1);
    }
    // Splits and classes.
    let s = item.split === undefined ? 255 : this.splitNames.indexOf(item.split);
    if (s < 0) s = this.splitNames.push(item.split as string) - 1;
    this.splits.push(s);
    if (inMain && item.label >= 0 && item.label < this.classCounts.length) this.classCounts[item.label] = (this.classCounts[item.label] as number) + 1;
    if (item.split !== undefined) {
      const c = this.splitCounts.get(item.split) ?? { files: 0, classCounts: {} };
      this.splitCounts.set(item.split, c);
      c.files++;
      const name = item.classes[item.label] ?? '(unlabelled)';
      c.classCounts[name] = (c.classCounts[name] ?? 0) + 1;
    }
    // Duplicates: same bytes as an earlier file, else a look-alike of an earlier group's first.
    let copy = -1;
    if (f.sha256 !== undefined) {
      this.sha.push(...Buffer.from(f.sha256, 'hex'));
      copy = this.byContent.firstOf(k);
    } else this.sha.push(...new Uint8Array(32));
    this.copyOf.push(copy);
    const like = copy < 0 && f.phash !== undefined ? this.lookalikes.add(k, f.phash) : undefined;
    this.lookalikeOf.push(like ? like.first : -1);
    this.distance.push(like ? like.distance : 0);
  }

  private ref(k: number): FileRef {
    const s = this.splits.at(k);
    return s === 255 ? { id: this.ids[k] as string } : { id: this.ids[k] as string, split: this.splitNames[s] as string };
  }

  /** Groups of `of` (exact copies or look-alikes), in the order their second file comes, capped; and leakage pairs. */
  private groups(of: Column<Int32Array>): { groups: { first: number; count: number; members: number[] }[]; total: number; members: number; leaks: [number, number][]; leakTotal: number } {
    const listed = new Map<number, { first: number; count: number; members: number[] }>();
    const counted = new Set<number>();
    let members = 0;
    const leaks: [number, number][] = [];
    let leakTotal = 0;
    for (let k = 0; k < of.length; k++) {
      const first = of.at(k);
      if (first < 0) continue;
      members++;
      let g = listed.get(first);
      if (!g && !counted.has(first) && listed.size < this.o.maxListed) listed.set(first, (g = { first, count: 1, members: [] }));
      counted.add(first);
      if (g) {
        g.count++;
        if (g.members.length < GROUP_FILES - 1) g.members.push(k);
      }
      if (this.splits.at(k) !== this.splits.at(first) && this.splits.at(k) !== 255 && this.splits.at(first) !== 255) {
        leakTotal++;
        if (leaks.length < this.o.maxListed) leaks.push([first, k]);
      }
    }
    return { groups: [...listed.values()], total: counted.size, members, leaks, leakTotal };
  }

  /** The report's data part (the caller adds source, options and issues). */
  summary() {
    const exact = this.groups(this.copyOf);
    const near = this.groups(this.lookalikeOf);
    const common = [...this.sizeCounts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 5)
      .map(([key, count]) => ({ width: Math.floor(key / 2 ** 26), height: key % 2 ** 26, count }));
    const widths = Int32Array.from({ length: this.widths.length }, (_, i) => this.widths.at(i));
    const heights = Int32Array.from({ length: this.heights.length }, (_, i) => this.heights.at(i));
    const leakage: DoctorReport['leakage'] = [
      ...exact.leaks.map(([a, b]) => ({ kind: 'exact' as const, a: this.ref(a), b: this.ref(b), distance: 0 })),
      ...near.leaks.map(([a, b]) => ({ kind: 'near' as const, a: this.ref(a), b: this.ref(b), distance: this.distance.at(b) })),
    ].slice(0, this.o.maxListed);
    return {
      classCounts: this.classCounts,
      splits: [...this.splitCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, s]) => ({ name, ...s })),
      sizes: widths.length === 0 ? null : { width: stat(widths), height: stat(heights), common },
      exact: { groups: exact.total, copies: exact.members },
      near: { groups: near.total, members: near.members },
      duplicates: {
        exact: exact.groups.map((g) => ({ sha256: hex(this.sha.row(g.first)), count: g.count, files: [g.first, ...g.members].map((k) => this.ref(k)) })),
        near: near.groups.map((g) => ({ count: g.count, files: [g.first, ...g.members].map((k) => this.ref(k)), distances: [0, ...g.members.map((k) => this.distance.at(k))] })),
      },
      leakage,
      leakageTotal: exact.leakTotal + near.leakTotal,
      omitted: {
        problems: this.errors + this.warnings - this.problems.length,
        exactGroups: exact.total - exact.groups.length,
        nearGroups: near.total - near.groups.length,
        leakage: exact.leakTotal + near.leakTotal - leakage.length,
      },
    };
  }
}
