// Checkpointing: the `last` checkpoint (every N optimizer steps and/or every epoch, in rotating
// generations last.ckpt, last.1.ckpt, ...), the best one by a monitored value (best.ckpt) and the
// top k (`epoch=003-val_accuracy=0.9123.ckpt`). Every file is a full checkpoint, resumable with
// fit({ resume }); see ../checkpoint.ts for the layout. Writes are atomic. A checkpoint with a NaN
// or an infinity anywhere (weights, buffers, optimizer state) is never written: the run fails
// there instead (failFit), and the generations on disk stay the last finite ones.
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { describeNames, NonFiniteCheckpointError, saveGeneration, writeCheckpoint, type CheckpointSnapshot } from '../checkpoint.js';
import { failFit, type Callback, type CallbackState, type Cancel, type TrainContext } from '../events.js';
import { improves, modeFor, monitored, type Mode } from './monitor.js';

export interface ModelCheckpointOptions {
  dir: string;
  /** Save `last` every N optimizer steps (at the end of the batch that made the step). */
  everyNSteps?: number;
  /** Save `last` after every epoch (default true) and when the fit ends. */
  everyEpoch?: boolean;
  /** Generations of `last` kept (default 3). */
  keep?: number;
  /** Keep the best checkpoints by this key of the epoch logs (e.g. 'val_accuracy'). */
  monitor?: string;
  /** Default: from the monitor ('min' for losses, the metric's mode otherwise). */
  mode?: Mode;
  /** How many of the best to keep as separate files (default 1; 0 keeps best.ckpt only). */
  saveTopK?: number;
  /** Called with each file written. */
  onSave?: (file: string, ctx: TrainContext) => void;
}

interface Ranked {
  file: string;
  value: number;
  epoch: number;
}

export class ModelCheckpoint implements Callback {
  readonly name = 'modelCheckpoint';
  /** Last: the checkpoint must see every other callback's work for the batch or epoch. */
  readonly order = 100;
  readonly checkpointDir: string;
  readonly everyNSteps: number | undefined;
  readonly everyEpoch: boolean;
  readonly keep: number;
  readonly monitor: string | undefined;
  readonly saveTopK: number;
  #mode: Mode | undefined;
  /** The kept top-k files, best first. */
  topK: Ranked[] = [];
  best: Ranked | undefined;

  constructor(readonly options: ModelCheckpointOptions) {
    this.checkpointDir = options.dir;
    this.everyNSteps = options.everyNSteps;
    this.everyEpoch = options.everyEpoch ?? true;
    this.keep = options.keep ?? 3;
    this.monitor = options.monitor;
    this.#mode = options.mode;
    this.saveTopK = options.saveTopK ?? 1;
    if (this.everyNSteps !== undefined && !(Number.isInteger(this.everyNSteps) && this.everyNSteps > 0))
      throw new RangeError(`ModelCheckpoint: everyNSteps must be a positive integer, got ${this.everyNSteps}`);
    mkdirSync(this.checkpointDir, { recursive: true });
  }

  beforeFit(ctx: TrainContext): void {
    if (this.monitor) this.#mode ??= modeFor(ctx, this.monitor);
  }

  afterBatch(ctx: TrainContext): Cancel | undefined {
    if (this.everyNSteps === undefined || !ctx.stepped || ctx.pendingBatches > 0 || ctx.step % this.everyNSteps !== 0) return undefined;
    return this.#saveLast(ctx);
  }

  afterEpoch(ctx: TrainContext): Cancel | undefined {
    const ranked = this.monitor ? this.#rank(ctx) : undefined;
    return ranked ?? (this.everyEpoch ? this.#saveLast(ctx) : undefined);
  }

  afterFit(ctx: TrainContext): void {
    if (!(this.everyEpoch || this.everyNSteps !== undefined)) return;
    const failed = this.#saveLast(ctx);
    // Too late to cancel anything: the fit's result says it failed.
    if (failed) ctx.stopped ??= { reason: failed.reason as string, epoch: ctx.epoch, batch: ctx.batch, step: ctx.step, failed: true };
  }

  /** Writes a checkpoint; a non-finite one is refused and fails the run. */
  #write(ctx: TrainContext, fn: (snap: CheckpointSnapshot) => string | void): Cancel | undefined {
    const snap = ctx.checkpoint();
    try {
      const file = fn(snap);
      if (file) this.options.onSave?.(file, ctx);
      return undefined;
    } catch (e) {
      if (e instanceof NonFiniteCheckpointError)
        return failFit(`non-finite values in ${describeNames(e.tensors)} at epoch ${ctx.epoch}, step ${ctx.step}: checkpoint not written`);
      throw e;
    } finally {
      snap.release?.();
    }
  }

  #saveLast(ctx: TrainContext): Cancel | undefined {
    return this.#write(ctx, (snap) => saveGeneration(this.checkpointDir, snap, { keep: this.keep }));
  }

  #rank(ctx: TrainContext): Cancel | undefined {
    const monitor = this.monitor as string;
    const mode = this.#mode ?? modeFor(ctx, monitor);
    const value = monitored(ctx, monitor, 'ModelCheckpoint');
    const isBest = this.best === undefined || improves(mode, value, this.best.value);
    const worstKept = this.topK[this.topK.length - 1];
    const entersTopK = this.saveTopK > 0 && (this.topK.length < this.saveTopK || (worstKept !== undefined && improves(mode, value, worstKept.value)));
    if (!isBest && !entersTopK) return undefined;
    const name = `epoch=${String(ctx.epoch).padStart(3, '0')}-${monitor}=${value.toPrecision(6)}.ckpt`;
    const file = join(this.checkpointDir, entersTopK ? name : 'best.ckpt');
    const failed = this.#write(ctx, (snap) => {
      writeCheckpoint(file, snap);
      return file;
    });
    if (failed) return failed;
    if (entersTopK) {
      this.topK.push({ file, value, epoch: ctx.epoch });
      this.topK.sort((a, b) => (mode === 'min' ? a.value - b.value : b.value - a.value) || a.epoch - b.epoch);
      for (const dropped of this.topK.splice(this.saveTopK)) rmSync(dropped.file, { force: true });
    }
    if (isBest) {
      this.best = { file: join(this.checkpointDir, 'best.ckpt'), value, epoch: ctx.epoch };
      if (entersTopK) {
        // best.ckpt is a copy of the top file, replaced atomically.
        const tmp = join(this.checkpointDir, '.best.incoming.ckpt');
        copyFileSync(file, tmp);
        renameSync(tmp, join(this.checkpointDir, 'best.ckpt'));
      }
      this.options.onSave?.(join(this.checkpointDir, 'best.ckpt'), ctx);
    }
    return undefined;
  }

  stateDict(): CallbackState {
    return { values: { topK: this.topK, best: this.best ?? null } };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as { topK: Ranked[]; best: Ranked | null };
    this.topK = v.topK.map((r) => ({ ...r }));
    this.best = v.best ?? undefined;
  }
}
