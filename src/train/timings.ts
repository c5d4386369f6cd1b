// Where a training step spends its time: waiting for data, forward (with the loss), backward, the
// optimizer (unscale, clip, step, EMA, schedule) and callbacks. Host-side wall clock: on CUDA the
// work is asynchronous, so time shows up where the host first waits for the device.
export const PHASES = ['dataWait', 'forward', 'backward', 'optimizer', 'callbacks'] as const;
export type Phase = (typeof PHASES)[number];

export type PhaseTimes = Record<Phase, number>;

const zero = (): PhaseTimes => ({ dataWait: 0, forward: 0, backward: 0, optimizer: 0, callbacks: 0 });

export class Timings {
  /** Milliseconds of the last batch, by phase. */
  readonly last: PhaseTimes = zero();
  /** Milliseconds summed over every trained batch of the run, by phase. */
  readonly total: PhaseTimes = zero();
  /** Trained batches counted in `total`. */
  batches = 0;
  /** Samples counted (for images per second). */
  samples = 0;
  /** Wall-clock milliseconds of the training loops (validation excluded). */
  trainWall = 0;

  add(phase: Phase, ms: number): void {
    this.last[phase] += ms;
    this.total[phase] += ms;
  }

  startBatch(): void {
    for (const p of PHASES) this.last[p] = 0;
  }

  /** Mean milliseconds per batch by phase, and samples per second over the training loops. */
  summary(): { perBatchMs: PhaseTimes; batches: number; samplesPerSecond: number; trainSeconds: number } {
    const perBatchMs = zero();
    for (const p of PHASES) perBatchMs[p] = this.batches ? this.total[p] / this.batches : 0;
    return { perBatchMs, batches: this.batches, samplesPerSecond: this.trainWall > 0 ? (this.samples * 1000) / this.trainWall : 0, trainSeconds: this.trainWall / 1000 };
  }

  /** One line: `per batch: data 0.4 ms, forward 3.1 ms, backward 5.0 ms, optimizer 1.2 ms, callbacks 0.1 ms`. */
  format(): string {
    const s = this.summary();
    const names: Record<Phase, string> = { dataWait: 'data', forward: 'forward', backward: 'backward', optimizer: 'optimizer', callbacks: 'callbacks' };
    return `per batch: ${PHASES.map((p) => `${names[p]} ${s.perBatchMs[p].toFixed(2)} ms`).join(', ')} (${s.batches} batches, ${s.samplesPerSecond.toFixed(0)} samples/s)`;
  }
}
