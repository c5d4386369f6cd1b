// Collectives of JSON values, as PyTorch's all_gather_object and broadcast_object_list: what
// ranks exchange that is not a tensor — a run's config (to refuse ranks started with different
// ones), the run directory rank 0 chose, the bad samples each rank skipped. A value travels as
// its JSON text in a uint8 tensor; the lengths go first, since Gloo needs equal sizes on every rank.
import { tensor } from '../tensor/factories.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { DistError } from './errors.js';
import { defaultGroup, type ProcessGroup } from './group.js';

function encode(value: unknown, who: string): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new DistError(`${who}: the value has no JSON form (${typeof value})`, 'config');
  return new TextEncoder().encode(text);
}

function decode<T>(t: Tensor, length: number): T {
  const bytes = (t.data() as Uint8Array).subarray(0, length);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/** Every rank's `value` (anything JSON can hold), in rank order, on every rank. */
export function allGatherObject<T>(value: T, group: ProcessGroup = defaultGroup()): Promise<T[]> {
  const bytes = encode(value, 'allGatherObject');
  return scope(async () => {
    const lengths = (await group.allGather(tensor([bytes.length], { dtype: 'int64' }))).map((t) => Number(t.item()));
    const padded = new Uint8Array(Math.max(...lengths));
    padded.set(bytes);
    const all = await group.allGather(tensor(padded));
    return all.map((t, r) => decode<T>(t, lengths[r] as number));
  });
}

/** Rank `src`'s `value` (default rank 0), on every rank; the other ranks' `value` is not read. */
export function broadcastObject<T>(value: T, options: { src?: number; group?: ProcessGroup } = {}): Promise<T> {
  const group = options.group ?? defaultGroup();
  const src = options.src ?? 0;
  const mine = group.rank === src ? encode(value, 'broadcastObject') : undefined;
  return scope(async () => {
    const length = tensor([mine?.length ?? 0], { dtype: 'int64' });
    await group.broadcast(length, { src });
    const n = Number(length.item());
    const bytes = tensor(mine ?? new Uint8Array(n));
    await group.broadcast(bytes, { src });
    return decode<T>(bytes, n);
  });
}
