// A training source whose epochs end at the same batch on every rank. Data-parallel ranks must
// make the same collectives in the same order: a rank whose shard yields one batch fewer than the
// others' (a stream split unevenly over the ranks, a batch all of whose samples were bad) would
// otherwise leave them waiting in their gradient all-reduce until the collective timeout. So
// before handing out each batch the ranks agree, with one all-reduce (min) of one number, that
// every one of them has it; when the first rank runs out, the epoch ends there for all, and the
// batches the others still had are dropped (torch's DistributedSampler with drop_last does the
// same to a data set, ahead of time). Indexed data split by DistributedSampler gives every rank the
// same batch count, so there nothing is ever dropped and the check only costs the all-reduce.
import type { Batch, BatchSource } from '../data/types.js';
import { disposeBatch } from '../data/types.js';
import { tensor } from '../tensor/factories.js';
import type { ProcessGroup } from './group.js';

export class LockstepSource implements BatchSource {
  constructor(
    readonly inner: BatchSource,
    readonly group: ProcessGroup,
  ) {}

  get classes(): readonly string[] {
    return this.inner.classes;
  }

  get batchesPerEpoch(): number | undefined {
    return this.inner.batchesPerEpoch;
  }

  /** The inner source's seed, where it has one (checkpoints record it). */
  get seed(): number | undefined {
    const seed = (this.inner as { seed?: unknown }).seed;
    return typeof seed === 'number' ? seed : undefined;
  }

  epoch(epoch: number, options: { skipBatches?: number; signal?: AbortSignal } = {}): AsyncIterable<Batch> {
    const { inner, group } = this;
    return {
      async *[Symbol.asyncIterator]() {
        const it = inner.epoch(epoch, options)[Symbol.asyncIterator]();
        let exhausted = false;
        try {
          for (;;) {
            const next = await it.next();
            exhausted = next.done === true;
            const flag = tensor([exhausted ? 0 : 1], { dtype: 'int64' });
            let everyRank: boolean;
            try {
              await group.allReduce(flag, { op: 'min' });
              everyRank = Number(flag.item()) === 1;
            } catch (e) {
              if (!next.done) disposeBatch(next.value);
              throw e;
            } finally {
              flag.dispose();
            }
            if (!everyRank) {
              if (!next.done) disposeBatch(next.value);
              return;
            }
            yield next.value as Batch;
          }
        } finally {
          // Ended early (here, or by the consumer): let the inner source stop producing.
          if (!exhausted) await it.return?.();
        }
      },
    };
  }
}
