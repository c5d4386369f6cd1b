// Time and concurrency limits for sample loading, without timers that outlive their work.
import { SampleTimeoutError } from './worker-pool.js';

/** `p`, or a SampleTimeoutError after `ms` (Infinity: no limit). The timer is cleared either way. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SampleTimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  p.catch(() => {}); // if the timeout wins, a later rejection of p must not be unhandled
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** At most `limit` tasks at once; waiting tasks start in arrival order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Limiter: limit must be a positive integer, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
