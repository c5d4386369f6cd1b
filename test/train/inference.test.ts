// The one inference pass: eval mode for the pass and the caller's mode restored afterwards (also
// when the hook throws), no autograd graph, mixed precision, every batch seen once by the hook
// with its tensors on the device, nothing left alive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ClassificationEvaluator } from '../../src/metrics/report.js';
import { evaluateInto } from '../../src/run/evaluate.js';
import type { ZooModel } from '../../src/models/registry.js';
import { manualSeed, memoryStats } from '../../src/index.js';
import { inference } from '../../src/train/index.js';
import { MemorySource, tinyModel } from './helpers.js';

describe('inference', () => {
  it('runs in eval mode without gradients, hands each batch to the hook on the device, and restores the mode', async () => {
    manualSeed(0);
    const model = tinyModel();
    const seen: { training: boolean; grad: boolean; rows: number; device: string; dtype: string }[] = [];
    const n = await inference(model, new MemorySource({ samples: 20, batchSize: 8 }), (out, batch) => {
      seen.push({ training: model.training, grad: out.requiresGrad, rows: out.shape[0] as number, device: batch.x.device, dtype: out.dtype });
    }, { precision: 'bf16' });
    assert.equal(n, 20);
    assert.deepEqual(seen.map((s) => s.rows), [8, 8, 4]);
    assert.ok(seen.every((s) => !s.training && !s.grad && s.device === 'cpu' && s.dtype === 'bfloat16'), JSON.stringify(seen));
    assert.equal(model.training, true, 'train mode restored');
    model.eval();
    await inference(model, new MemorySource({ samples: 8 }), () => {});
    assert.equal(model.training, false, 'eval mode kept');
  });

  it('a hook that throws still restores the mode and frees the batch', async () => {
    const model = tinyModel();
    const before = memoryStats().liveTensors;
    await assert.rejects(inference(model, new MemorySource({ samples: 16 }), () => { throw new Error('hook failed'); }), /hook failed/);
    assert.equal(model.training, true);
    assert.equal(memoryStats().liveTensors, before);
  });

  it("the run report's test pass (evaluateInto) goes through it: the caller's mode is restored", async () => {
    manualSeed(0);
    const model = tinyModel();
    const rows = await evaluateInto(model as unknown as ZooModel, new MemorySource({ samples: 12, batchSize: 5, shuffle: false }), new ClassificationEvaluator(3));
    assert.deepEqual(rows, Array.from({ length: 12 }, (_, i) => i));
    assert.equal(model.training, true, 'evaluateInto used to leave the model in eval mode');
  });
});
