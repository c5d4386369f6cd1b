// Time and concurrency limits for sample loading.
//
// Time limits count a sample's own work, never the consumer's. The loader's consumer (a training step's
// forward and backward) may block this thread for seconds; meanwhile a sample's work finishes on the
// thread pool or in a worker, but the news waits in the event loop behind the expired timer. A plain
// timer would then call a good sample bad — whether a sample is bad would depend on how slow the model
// is (issue #10: 31 of 540 good JPEGs skipped). So a deadline runs on a clock that stops while this
// thread is blocked: a ticker notes every gap in the event loop, and an expired timer first asks how
// much unblocked time really passed, and waits out the rest. Workers run independently, so their work
// is not slowed by the block — at worst a stuck one is noticed a block later.

/** A sample ran past its time limit. */
export class SampleTimeoutError extends Error {
  override name = 'SampleTimeoutError';
}

/** How often the ticker looks; blocks are measured to about this resolution. */
const TICK_MS = 25;

/**
 * Milliseconds during which this thread's event loop was free to run callbacks: wall time less every
 * gap between ticks beyond TICK_MS. It only runs (and only ticks) while some deadline needs it.
 */
class FreeClock {
  private blocked = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;

  acquire(): void {
    if (this.users++ > 0) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS).unref();
  }

  release(): void {
    if (--this.users > 0) return;
    clearInterval(this.timer);
    this.tick();
    this.timer = undefined;
  }

  /** Free time so far. A block still in progress (the ticker has not run since) counts as blocked. */
  now(): number {
    const t = performance.now();
    return t - this.blocked - Math.max(0, t - this.last - TICK_MS);
  }

  private tick(): void {
    const t = performance.now();
    this.blocked += Math.max(0, t - this.last - TICK_MS);
    this.last = t;
  }
}

const clock = new FreeClock();

/**
 * Calls `onExpire` once `ms` of free event-loop time (see above) have passed, unless cancelled first.
 * `ms` = Infinity never expires.
 */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private readonly end: number;
  private done = false;

  constructor(readonly ms: number, private readonly onExpire: () => void) {
    if (!Number.isFinite(ms)) {
      this.end = Infinity;
      this.done = true;
      return;
    }
    clock.acquire();
    this.end = clock.now() + ms;
    this.arm(ms);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    clock.release();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const left = this.end - clock.now();
      // The timer ran late because the loop was blocked: the work may have finished meanwhile, its
      // completion queued behind this timer. Wait out the free time still owed; it comes first.
      if (left > 1) return this.arm(left);
      this.cancel();
      this.onExpire();
    }, ms);
  }
}

/** `p`, or a SampleTimeoutError after `ms` of free time (Infinity: no limit). The deadline is cancelled either way. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  let deadline: Deadline | undefined;
  const timeout = new Promise<never>((_, reject) => {
    deadline = new Deadline(ms, () => reject(new SampleTimeoutError(`${what} took longer than ${ms} ms`)));
  });
  p.catch(() => {}); // if the timeout wins, a later rejection of p must not be unhandled
  return Promise.race([p, timeout]).finally(() => deadline?.cancel());
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
