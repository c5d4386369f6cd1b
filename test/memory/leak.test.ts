// 5,000 training steps of a small CNN written with raw ops: after warm-up the live tensor count
// is exactly constant, and native memory (RSS less V8's heap, measured after a full collection)
// grows by less than 2%.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import {
  conv2d, crossEntropyLoss, linear, manualSeed, maxPool2d, memoryStats, noGrad, randint, randn, relu, scope, zeros,
  type Tensor,
} from '../../src/index.js';

describe('memory: a raw-op training loop leaks nothing', () => {
  it('keeps live tensors constant and native memory flat over 5,000 CNN steps', () => {
    manualSeed(0);
    const params = scope(() => ({
      w1: randn([8, 1, 3, 3]).mul(0.3).requiresGrad_(),
      b1: zeros([8]).requiresGrad_(),
      w2: randn([10, 8 * 5 * 5]).mul(0.05).requiresGrad_(),
      b2: zeros([10]).requiresGrad_(),
    }));
    const x = randn([16, 1, 12, 12]);
    const y = randint(0, 10, [16]);
    const forward = (input: Tensor) => {
      const h = maxPool2d(relu(conv2d(input, params.w1, params.b1)), 2); // (B, 8, 5, 5)
      return linear(h.flatten(1), params.w2, params.b2); // (B, 10)
    };
    const step = () =>
      scope(() => {
        for (const p of Object.values(params)) p.grad = null;
        const loss = crossEntropyLoss(forward(x), y);
        loss.backward();
        noGrad(() => {
          for (const p of Object.values(params)) p.sub_(p.grad as Tensor, { alpha: 0.01 });
        });
        return loss.item() as number;
      });

    const warmup = 200;
    for (let i = 0; i < warmup; i++) step();
    const liveAfterWarmup = memoryStats().liveTensors;
    const bytesAfterWarmup = memoryStats().liveBytes;
    // V8's heap grows and shrinks with the collector's schedule, and the pages it gives back do not
    // all leave the RSS at once: without a full collection first, RSS − heap moved by 7% with the
    // machine's load alone. After one, a native leak is what is left.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const native = () => {
      gc();
      const m = process.memoryUsage();
      return m.rss - m.heapTotal;
    };
    const nativeAfterWarmup = native();
    let firstLoss = NaN;
    let lastLoss = NaN;
    for (let i = 0; i < 5000; i++) {
      const l = step();
      if (i === 0) firstLoss = l;
      lastLoss = l;
      if (i % 500 === 0) assert.equal(memoryStats().liveTensors, liveAfterWarmup, `live tensors changed at step ${i}`);
    }
    const nativeNow = native();
    assert.equal(memoryStats().liveTensors, liveAfterWarmup);
    assert.equal(memoryStats().liveBytes, bytesAfterWarmup);
    const growth = (nativeNow - nativeAfterWarmup) / nativeAfterWarmup;
    assert.ok(growth < 0.02, `native memory (RSS − V8 heap) grew ${(growth * 100).toFixed(1)}% (${nativeAfterWarmup} → ${nativeNow})`);
    assert.ok(lastLoss < firstLoss, `the loop should still learn: ${firstLoss} → ${lastLoss}`);
    for (const t of [...Object.values(params), x, y]) t.dispose();
  });
});
