// Dynamic batching on its own: which requests share a batch, how long they wait, what a full queue,
// a timeout, a failed batch and a drain do. The "model" here is a function of its inputs (each
// sample's sum, and the batch size it ran in) that finishes when the test lets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Batcher } from '../../src/serve/batcher.js';
import { ServeError } from '../../src/serve/errors.js';

const SAMPLE = 3;

/** A batcher over a model whose batches finish only when `release()` is called (or at once with auto). */
function harness(options: { maxBatchSize: number; maxQueueDelayMs?: number; maxQueue?: number }, auto = false) {
  const batches: number[][] = [];
  const waiting: (() => void)[] = [];
  let fail: Error | undefined;
  const batcher = new Batcher(SAMPLE, 2, { maxQueueDelayMs: 0, maxQueue: 64, ...options }, async (batch, n) => {
    const sums = Array.from({ length: n }, (_, i) => batch.subarray(i * SAMPLE, (i + 1) * SAMPLE).reduce((a, b) => a + b, 0));
    batches.push(sums);
    if (!auto) await new Promise<void>((resolve) => waiting.push(resolve));
    if (fail) throw fail;
    return { logits: Float32Array.from(sums.flatMap((s) => [s, n])), ms: 1 };
  });
  const sample = (...values: number[]) => Float32Array.from(values.flatMap((v) => [v, v, v])); // sum 3v per sample
  const release = async () => {
    await new Promise((r) => setImmediate(r));
    waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { batcher, batches, sample, release, failNext: (e: Error | undefined) => (fail = e) };
}

describe('Batcher', () => {
  it('requests that arrive during a batch share the next one, FIFO, up to maxBatchSize, and each gets its own rows', async () => {
    const { batcher, batches, sample, release } = harness({ maxBatchSize: 4 });
    const first = batcher.submit(sample(1), 1, 5000);
    const rest = [batcher.submit(sample(2, 3), 2, 5000), batcher.submit(sample(4), 1, 5000), batcher.submit(sample(5, 6), 2, 5000), batcher.submit(sample(7), 1, 5000)];
    assert.equal(batcher.queued, 6);
    await release();
    assert.deepEqual(Array.from(await first), [3, 1]);
    // [2,3] + [4] fit (3 samples); [5,6] would make 5 > 4, so the batch stops there: a request is never split.
    assert.deepEqual(batches[1], [6, 9, 12]);
    await release();
    assert.deepEqual(Array.from(await rest[0]!), [6, 3, 9, 3]);
    assert.deepEqual(Array.from(await rest[1]!), [12, 3]);
    assert.deepEqual(batches[2], [15, 18, 21]);
    await release();
    assert.deepEqual(Array.from(await rest[2]!), [15, 3, 18, 3]);
    assert.deepEqual(Array.from(await rest[3]!), [21, 3]);
    assert.equal(batcher.queued, 0);
  });

  it('maxQueueDelayMs holds a lone request for a fuller batch, and a full batch goes at once', async () => {
    const { batcher, batches } = harness({ maxBatchSize: 4, maxQueueDelayMs: 80 }, true);
    const t0 = performance.now();
    const a = batcher.submit(new Float32Array(3), 1, 5000);
    await new Promise((r) => setTimeout(r, 20));
    const b = batcher.submit(new Float32Array(3), 1, 5000);
    await Promise.all([a, b]);
    const waited = performance.now() - t0;
    assert.ok(waited >= 75, `dispatched after ${waited.toFixed(1)} ms, before the 80 ms delay`);
    assert.deepEqual(batches.map((x) => x.length), [2]);
    const t1 = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => batcher.submit(new Float32Array(3), 1, 5000)));
    assert.ok(performance.now() - t1 < 60, 'a full batch does not wait for the delay');
    assert.deepEqual(batches.map((x) => x.length), [2, 4]);
  });

  it('a full queue answers 503 at once with a Retry-After estimate, naming the queue size', async () => {
    const { batcher, sample, release } = harness({ maxBatchSize: 2, maxQueue: 3 });
    const running = batcher.submit(sample(1), 1, 5000); // in the model: not counted as queued
    const queued = [batcher.submit(sample(2, 3), 2, 5000), batcher.submit(sample(4), 1, 5000)];
    await assert.rejects(batcher.submit(sample(5), 1, 5000), (e: ServeError) => {
      assert.equal(e.statusCode, 503);
      assert.ok(e.retryAfter! >= 1);
      assert.equal(e.message, 'the queue is full (3 of 3 samples waiting); retry later');
      return true;
    });
    for (let i = 0; i < 3; i++) await release();
    await Promise.all([running, ...queued]);
  });

  it('a request that outlives its deadline is answered 503 and leaves the queue; the others are unaffected', async () => {
    const { batcher, batches, sample, release } = harness({ maxBatchSize: 4 });
    const running = batcher.submit(sample(1), 1, 5000);
    const late = batcher.submit(sample(2), 1, 30, 1000);
    const kept = batcher.submit(sample(3), 1, 5000);
    await assert.rejects(late, (e: ServeError) => e.statusCode === 503 && e.message === "no answer within 1000 ms (the server's request timeout); retry later");
    assert.equal(batcher.queued, 1);
    await release();
    await release();
    assert.deepEqual(Array.from(await kept), [9, 1]);
    assert.deepEqual(batches, [[3], [9]]);
    await running;
  });

  it('a failed batch rejects its own requests only; drain waits for everything accepted, then refuses more', async () => {
    const { batcher, sample, release, failNext } = harness({ maxBatchSize: 1 });
    failNext(new Error('boom'));
    const bad = batcher.submit(sample(1), 1, 5000);
    const badRejected = assert.rejects(bad, /boom/);
    const good = batcher.submit(sample(2), 1, 5000);
    await release();
    await badRejected;
    failNext(undefined);
    let drained = false;
    const drain = batcher.drain().then(() => (drained = true));
    await assert.rejects(batcher.submit(sample(3), 1, 5000), (e: ServeError) => e.statusCode === 503 && /shutting down/.test(e.message));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(drained, false, 'drain resolved while a request was still in the model');
    await release();
    assert.deepEqual(Array.from(await good), [6, 1]);
    await drain;
  });
});
