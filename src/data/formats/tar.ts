// Tar archives as a stream of members (tar-stream does the parsing), for WebDataset shards that are
// read front to back without unpacking. Gzipped shards (.tar.gz) are detected by their magic bytes.
// Every failure, whether a truncated download, garbage bytes, or a member too large to hold, ends the
// stream with a DataError naming the shard and the member it happened in or after; it never hangs.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

import { writeFileAtomic } from '../../io/atomic.js';
import { DataError } from '../types.js';

export interface TarMember {
  name: string;
  data: Uint8Array;
}

export interface TarReadOptions {
  /** Largest member held in memory (default 256 MiB): a header claiming more is an error. */
  maxMemberBytes?: number;
}

/**
 * The regular-file members of the tar (optionally gzipped) arriving as `chunks`, in archive order.
 * `shard` names the archive in errors. Stopping early (break) releases the source.
 */
export async function* readTar(chunks: AsyncIterable<Uint8Array>, shard: string, options: TarReadOptions = {}): AsyncGenerator<TarMember> {
  const maxMember = options.maxMemberBytes ?? 256 * 1024 ** 2;
  const tail = new TailCheck();
  const extract = tar.extract();
  const input = Readable.from(chunks, { objectMode: false });
  let last: string | undefined;
  let current: string | undefined;
  const where = (): string => (current ? `in member '${current}'` : last ? `after member '${last}'` : 'at the start');
  const fail = (why: string, cause?: unknown): DataError => new DataError(shard, `${where()}: ${why}`, { cause });
  // The feeding side: if it fails, the error reaches the iteration below through `extract`.
  let feedError: unknown;
  const feeding = (async () => {
    const first = await peek(input);
    const gz = first !== undefined && first[0] === 0x1f && first[1] === 0x8b;
    // The tail is checked after decompression: the marker is part of the tar, not of the gzip.
    const watch = (src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> => tail.watch(src);
    await (gz ? pipeline(input, createGunzip(), watch, extract) : pipeline(input, watch, extract));
  })().catch((e: unknown) => {
    feedError = e;
    extract.destroy(e as Error);
  });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      current = h.name;
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
        await once(entry, 'end');
      } else {
        const size = h.size ?? 0;
        if (size > maxMember) throw fail(`member of ${size} bytes exceeds the ${maxMember}-byte limit for one sample file`);
        const data = new Uint8Array(size);
        let filled = 0;
        for await (const c of entry as AsyncIterable<Buffer>) {
          if (filled + c.length > size) throw fail('member holds more data than its header says');
          data.set(c, filled);
          filled += c.length;
        }
        if (filled !== size) throw fail(`member ends after ${filled} of ${size} bytes (truncated)`);
        current = undefined;
        last = h.name;
        yield { name: h.name, data };
        continue;
      }
      current = undefined;
      last = h.name;
    }
    await feeding;
    if (feedError) throw feedError;
    // tar-stream accepts an archive cut exactly between members; the end-of-archive marker (two
    // zero blocks) tells a complete shard from one whose download stopped at a member boundary.
    if (!tail.endsWithZeroBlocks()) throw fail(tail.total === 0 ? 'the shard is empty' : 'the archive has no end-of-archive marker: truncated?');
  } catch (e) {
    if (e instanceof DataError) throw e;
    const cause = feedError ?? e;
    if (cause instanceof DataError) throw cause;
    throw fail(describeTarError(cause), cause);
  } finally {
    extract.destroy();
    input.destroy();
  }
}

function describeTarError(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  if (/Unexpected end of data/i.test(m)) return 'the archive ends in the middle of a member (truncated)';
  if (/Invalid tar header/i.test(m)) return 'invalid tar header: not a tar archive, or corrupt';
  if ((e as { code?: string })?.code?.startsWith('Z_')) return `corrupt gzip data: ${m}`;
  return m;
}

/** Waits for the first chunk of a paused Readable without consuming it. */
async function peek(r: Readable): Promise<Uint8Array | undefined> {
  for (;;) {
    const chunk = r.read() as Buffer | null;
    if (chunk !== null) {
      r.unshift(chunk);
      return chunk;
    }
    if (r.readableEnded || r.destroyed) return undefined;
    await Promise.race([once(r, 'readable'), once(r, 'end')]);
  }
}

/** Remembers the last 1024 bytes that went through, to check for the end-of-archive marker. */
class TailCheck {
  total = 0;
  private tail = new Uint8Array(0);
  async *watch(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of chunks) {
      this.total += c.length;
      const joined = new Uint8Array(Math.min(1024, this.tail.length + c.length));
      const fromTail = joined.length - Math.min(c.length, joined.length);
      joined.set(this.tail.subarray(this.tail.length - fromTail), 0);
      joined.set(c.subarray(c.length - (joined.length - fromTail)), fromTail);
      this.tail = joined;
      yield c;
    }
  }
  endsWithZeroBlocks(): boolean {
    return this.tail.length === 1024 && this.tail.every((b) => b === 0);
  }
}

/** One member to write: a path inside the archive and its contents. */
export interface TarEntry {
  name: string;
  data: Uint8Array | string;
}

/** A tar archive's bytes, as chunks. Times are fixed, so the same entries give the same bytes. */
export async function encodeTar(entries: Iterable<TarEntry>): Promise<Uint8Array[]> {
  const pack = tar.pack();
  const out: Uint8Array[] = [];
  const collecting = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, size: data.length, mtime: new Date(0), mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await collecting;
  return out;
}

/** Writes a tar shard atomically. */
export async function writeTar(path: string, entries: Iterable<TarEntry>): Promise<void> {
  writeFileAtomic(path, await encodeTar(entries));
}
