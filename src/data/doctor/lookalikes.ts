// Groups of look-alike images, found in one pass with memory that grows with the number of groups,
// never with the number of look-alike pairs. A data set of 100,000 variations of ten pictures has
// about 500 million pairs within a few bits of each other; listing pairs cannot scale, groups can.
//
// A group is an image and every later image whose pHash is within `maxDistance` bits of it (and
// not in an earlier group): images are taken in sample order, each joins the group of the earliest
// group-starting image it looks like, or starts a group of its own. Only group-starting images are
// indexed, so a pass over near-copies touches a handful of them per image.
//
// The index is multi-index hashing (Norouzi et al., 2012): the 64 bits are cut into m bands of at
// most 22 bits; two hashes within d bits agree within ⌊d/m⌋ bits on at least one band (pigeonhole),
// so a query looks up every band key within ⌊d/m⌋ bits of its own — m·(1 + b + b(b−1)/2) lookups
// for radius 2 — in tables addressed by the key itself (one Int32Array of 2^b heads a band), and
// checks the full distance of what it finds.
import { hamming, type PHash } from './phash.js';

/** The band count m: at least 3 (bands of at most 22 bits), and enough that ⌊d/m⌋ ≤ 2. */
function bandsFor(maxDistance: number): number {
  return Math.max(3, Math.floor(maxDistance / 3) + 1);
}

/** Bits [start, start + len) of the hash, bit 0 being the hash's first (hi's top) bit. */
function bitsOf(h: PHash, start: number, len: number): number {
  let v = 0;
  for (let i = start; i < start + len; i++) v = v * 2 + (i < 32 ? (h.hi >>> (31 - i)) & 1 : (h.lo >>> (63 - i)) & 1);
  return v;
}

/** Every XOR mask of `len` bits with at most `radius` (0, 1 or 2) bits set. */
function masks(len: number, radius: number): number[] {
  const out = [0];
  if (radius >= 1) for (let i = 0; i < len; i++) out.push(2 ** i);
  if (radius >= 2) for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) out.push(2 ** i + 2 ** j);
  return out;
}

export class LookalikeIndex {
  private readonly bands: { start: number; len: number; head: Int32Array; masks: number[] }[] = [];
  // Per group g (typed arrays, grown by doubling): its first image's index, its hash, the next group
  // in the same bucket of each band, and the last query that looked at it.
  private count = 0;
  private firsts = new Int32Array(16);
  private his = new Uint32Array(16);
  private los = new Uint32Array(16);
  private next: Int32Array[];
  private stamp = new Int32Array(16);
  private query = 0;

  constructor(readonly maxDistance: number) {
    if (!(Number.isInteger(maxDistance) && maxDistance >= 0 && maxDistance <= 64)) throw new RangeError(`maxDistance must be an integer 0..64, got ${maxDistance}`);
    const m = bandsFor(maxDistance);
    const radius = Math.floor(maxDistance / m);
    for (let b = 0, start = 0; b < m; b++) {
      const len = Math.ceil((64 - start) / (m - b));
      this.bands.push({ start, len, head: new Int32Array(2 ** len).fill(-1), masks: masks(len, radius) });
      start += len;
    }
    this.next = this.bands.map(() => new Int32Array(16));
  }

  /** Groups so far. */
  get groups(): number {
    return this.count;
  }

  /**
   * Image `index` with hash `h` (indices must increase): the first image and distance of the
   * earliest group it looks like, or undefined when it starts a group of its own.
   */
  add(index: number, h: PHash): { first: number; distance: number } | undefined {
    const q = ++this.query;
    let best = -1;
    let bestDistance = 0;
    this.bands.forEach((band, b) => {
      const key = bitsOf(h, band.start, band.len);
      const next = this.next[b] as Int32Array;
      for (const mask of band.masks) {
        for (let g = band.head[key ^ mask] as number; g >= 0; g = next[g] as number) {
          if (this.stamp[g] === q) continue;
          this.stamp[g] = q;
          if (best >= 0 && g > best) continue; // groups are numbered in order: a later one cannot win
          const d = hamming(h, { hi: this.his[g] as number, lo: this.los[g] as number });
          if (d <= this.maxDistance) [best, bestDistance] = [g, d];
        }
      }
    });
    if (best >= 0) return { first: this.firsts[best] as number, distance: bestDistance };
    this.insert(index, h);
    return undefined;
  }

  private insert(index: number, h: PHash): void {
    const g = this.count++;
    if (g >= this.firsts.length) {
      const grow = <T extends Int32Array | Uint32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(2 * a.length);
        b.set(a);
        return b;
      };
      [this.firsts, this.stamp, this.his, this.los] = [grow(this.firsts), grow(this.stamp), grow(this.his), grow(this.los)];
      this.next = this.next.map(grow);
    }
    this.firsts[g] = index;
    this.his[g] = h.hi;
    this.los[g] = h.lo;
    this.bands.forEach((band, b) => {
      const key = bitsOf(h, band.start, band.len);
      (this.next[b] as Int32Array)[g] = band.head[key] as number;
      band.head[key] = g;
    });
  }
}
