// The stateful side of a sampler: where in which epoch a consumer stands, so a checkpoint can
// record `{ epoch, position }` and a restarted job continue with the very next index. The
// sampler itself stays pure; the cursor only remembers how far it has been read.
import type { Sampler } from './samplers.js';

export interface SamplerState {
  epoch: number;
  /** Indices of this epoch already handed out. */
  position: number;
}

export class SamplerCursor implements Iterable<number> {
  private order: Int32Array | undefined;
  private _epoch: number;
  private _position: number;

  constructor(readonly sampler: Sampler, state: SamplerState = { epoch: 0, position: 0 }) {
    this._epoch = 0;
    this._position = 0;
    this.loadState(state);
  }

  get epoch(): number {
    return this._epoch;
  }

  get position(): number {
    return this._position;
  }

  /** Indices left in the current epoch. */
  get remaining(): number {
    return this.sampler.length - this._position;
  }

  /** Moves to the start of `epoch` (like torch's `set_epoch`). */
  setEpoch(epoch: number): void {
    this.loadState({ epoch, position: 0 });
  }

  /** The next index of the epoch, or undefined at its end. */
  next(): number | undefined {
    if (this._position >= this.sampler.length) return undefined;
    this.order ??= this.sampler.indices(this._epoch);
    return this.order[this._position++];
  }

  /** Up to `n` next indices. */
  take(n: number): Int32Array {
    this.order ??= this.sampler.indices(this._epoch);
    const end = Math.min(this.sampler.length, this._position + Math.max(0, n));
    const out = this.order.slice(this._position, end);
    this._position = end;
    return out;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = this.next(); i !== undefined; i = this.next()) yield i;
  }

  state(): SamplerState {
    return { epoch: this._epoch, position: this._position };
  }

  loadState(state: SamplerState): void {
    const { epoch, position } = state;
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`SamplerCursor: epoch must be a non-negative integer, got ${epoch}`);
    if (!Number.isSafeInteger(position) || position < 0 || position > this.sampler.length)
      throw new RangeError(`SamplerCursor: position ${position} is outside the epoch's ${this.sampler.length} indices (${this.sampler.describe()})`);
    if (epoch !== this._epoch) this.order = undefined;
    this._epoch = epoch;
    this._position = position;
  }
}
