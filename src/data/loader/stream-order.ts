// The order of a streaming data set's samples: a buffered shuffle (the only shuffle a stream
// allows: keep `size` records, emit a random one as each new one arrives), then a window that
// gives the records of that order by position, so the loader can treat a stream like an array it
// reads forwards: batch b is positions [bB, bB+B), bad samples are replaced from the positions
// after it, and positions the loader has finished with are released.
import type { RandomStream } from '../random.js';

/**
 * Yields `source` in a shuffled order that depends only on the source's order and `rng`. With
 * size ≤ 1 the order is unchanged. Larger buffers mix better and hold more records in memory.
 */
export async function* bufferedShuffle<T>(source: AsyncIterable<T>, size: number, rng: RandomStream): AsyncGenerator<T> {
  if (size <= 1) {
    yield* source;
    return;
  }
  const buf: T[] = [];
  for await (const x of source) {
    if (buf.length < size) {
      buf.push(x);
      continue;
    }
    const j = rng.int(0, size);
    const out = buf[j] as T;
    buf[j] = x;
    yield out;
  }
  while (buf.length > 0) {
    const j = rng.int(0, buf.length);
    const out = buf[j] as T;
    buf[j] = buf[buf.length - 1] as T;
    buf.pop();
    yield out;
  }
}

/** Random access by position over a forward-only iterator, within [released, pulled). */
export class StreamWindow<T> {
  private readonly held = new Map<number, T>();
  private pulled = 0;
  private base = 0;
  private done = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly it: AsyncIterator<T>) {}

  /** The record at `position`, or undefined when the stream ends before it. Pulls run one at a time, in order. */
  async get(position: number): Promise<T | undefined> {
    if (position < this.base) throw new Error(`StreamWindow: position ${position} was already released (window starts at ${this.base})`);
    const step = this.chain.then(async () => {
      while (!this.done && this.pulled <= position) {
        const r = await this.it.next();
        if (r.done) this.done = true;
        else {
          if (this.pulled >= this.base) this.held.set(this.pulled, r.value);
          this.pulled++;
        }
      }
    });
    this.chain = step.catch(() => {}); // a failed pull fails its caller; the next get() retries nothing but does not hang
    await step;
    return this.held.get(position);
  }

  /** Forgets every position below `before` (records below it are dropped as they arrive). */
  release(before: number): void {
    for (let p = this.base; p < Math.min(before, this.pulled); p++) this.held.delete(p);
    this.base = Math.max(this.base, before);
  }

  async close(): Promise<void> {
    this.held.clear();
    await this.it.return?.();
  }
}
