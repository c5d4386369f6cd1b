// Training logs as JSONL and CSV: one row per epoch (the epoch's logs: losses, metrics, lr,
// time, throughput), and optionally one row every N batches (loss, lr). A resumed run appends to the files
// its first run wrote; a fresh run starts them anew.
import { appendFileSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { FileWriteError } from '../../io/errors.js';
import type { Callback, TrainContext } from '../events.js';

/** appendFileSync, failing with the log's path in the message (a full disk otherwise names no file). */
function append(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (e) {
    throw new FileWriteError(path, e);
  }
}

export interface LogFileOptions {
  path: string;
  /** Also write a row every N batches (`kind: 'batch'`). */
  everyNBatches?: number;
}

abstract class FileLogger implements Callback {
  abstract readonly name: string;
  readonly order = 60;
  readonly path: string;
  readonly everyNBatches: number | undefined;

  constructor(options: LogFileOptions) {
    this.path = options.path;
    this.everyNBatches = options.everyNBatches;
    if (this.everyNBatches !== undefined && !(Number.isInteger(this.everyNBatches) && this.everyNBatches > 0))
      throw new RangeError(`${new.target.name}: everyNBatches must be a positive integer, got ${this.everyNBatches}`);
  }

  beforeFit(ctx: TrainContext): void {
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      if (!ctx.resumed) writeFileSync(this.path, '');
      else closeSync(openSync(this.path, 'a'));
    } catch (e) {
      throw new FileWriteError(this.path, e);
    }
    this.start(ctx);
  }

  afterBatch(ctx: TrainContext): void {
    if (this.everyNBatches === undefined || ctx.iteration % this.everyNBatches !== 0) return;
    const row: Record<string, number | string> = { kind: 'batch', epoch: ctx.epoch, batch: ctx.batch, step: ctx.step, loss: ctx.lossValue };
    ctx.lrs.forEach((lr, i) => (row[i === 0 ? 'lr' : `lr_${i}`] = lr));
    this.write(row);
  }

  afterEpoch(ctx: TrainContext): void {
    this.write({ kind: 'epoch', ...ctx.logs });
  }

  protected start(_ctx: TrainContext): void {}
  protected abstract write(row: Record<string, number | string>): void;
}

/** One JSON object per line. Non-finite numbers are written as null (JSON has no NaN). */
export class JsonlLogger extends FileLogger {
  readonly name: string;
  constructor(options: LogFileOptions & { name?: string }) {
    super(options);
    this.name = options.name ?? 'jsonl';
  }

  protected write(row: Record<string, number | string>): void {
    append(this.path, `${JSON.stringify(row)}\n`);
  }
}

/**
 * CSV with a header. Columns: kind, epoch, batch, step, loss, the epoch keys known at the start
 * (train/val loss and metrics, lr per group, epoch_time, images_per_second) and any others first seen later, which
 * are appended in a new header line (a CSV reader sees a repeated header; JSONL has no such case).
 */
export class CsvLogger extends FileLogger {
  readonly name: string;
  #columns: string[] = [];

  constructor(options: LogFileOptions & { name?: string }) {
    super(options);
    this.name = options.name ?? 'csv';
  }

  protected override start(ctx: TrainContext): void {
    const cols = ['kind', 'epoch', 'batch', 'step', 'loss', 'train_loss'];
    for (const m of ctx.metricList) cols.push(`train_${m.name}`);
    cols.push('val_loss');
    for (const m of ctx.metricList) cols.push(`val_${m.name}`);
    ctx.lrs.forEach((_, i) => cols.push(i === 0 ? 'lr' : `lr_${i}`));
    cols.push('epoch_time', 'images_per_second');
    this.#columns = cols;
    if (!ctx.resumed) append(this.path, `${cols.join(',')}\n`);
  }

  protected write(row: Record<string, number | string>): void {
    const fresh = Object.keys(row).filter((k) => !this.#columns.includes(k));
    if (fresh.length) {
      this.#columns.push(...fresh);
      append(this.path, `${this.#columns.join(',')}\n`);
    }
    append(this.path, `${this.#columns.map((c) => cell(row[c])).join(',')}\n`);
  }
}

function cell(v: number | string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return String(v); // NaN and Infinity as text
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
