// Progress: on a terminal a live bar (cli-progress) with loss, metrics, images/s and ETA; on
// anything else (a file, a CI log) plain lines every N batches; either way one line per epoch
// with its logs, and at the end the step-time breakdown. The stream is injectable.
import { SingleBar } from 'cli-progress';

import type { Callback, TrainContext } from '../events.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Lines per epoch when the stream is not a terminal (default 10; 0: epoch lines only). */
  linesPerEpoch?: number;
  /** The bar's refresh interval in ms (default 200): the loss is read from the device at most that often. */
  refreshMs?: number;
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

/** ` accuracy 0.8123` for each metric, over the epoch's batches so far (metrics accumulate on the host). */
function metricsSoFar(ctx: TrainContext): string {
  return ctx.metricList.map((m) => ` ${m.name} ${fmt(m.compute())}`).join('');
}

export class Progress implements Callback {
  readonly name = 'progress';
  readonly order = 70;
  readonly stream: ProgressStream;
  readonly linesPerEpoch: number;
  readonly refreshMs: number;
  #bar: SingleBar | undefined;
  #epochStart = 0;
  #samples = 0;
  #batches = 0;
  #lastDraw = 0;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.linesPerEpoch = options.linesPerEpoch ?? 10;
    this.refreshMs = options.refreshMs ?? 200;
  }

  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  beforeEpoch(ctx: TrainContext): void {
    this.#epochStart = performance.now();
    this.#samples = 0;
    this.#batches = 0;
    this.#lastDraw = 0;
    if (!this.tty) return;
    this.#bar = new SingleBar({
      stream: this.stream as NodeJS.WritableStream,
      format: `epoch ${ctx.epoch + 1}/${ctx.epochs} [{bar}] {value}/{total} | loss {loss}{metrics} | {rate} img/s | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: false,
      clearOnComplete: true,
      fps: 1000 / this.refreshMs,
    });
    this.#bar.start(ctx.batchesPerEpoch ?? 0, ctx.batch, { loss: '-', metrics: '', rate: '-' });
  }

  afterBatch(ctx: TrainContext): void {
    this.#samples += ctx.batchSize;
    this.#batches += 1;
    const now = performance.now();
    const seconds = (now - this.#epochStart) / 1000;
    const rate = seconds > 0 ? this.#samples / seconds : 0;
    if (this.#bar) {
      // Reading the loss syncs with the device: only when the bar will redraw.
      if (now - this.#lastDraw < this.refreshMs && ctx.batch + 1 !== ctx.batchesPerEpoch) return this.#bar.increment(1);
      this.#lastDraw = now;
      this.#bar.update(ctx.batch + 1, { loss: fmt(ctx.lossValue), metrics: metricsSoFar(ctx), rate: rate.toFixed(0) });
      return;
    }
    const n = ctx.batchesPerEpoch;
    if (this.linesPerEpoch <= 0) return;
    const every = n ? Math.max(1, Math.ceil(n / this.linesPerEpoch)) : 50;
    if ((ctx.batch + 1) % every !== 0) return;
    const eta = n ? ` ETA ${Math.round(((n - ctx.batch - 1) * seconds) / this.#batches)}s` : '';
    this.stream.write(`epoch ${ctx.epoch + 1}/${ctx.epochs} batch ${ctx.batch + 1}${n ? `/${n}` : ''} loss ${fmt(ctx.lossValue)}${metricsSoFar(ctx)} ${rate.toFixed(0)} img/s${eta}\n`);
  }

  afterEpoch(ctx: TrainContext): void {
    this.#stopBar();
    // The position and the timing are on the line already (the bar showed the throughput).
    const skip = new Set(['epoch', 'step', 'epoch_time', 'images_per_second']);
    const parts = Object.entries(ctx.logs)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k} ${fmt(v)}`);
    const secs = ctx.logs['epoch_time'];
    this.stream.write(`epoch ${ctx.epoch + 1}/${ctx.epochs}: ${parts.join(' ')}${secs === undefined ? '' : ` (${secs.toFixed(1)} s)`}\n`);
  }

  afterFit(ctx: TrainContext): void {
    this.#stopBar();
    if (ctx.stopped) this.stream.write(`stopped: ${ctx.stopped.reason}\n`);
    if (ctx.timings.batches > 0) this.stream.write(`${ctx.timings.format()}\n`);
  }

  onError(): void {
    this.#stopBar();
  }

  #stopBar(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }
}
