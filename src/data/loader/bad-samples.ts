// What the loader does with a sample it cannot use (a corrupt file, a decoder error, a sample that
// takes longer than the time limit): under the 'skip' policy it is reported once, counted, listed
// in `loader.badSamples` and replaced (see loader.ts for which sample replaces it); under 'fail'
// the epoch stops with an error naming it. Either way an error budget stops a run that is mostly
// failing — a wrong path or a broken pipeline should not quietly train on the few samples that
// happen to load.
import { DataError, type BadSample } from '../types.js';

/** An error's message without the id prefix a DataError carries (the report names the sample itself). */
export function errorReason(e: unknown): string {
  if (e instanceof DataError) return e.message.startsWith(`${e.id}: `) ? e.message.slice(e.id.length + 2) : e.message;
  return e instanceof Error ? e.message : String(e);
}

export interface BadSampleOptions {
  /** 'skip' (default): report and replace; 'fail': throw on the first bad sample. */
  policy?: 'skip' | 'fail';
  /** Abort after this many bad samples in a row (default 50). */
  maxConsecutive?: number;
  /** Abort when bad / attempted exceeds this share (0..1), checked once `minSamplesForRatio` samples were tried. Default: no limit. */
  maxRatio?: number;
  /** Samples tried (per epoch) before maxRatio applies, so one early failure is not 100% (default 100). */
  minSamplesForRatio?: number;
}

/** Where warnings go; default console.warn. One line per bad file. */
export interface LoaderLogger {
  warn(line: string): void;
}

/** The policy is 'fail' and a sample could not be used. */
export class BadSampleError extends Error {
  override name = 'BadSampleError';
  constructor(readonly sample: BadSample) {
    super(`bad sample ${sample.id} (index ${sample.index}): ${sample.reason}`);
  }
}

/** Too many bad samples: the error budget ran out. */
export class BadSampleBudgetError extends Error {
  override name = 'BadSampleBudgetError';
  constructor(message: string, readonly recent: readonly BadSample[]) {
    super(message);
  }
}

export class BadSampleTracker {
  readonly policy: 'skip' | 'fail';
  readonly maxConsecutive: number;
  readonly maxRatio: number;
  readonly minSamplesForRatio: number;
  /** Every distinct sample skipped so far (by id), first reason kept. */
  readonly list: BadSample[] = [];
  /** Bad occurrences in all epochs (a file that is bad every epoch counts every time). */
  occurrences = 0;

  private readonly seen = new Set<string>();
  private consecutive = 0;
  private recent: BadSample[] = [];
  private tried = 0;
  private badThisEpoch = 0;

  constructor(options: BadSampleOptions = {}, private readonly logger: LoaderLogger = console) {
    this.policy = options.policy ?? 'skip';
    this.maxConsecutive = options.maxConsecutive ?? 50;
    this.maxRatio = options.maxRatio ?? 1;
    this.minSamplesForRatio = options.minSamplesForRatio ?? 100;
    if (this.policy !== 'skip' && this.policy !== 'fail') throw new RangeError(`badSamples.policy must be 'skip' or 'fail', got ${String(this.policy)}`);
    if (!(this.maxConsecutive >= 1)) throw new RangeError(`badSamples.maxConsecutive must be at least 1, got ${this.maxConsecutive}`);
    if (!(this.maxRatio >= 0 && this.maxRatio <= 1)) throw new RangeError(`badSamples.maxRatio must be in [0, 1], got ${this.maxRatio}`);
  }

  startEpoch(): void {
    this.consecutive = 0;
    this.recent = [];
    this.tried = 0;
    this.badThisEpoch = 0;
  }

  good(): void {
    this.tried++;
    this.consecutive = 0;
    this.recent = [];
  }

  /** Records a bad sample; throws when the policy or the budget says to stop. Called in epoch order. */
  bad(sample: BadSample): void {
    if (this.policy === 'fail') throw new BadSampleError(sample);
    this.tried++;
    this.badThisEpoch++;
    this.occurrences++;
    this.consecutive++;
    this.recent.push(sample);
    if (this.recent.length > 5) this.recent.shift();
    if (!this.seen.has(sample.id)) {
      this.seen.add(sample.id);
      this.list.push(sample);
      this.logger.warn(`skipping bad sample ${sample.id} (index ${sample.index}): ${sample.reason}`);
    }
    const last = () => this.recent.map((s) => `\n  ${s.id}: ${s.reason}`).join('');
    if (this.consecutive >= this.maxConsecutive)
      throw new BadSampleBudgetError(`data loader stopped: ${this.consecutive} bad samples in a row (badSamples.maxConsecutive = ${this.maxConsecutive}); the last ones:${last()}`, this.recent.slice());
    if (this.tried >= this.minSamplesForRatio && this.badThisEpoch / this.tried > this.maxRatio)
      throw new BadSampleBudgetError(
        `data loader stopped: ${this.badThisEpoch} of ${this.tried} samples this epoch were bad (${((100 * this.badThisEpoch) / this.tried).toFixed(1)}% > badSamples.maxRatio ${(100 * this.maxRatio).toFixed(1)}%); the last ones:${last()}`,
        this.recent.slice(),
      );
  }
}
