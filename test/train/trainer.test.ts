// The trainer's loop through a Learner: event order, cancel signals, gradient accumulation,
// clipping, mixed precision, EMA, scheduling, memory, evaluate and predict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manualSeed, memoryStats, noGrad, optim, scope, type Tensor } from '../../src/index.js';
import { callbacks, cancelBatch, cancelEpoch, cancelFit, Learner, type TrainContext } from '../../src/train/index.js';
import { ce, MemorySource, Recorder, TinyAccuracy, tinyModel } from './helpers.js';

const weights = (m: { parameters(): Tensor[] }) => m.parameters().map((p) => Array.from(p.data() as Float32Array));

describe('Learner.fit: events', () => {
  it('fires the events in order, with validation between the last batch and afterEpoch', async () => {
    manualSeed(0);
    const model = tinyModel();
    const rec = new Recorder();
    await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 16, batchSize: 8 }), val: new MemorySource({ samples: 8, seed: 2 }), epochs: 2,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0, callbacks: [rec],
    });
    const batch = (e: number, b: number) => ['beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep', 'afterBatch'].map((n) => `${n}@${e}.${b}`);
    const epoch = (e: number) => [`beforeEpoch@${e}`, ...batch(e, 0), ...batch(e, 1), `beforeValidate@${e}`, `afterValidate@${e}`, `afterEpoch@${e}`];
    assert.deepEqual(rec.log, ['beforeFit', ...epoch(0), ...epoch(1), 'afterFit']);
  });

  it('cancelBatch skips backward and the step; the batch still ends with afterBatch', async () => {
    manualSeed(0);
    const model = tinyModel();
    const rec = new Recorder('rec', (e, ctx) => (e === 'afterLoss' && ctx.batch === 1 ? cancelBatch('test') : undefined));
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 24, batchSize: 8 }), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0, callbacks: [rec],
    });
    assert.equal(r.step, 2);
    assert.equal(r.iteration, 3);
    assert.ok(!rec.log.includes('afterBackward@0.1') && !rec.log.includes('afterStep@0.1'));
    assert.ok(rec.log.includes('afterBatch@0.1') && rec.log.includes('afterStep@0.2'));
    assert.equal(r.stopped, undefined);
  });

  it('cancelEpoch ends the epoch early but still validates; the next epoch runs in full', async () => {
    manualSeed(0);
    const model = tinyModel();
    const rec = new Recorder('rec', (e, ctx) => (e === 'afterBatch' && ctx.epoch === 0 && ctx.batch === 0 ? cancelEpoch() : undefined));
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 24, batchSize: 8 }), val: new MemorySource({ samples: 8 }), epochs: 2,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0, callbacks: [rec],
    });
    assert.equal(r.iteration, 1 + 3);
    assert.equal(r.epochsCompleted, 2);
    assert.ok(rec.log.includes('afterValidate@0'));
    assert.ok(!rec.log.includes('beforeBatch@0.1'));
    assert.ok(rec.log.includes('afterBatch@1.2'));
  });

  it('cancelFit stops at once, runs afterFit and reports where and why', async () => {
    manualSeed(0);
    const model = tinyModel();
    const rec = new Recorder('rec', (e, ctx) => (e === 'afterStep' && ctx.epoch === 1 && ctx.batch === 1 ? cancelFit('enough') : undefined));
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 24, batchSize: 8 }), val: new MemorySource({ samples: 8 }), epochs: 5,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0, callbacks: [rec],
    });
    assert.deepEqual(r.stopped, { reason: 'enough', epoch: 1, batch: 1, step: 5, failed: false });
    assert.equal(r.epochsCompleted, 1);
    assert.equal(r.step, 5);
    assert.equal(rec.log.at(-1), 'afterFit');
    assert.ok(rec.log.includes('afterBatch@1.1') && !rec.log.includes('beforeBatch@1.2') && !rec.log.includes('afterValidate@1'));
  });

  it('awaits async callbacks in order and honours the signal they resolve to', async () => {
    const model = tinyModel();
    const seen: string[] = [];
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 32 }), epochs: 3, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0,
      callbacks: [
        new callbacks.GradientAccumulation(3),
        { name: 'slow', afterBatch: async (ctx: TrainContext) => { await new Promise((res) => setTimeout(res, 1)); seen.push(`slow${ctx.iteration}`); return ctx.iteration === 5 ? cancelFit('async stop') : undefined; } },
        { name: 'after', afterBatch: (ctx: TrainContext) => void seen.push(`after${ctx.iteration}`) },
      ],
    });
    assert.deepEqual(seen, ['slow1', 'after1', 'slow2', 'after2', 'slow3', 'after3', 'slow4', 'after4', 'slow5', 'after5']);
    assert.equal(r.stopped?.reason, 'async stop');
    assert.equal(r.step, 2, 'steps after batches 3 and 4 (the last of epoch 0); batch 5 was mid-group');
    assert.ok(model.parameters().every((p) => p.grad === null), 'the stopped group\'s gradients are dropped');
  });

  it('calls onError and rethrows when a callback throws', async () => {
    const model = tinyModel();
    const errors: unknown[] = [];
    await assert.rejects(
      new Learner({ model, loss: ce }).fit({
        train: new MemorySource(), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0,
        callbacks: [{ name: 'boom', afterLoss: () => { throw new Error('boom'); }, onError: (_c: TrainContext, e: unknown) => void errors.push(e) }],
      }),
      /boom/,
    );
    assert.equal(errors.length, 1);
  });

  it('refuses callbacks with the same name, and fp16 on CPU', async () => {
    const model = tinyModel();
    const base = { train: new MemorySource(), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0 };
    await assert.rejects(new Learner({ model, loss: ce }).fit({ ...base, callbacks: [new Recorder('a'), new Recorder('a')] }), /two callbacks are named 'a'/);
    assert.throws(() => new Learner({ model, loss: ce, precision: 'fp16' }), /fp16.*CUDA.*bf16/);
  });
});

describe('Learner.fit: the step', () => {
  it('gradient accumulation over 4 batches of 4 equals batches of 16', async () => {
    const run = async (batchSize: number, gradAccumulation: number) => {
      manualSeed(3);
      const model = tinyModel({ dropout: 0 });
      const opt = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
      const r = await new Learner({ model, loss: ce }).fit({
        train: new MemorySource({ samples: 64, batchSize, shuffle: false }), epochs: 2, optimizer: opt, seed: 0, callbacks: [new callbacks.GradientAccumulation(gradAccumulation)],
      });
      return { w: weights(model), steps: r.step };
    };
    const big = await run(16, 1);
    const acc = await run(4, 4);
    const plain = await run(4, 1);
    assert.equal(acc.steps, big.steps);
    assert.equal(acc.steps, 8);
    let maxDiff = 0;
    let plainDiff = 0;
    big.w.forEach((w, i) => w.forEach((v, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - (acc.w[i]?.[j] as number)));
      plainDiff = Math.max(plainDiff, Math.abs(v - (plain.w[i]?.[j] as number)));
    }));
    assert.ok(maxDiff < 1e-5, `accumulated and big-batch weights differ by ${maxDiff}`);
    assert.ok(plainDiff > 1e-3, 'without accumulation the small batches must train differently (else the test proves nothing)');
  });

  it('clips the joint gradient norm before the step and reports the norm', async () => {
    manualSeed(0);
    const model = tinyModel({ dropout: 0 });
    const before = weights(model);
    const norms: number[] = [];
    await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 8, batchSize: 8 }), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 1 }), seed: 0,
      callbacks: [new callbacks.GradientClipping(1e-3), { name: 'norm', afterStep: (ctx: TrainContext) => void norms.push(ctx.gradNorm as number) }],
    });
    const after = weights(model);
    let sq = 0;
    before.forEach((w, i) => w.forEach((v, j) => (sq += (v - (after[i]?.[j] as number)) ** 2)));
    assert.ok(norms[0] !== undefined && norms[0] > 1e-2, `the raw gradient norm should be far above the clip, got ${norms[0]}`);
    assert.ok(Math.sqrt(sq) <= 1e-3 * 1.001, `the update's norm ${Math.sqrt(sq)} should be at most lr·maxNorm = 1e-3`);
    assert.ok(Math.sqrt(sq) > 0.9e-3);
  });

  it('bf16 autocast: the forward runs in bfloat16 and the model still learns', async () => {
    manualSeed(0);
    const model = tinyModel({ dropout: 0 });
    const dtypes = new Set<string>();
    const r = await new Learner({ model, loss: ce, precision: 'bf16', metrics: [new TinyAccuracy()] }).fit({
      train: new MemorySource({ samples: 64 }), epochs: 6, optimizer: new optim.Adam(model.parameters(), { lr: 0.02 }), seed: 0,
      callbacks: [{ name: 'dtype', afterForward: (ctx: TrainContext) => void dtypes.add(ctx.output?.dtype as string) }],
    });
    assert.deepEqual([...dtypes], ['bfloat16']);
    const first = r.history[0]?.['train_loss'] as number;
    const last = r.history.at(-1)?.['train_loss'] as number;
    assert.ok(Number.isFinite(last) && last < first * 0.8, `train loss ${first} → ${last}`);
    assert.equal(model.parameters()[0]?.dtype, 'float32');
  });

  it('updates the EMA after every step and validates it on request', async () => {
    manualSeed(0);
    const model = tinyModel({ dropout: 0 });
    const ema = new optim.ModelEMA(model, { decay: 0.5 });
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 32 }), val: new MemorySource({ samples: 16, seed: 5 }), epochs: 2,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }), seed: 0, callbacks: [new callbacks.EMACallback(ema, { validate: true })],
    });
    assert.equal(ema.updates, r.step);
    assert.equal(r.step, 8);
    const e = ema.weights.get('3.weight') as Tensor;
    const m = model.stateDict().get('3.weight') as Tensor;
    const d = noGrad(() => scope(() => Number(e.sub(m).abs().max().item())));
    assert.ok(d > 1e-4, 'the EMA lags behind the weights');
    assert.ok(Number.isFinite(r.history[1]?.['ema_val_loss']) && r.history[1]?.['ema_val_loss'] !== r.history[1]?.['val_loss']);
    ema.dispose();
  });

  it('steps a per-batch schedule once per optimizer step, a per-epoch one once per epoch', async () => {
    for (const [when, expected] of [['batch', 8], ['epoch', 2]] as const) {
      const model = tinyModel();
      const opt = new optim.SGD(model.parameters(), { lr: 1 });
      const scheduler = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
      const every = when === 'batch' ? 'step' : 'epoch';
      await new Learner({ model, loss: ce }).fit({ train: new MemorySource({ samples: 32 }), epochs: 2, optimizer: opt, seed: 0, callbacks: [new callbacks.SchedulerCallback(scheduler, { every })] });
      assert.equal(opt.paramGroups[0]?.lr, 0.5 ** expected, when);
    }
  });

  it('keeps the live tensor count flat across epochs (metrics, clipping, EMA, validation)', async () => {
    manualSeed(0);
    const model = tinyModel();
    const ema = new optim.ModelEMA(model, { decay: 0.9 });
    const live: number[] = [];
    await new Learner({ model, loss: ce, metrics: [new TinyAccuracy()] }).fit({
      train: new MemorySource({ samples: 64 }), val: new MemorySource({ samples: 16 }), epochs: 6, optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), seed: 0,
      callbacks: [
        new callbacks.GradientClipping(1), new callbacks.EMACallback(ema), new callbacks.GradientAccumulation(2),
        { name: 'mem', afterEpoch: () => void live.push(memoryStats().liveTensors) },
      ],
    });
    assert.equal(new Set(live.slice(1)).size, 1, `live tensors per epoch: ${live.join(', ')}`);
    ema.dispose();
  });

  it('reports a step-time breakdown', async () => {
    const model = tinyModel();
    const r = await new Learner({ model, loss: ce }).fit({ train: new MemorySource(), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0 });
    assert.equal(r.timings.batches, 8);
    for (const k of ['forward', 'backward', 'optimizer'] as const) assert.ok(r.timings.perBatchMs[k] > 0, k);
    assert.ok(r.timings.samplesPerSecond > 0);
  });
});

describe('Learner: evaluate and predict', () => {
  it('evaluate gives the sample-weighted loss and exact metrics; predict gives probabilities and top-k', async () => {
    manualSeed(1);
    const model = tinyModel();
    const src = new MemorySource({ samples: 20, batchSize: 8, shuffle: false });
    const learner = new Learner({ model, loss: ce, metrics: [new TinyAccuracy()] });
    const ev = await learner.evaluate(src);
    const pr = await learner.predict(src, { topK: 2 });
    assert.equal(ev.samples, 20);
    assert.equal(pr.ids.length, 20);
    assert.equal(pr.numClasses, 3);
    let correct = 0;
    let nll = 0;
    for (let i = 0; i < 20; i++) {
      const p = Array.from(pr.probabilities.subarray(i * 3, i * 3 + 3));
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      const argmax = p.indexOf(Math.max(...p));
      assert.equal(pr.top.classes[i * 2], argmax);
      assert.ok((pr.top.probabilities[i * 2] as number) >= (pr.top.probabilities[i * 2 + 1] as number));
      const label = src.y[pr.indices[i] as number] as number;
      if (argmax === label) correct++;
      nll -= Math.log(p[label] as number);
    }
    assert.equal(ev.metrics['accuracy'], correct / 20);
    assert.ok(Math.abs(ev.loss - nll / 20) < 1e-5, `${ev.loss} vs ${nll / 20}`);
    assert.equal(model.training, true, 'the mode is restored');
  });
});
