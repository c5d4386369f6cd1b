// The one inference pass: eval mode for the pass and the caller's mode restored afterwards (also
// when the hook throws), no autograd graph, mixed precision, every batch seen once by the hook
// with its tensors on the device, nothing left alive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ClassificationEvaluator } from '../../src/metrics/report.js';
import { evaluateInto } from '../../src/run/evaluate.js';
import type { ZooModel } from '../../src/models/registry.js';
import { autocast, manualSeed, memoryStats, noGrad, persist, scope, type Tensor } from '../../src/index.js';
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

  it('the test-time flip: each output is the float32 mean of the outputs for the batch and its mirror image', async () => {
    manualSeed(0);
    const model = tinyModel();
    const source = new MemorySource({ samples: 10, batchSize: 4, shuffle: false });
    const collect = async (flip: boolean, precision: 'bf16' | false) => {
      const outs: number[][] = [];
      const inputs: Tensor[] = [];
      await inference(model, source, (out, batch) => {
        outs.push(Array.from(out.data() as Float32Array));
        inputs.push(persist(batch.x.clone()));
        assert.equal(out.dtype, 'float32');
      }, { flip, precision });
      return { outs, inputs };
    };
    for (const precision of [false, 'bf16'] as const) {
      const { outs, inputs } = await collect(true, precision);
      model.eval();
      const expected = inputs.map((x) =>
        noGrad(() => scope(() => {
          const f = (v: Tensor) => (precision ? autocast(() => model.forward(v), { dtype: 'bfloat16' }) : model.forward(v)).float();
          return Array.from(f(x).add(f(x.flip([-1]))).mul(0.5).data() as Float32Array);
        })),
      );
      model.train();
      inputs.forEach((t) => t.dispose());
      assert.deepEqual(outs, expected, `precision ${precision}`);
      // and it is not the plain pass (the mirror image changes the outputs)
      if (!precision) {
        const plain = await collect(false, false);
        plain.inputs.forEach((t) => t.dispose());
        assert.notDeepEqual(outs, plain.outs);
      }
    }
  });

  it("the run report's test pass (evaluateInto) goes through it: the caller's mode is restored", async () => {
    manualSeed(0);
    const model = tinyModel();
    const rows = await evaluateInto(model as unknown as ZooModel, new MemorySource({ samples: 12, batchSize: 5, shuffle: false }), new ClassificationEvaluator(3));
    assert.deepEqual(rows, Array.from({ length: 12 }, (_, i) => i));
    assert.equal(model.training, true, 'evaluateInto used to leave the model in eval mode');
  });
});
