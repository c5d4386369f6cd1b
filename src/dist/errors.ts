// What goes wrong in distributed training, in a form a program (and the launcher) can act on.

/**
 * Why a distributed call failed:
 * - `config`: a bad option or environment variable (named in the message);
 * - `rendezvous`: the ranks could not meet (unreachable store, port in use, a rank never came);
 * - `peer-lost`: a rank is gone (killed, crashed, lost its network); `lostRanks` names it;
 * - `timeout`: a collective did not finish in time although every rank was alive;
 * - `mismatch`: the ranks called different collectives, or passed tensors of different dtype or shape;
 * - `failed`: anything else c10d reported (the message carries its text).
 */
export type DistErrorReason = 'config' | 'rendezvous' | 'peer-lost' | 'timeout' | 'mismatch' | 'failed';

export class DistError extends Error {
  override name = 'DistError';
  readonly reason: DistErrorReason;
  /** Ranks known to be gone (`peer-lost`) or that never joined (`rendezvous`). */
  readonly lostRanks: readonly number[];

  constructor(message: string, reason: DistErrorReason, lostRanks: readonly number[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.lostRanks = lostRanks;
  }
}

const REASONS = new Set<string>(['config', 'rendezvous', 'peer-lost', 'timeout', 'mismatch', 'failed']);

/**
 * The DistError for a native failure. The addon reports c10d failures as TorchErrors that carry
 * `reason` and `lostRanks`; argument errors and LibTorch's own checks (a non-contiguous tensor,
 * say) arrive without them and count as `failed`, keeping their message.
 */
export function toDistError(e: unknown): DistError {
  if (e instanceof DistError) return e;
  if (!(e instanceof Error)) return new DistError(String(e), 'failed');
  const fields = e as Error & { reason?: unknown; lostRanks?: unknown; op?: unknown };
  const reason = typeof fields.reason === 'string' && REASONS.has(fields.reason) ? (fields.reason as DistErrorReason) : 'failed';
  const lost = Array.isArray(fields.lostRanks) ? fields.lostRanks.filter((r): r is number => typeof r === 'number') : [];
  // Native messages start with the entry point ("dist.wait: ..."), which says nothing to a user.
  const message = typeof fields.op === 'string' && e.message.startsWith(`${fields.op}: `) ? e.message.slice(fields.op.length + 2) : e.message;
  return new DistError(message, reason, lost, { cause: e });
}
