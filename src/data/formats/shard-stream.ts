// The bytes of one shard, streamed: a local path (or file: URL), or an http(s) URL read with Node's
// fetch. Over the network a connection error, a 5xx/429 answer or a stalled transfer is retried
// with exponential backoff, and a retry resumes where the data stopped (a Range request; when the
// server ignores Range, the bytes already delivered are skipped), so a dropped connection neither
// loses nor repeats a sample. A stall longer than `idleTimeoutMs` counts as a dropped connection.
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { DataError } from '../types.js';

export interface ShardStreamOptions {
  /** Retries after a failure, counted from the last attempt that delivered data (default 3). */
  retries?: number;
  /** First backoff delay; doubled per attempt (default 250 ms). */
  backoffMs?: number;
  /** A transfer that delivers nothing for this long is abandoned and retried (default 30 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export function openShard(location: string, o: ShardStreamOptions = {}): AsyncGenerator<Uint8Array> {
  return isUrl(location) ? httpShard(location, o) : fileShard(location.startsWith('file:') ? fileURLToPath(location) : location, o.signal);
}

async function* fileShard(path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) yield chunk as Buffer;
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DataError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
}

async function* httpShard(url: string, o: ShardStreamOptions): AsyncGenerator<Uint8Array> {
  const retries = o.retries ?? 3;
  const backoff = o.backoffMs ?? 250;
  const idle = o.idleTimeoutMs ?? 30_000;
  let received = 0;
  let failures = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(new Error(`no data for ${idle} ms`)), idle);
    };
    const before = received;
    try {
      arm();
      const res = await fetch(url, { signal: ac.signal, headers: received > 0 ? { Range: `bytes=${received}-` } : {} });
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        const why = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (res.status >= 500 || res.status === 429) throw new Error(why);
        throw new DataError(url, why); // 4xx: retrying will not help
      }
      // Resuming: a 206 starts where we stopped; a 200 repeats the file from byte 0.
      let skip = received > 0 && res.status !== 206 ? received : 0;
      if (res.status === 206 && !new RegExp(`^bytes ${received}-`).test(res.headers.get('content-range') ?? ''))
        throw new DataError(url, `the server resumed at the wrong place (Content-Range: ${res.headers.get('content-range')}, wanted byte ${received})`);
      if (!res.body) return;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        arm();
        let c = chunk;
        if (skip > 0) {
          const drop = Math.min(skip, c.length);
          skip -= drop;
          c = c.subarray(drop);
          if (c.length === 0) continue;
        }
        received += c.length;
        yield c;
      }
      return;
    } catch (e) {
      if (e instanceof DataError) throw e;
      if (o.signal?.aborted) throw o.signal.reason;
      failures = received > before ? 1 : failures + 1; // progress resets the count
      if (failures > retries)
        throw new DataError(url, `${failures} attempts in a row failed (${received} bytes received in all): ${reason(e, ac)}`, { cause: e });
      await sleep(backoff * 2 ** (failures - 1), undefined, o.signal ? { signal: o.signal } : {});
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      ac.abort(); // releases the connection if the consumer stopped early
    }
  }
}

/** The most telling message: undici hides the socket error behind `fetch failed` / `terminated`. */
function reason(e: unknown, ac: AbortController): string {
  if (ac.signal.aborted && ac.signal.reason instanceof Error && (e as Error)?.name === 'AbortError') return ac.signal.reason.message;
  const err = e as Error & { cause?: Error };
  return err?.cause?.message ? `${err.message} (${err.cause.message})` : String(err?.message ?? e);
}
