import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';

import { keep, memoryStats, ones, persist, scope, tensor, zeros, type Tensor } from '../../src/index.js';

const live = () => memoryStats().liveTensors;

describe('memory', () => {
  it('dispose releases the native reference, and is idempotent', () => {
    const before = live();
    const t = ones([10]);
    assert.equal(live(), before + 1);
    t.dispose();
    t.dispose();
    assert.equal(t.disposed, true);
    assert.equal(live(), before);
  });

  it('using releases at the end of the block', () => {
    const before = live();
    {
      using t = zeros([3]);
      assert.equal(t.numel(), 3);
      assert.equal(live(), before + 1);
    }
    assert.equal(live(), before);
  });

  it('scope frees everything created inside except what it returns', () => {
    const before = live();
    const { a, list } = scope(() => {
      const x = ones([100]);
      const y = x.add(1).mul(2);
      y.sum();
      return { a: y, list: [x.sub(1)], n: 3 };
    });
    assert.equal(live(), before + 2);
    {
      using total = a.sum();
      assert.equal(total.item(), 400);
    }
    a.dispose();
    list[0]?.dispose();
    assert.equal(live(), before);
  });

  it('nested scopes move returned tensors to the enclosing scope', () => {
    const before = live();
    scope(() => {
      const inner = scope(() => ones([2]).add(1));
      assert.equal(inner.disposed, false);
      scope(() => inner.add(1)); // a result nobody keeps: freed with the outer scope
      assert.equal(inner.disposed, false);
    });
    assert.equal(live(), before);
  });

  it('keep() saves a tensor from its scope', () => {
    const before = live();
    let kept: Tensor | undefined;
    scope(() => {
      kept = keep(ones([4]));
      ones([4]);
    });
    assert.equal(kept?.disposed, false);
    assert.equal(live(), before + 1);
    kept?.dispose();
  });

  it('persist() takes a tensor out of every scope', () => {
    const before = live();
    let kept: Tensor | undefined;
    scope(() => {
      scope(() => {
        kept = persist(ones([4]));
      });
      assert.equal(kept?.disposed, false);
    });
    assert.equal(kept?.disposed, false);
    assert.equal(live(), before + 1);
    kept?.dispose();
  });

  it('a throwing body still frees its tensors', () => {
    const before = live();
    assert.throws(() => scope(() => {
      ones([5]);
      throw new Error('step failed');
    }), /step failed/);
    assert.equal(live(), before);
  });

  it('works across await: tensors made after an await belong to the scope', async () => {
    const before = live();
    const result = await scope(async () => {
      const a = ones([3]);
      await sleep(1);
      const b = a.add(2);
      await Promise.resolve();
      b.mul(3);
      return b;
    });
    assert.equal(live(), before + 1);
    assert.deepEqual(result.toArray(), [3, 3, 3]);
    result.dispose();
    assert.equal(live(), before);
  });

  it('interleaved async scopes keep their tensors apart', async () => {
    const before = live();
    const work = (n: number) => scope(async () => {
      const t = tensor([n], { dtype: 'float32' });
      await sleep(n);
      const u = t.mul(10);
      await sleep(1);
      return u.add(n);
    });
    const [r1, r2] = await Promise.all([work(2), work(1)]);
    assert.deepEqual(r1.toArray(), [22]);
    assert.deepEqual(r2.toArray(), [11]);
    assert.equal(live(), before + 2);
    r1.dispose();
    r2.dispose();
  });

  it('counts bytes of distinct storages (a view does not double count)', () => {
    scope(() => {
      const before = memoryStats().liveBytes;
      const t = zeros([256], { dtype: 'float32' });
      assert.equal(memoryStats().liveBytes, before + 1024);
      t.view(16, 16);
      t.reshape([4, 64]);
      assert.equal(memoryStats().liveBytes, before + 1024);
    });
  });

  it('tensors dropped outside every scope are freed by the GC: their memory is reported to it', async () => {
    const before = memoryStats().liveBytes;
    // 100 × 16 MB, never disposed: only the GC, told of the native memory, can free them.
    for (let i = 0; i < 100; i++) {
      zeros([4 << 20]);
      if (i % 10 === 9) await tick();
    }
    for (let i = 0; i < 20 && memoryStats().liveBytes - before > 400 << 20; i++) await sleep(10);
    const held = memoryStats().liveBytes - before;
    assert.ok(held <= 400 << 20, `${(held / 2 ** 20).toFixed(0)} MB of 1,600 MB of dropped tensors still held`);
  });

  it('tensors a scope frees are not reported to the GC: a loop of scoped steps runs no full collection', async () => {
    const majors: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.startTime);
    });
    obs.observe({ entryTypes: ['gc'] });
    await tick();
    majors.length = 0;
    // 50 steps making 64 MB each, freed by their scope: V8 was once told of all of it and ran a
    // full mark-compact every step (a training step's activations cost it ~10% of the step).
    for (let i = 0; i < 50; i++) scope(() => void [0, 1, 2, 3].map(() => ones([4 << 20]).add(1)));
    await sleep(50); // GC entries arrive asynchronously
    obs.disconnect();
    assert.ok(majors.length <= 2, `${majors.length} full collections during 50 scoped steps`);
  });
});
