// Writing Tessera's packed format (see packed-index.ts). Samples are appended to the current shard
// in memory; a full shard is written atomically and the next begins. index.json is written last,
// so a pack that crashes midway leaves a directory without an index, never an index that points
// at missing data. Choosing and producing the bytes (decode, resize, JPEG-encode) is the packer's
// job: the writer takes raw pixels, JPEG bytes, or both and then picks by size.
import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../../io/atomic.js';
import { DataError, type RawImage } from '../types.js';
import { PACKED_FORMAT, PACKED_INDEX, PACKED_VERSION, shardFileName, type PackedIndex } from './packed-index.js';

export interface PackedWriterOptions {
  classes: readonly string[];
  /** A shard is closed once adding a sample would take it past this size (default 256 MiB). */
  shardBytes?: number;
  /** Given both forms, images of at most this many pixels are stored raw (default 64×64). */
  rawMaxPixels?: number;
  /** Replace an existing pack in `dir` (default: refuse). */
  overwrite?: boolean;
}

export interface PackedSample {
  image?: RawImage;
  /** The image as a JPEG file; its size is read from the JPEG header when `image` is absent. */
  jpeg?: Uint8Array;
  /** Class index, or -1 for none. */
  label: number;
  id: string;
}

export class PackedWriter {
  private readonly shardBytes: number;
  private readonly rawMaxPixels: number;
  private readonly cols: PackedIndex['samples'] = { shard: [], offset: [], length: [], width: [], height: [], channels: [], encoding: [], label: [], id: [] };
  private readonly shards: PackedIndex['shards'] = [];
  private chunks: Uint8Array[] = [];
  private used = 0;
  private finished = false;

  constructor(readonly dir: string, private readonly options: PackedWriterOptions) {
    this.shardBytes = options.shardBytes ?? 256 * 1024 ** 2;
    this.rawMaxPixels = options.rawMaxPixels ?? 64 * 64;
    mkdirSync(dir, { recursive: true });
    if (!options.overwrite && existsSync(join(dir, PACKED_INDEX)))
      throw new DataError(dir, 'already holds a packed data set (pass overwrite to replace it)');
  }

  get count(): number {
    return this.cols.id.length;
  }

  add(sample: PackedSample): void {
    if (this.finished) throw new Error(`PackedWriter for ${this.dir}: add() after finish()`);
    const { image, jpeg, label, id } = sample;
    if (!Number.isInteger(label) || label < -1 || label >= this.options.classes.length)
      throw new DataError(id, `label ${label} is not a class index (${this.options.classes.length} classes, or -1)`);
    let bytes: Uint8Array;
    let dims: { width: number; height: number; channels: 1 | 3 };
    const raw = image !== undefined && (!jpeg || image.width * image.height <= this.rawMaxPixels);
    if (raw && image) {
      const { width, height, channels, data } = image;
      if (!(channels === 1 || channels === 3) || !(width > 0 && height > 0) || data.length !== width * height * channels)
        throw new DataError(id, `image data holds ${data.length} bytes, not ${width}×${height}×${channels}`);
      bytes = data;
      dims = { width, height, channels };
    } else if (jpeg) {
      bytes = jpeg;
      dims = image ? { width: image.width, height: image.height, channels: image.channels } : jpegSize(jpeg, id);
    } else {
      throw new DataError(id, 'a packed sample needs image pixels or JPEG bytes');
    }
    if (this.used > 0 && this.used + bytes.length > this.shardBytes) this.flush();
    const c = this.cols;
    c.shard.push(this.shards.length);
    c.offset.push(this.used);
    c.length.push(bytes.length);
    c.width.push(dims.width);
    c.height.push(dims.height);
    c.channels.push(dims.channels);
    c.encoding.push(raw ? 'raw' : 'jpeg');
    c.label.push(label);
    c.id.push(id);
    this.chunks.push(bytes.slice()); // the caller may reuse its buffer
    this.used += bytes.length;
  }

  /** Writes the last shard and index.json; returns the index. */
  finish(): PackedIndex {
    if (this.finished) throw new Error(`PackedWriter for ${this.dir}: finish() called twice`);
    if (this.used > 0 || this.shards.length === 0) this.flush();
    this.finished = true;
    const index: PackedIndex = {
      format: PACKED_FORMAT, version: PACKED_VERSION, classes: [...this.options.classes],
      count: this.count, shards: this.shards, samples: this.cols,
    };
    writeFileAtomic(join(this.dir, PACKED_INDEX), [new TextEncoder().encode(JSON.stringify(index))]);
    // Shards of an older, larger pack that the new index no longer names.
    const current = new Set(this.shards.map((s) => s.file));
    for (const f of readdirSync(this.dir)) if (/^shard-\d{5,}\.bin$/.test(f) && !current.has(f)) unlinkSync(join(this.dir, f));
    return index;
  }

  private flush(): void {
    const file = shardFileName(this.shards.length);
    writeFileAtomic(join(this.dir, file), this.chunks);
    this.shards.push({ file, bytes: this.used });
    this.chunks = [];
    this.used = 0;
  }
}

/** Width, height and channels from a JPEG's start-of-frame marker. */
export function jpegSize(b: Uint8Array, id: string): { width: number; height: number; channels: 1 | 3 } {
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new DataError(id, 'not a JPEG file (no FFD8 start marker)');
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw new DataError(id, `damaged JPEG: no marker at byte ${p}`);
    const marker = b[p + 1] as number;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    const len = ((b[p + 2] as number) << 8) | (b[p + 3] as number);
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (p + 10 > b.length) break;
      const height = ((b[p + 5] as number) << 8) | (b[p + 6] as number);
      const width = ((b[p + 7] as number) << 8) | (b[p + 8] as number);
      const components = b[p + 9] as number;
      if (!width || !height) throw new DataError(id, `JPEG frame has size ${width}×${height}`);
      // Decoding gives grey for one component and RGB for three (YCbCr) or four (CMYK).
      return { width, height, channels: components === 1 ? 1 : 3 };
    }
    p += 2 + len;
  }
  throw new DataError(id, 'JPEG has no frame header (truncated?)');
}
