// Pluggable training steps: a GAN's alternating updates with two optimizers and two schedules,
// resumed exactly; the hook between backward and the optimizer step where a distributed run
// all-reduces gradients; and the rules a custom step lives by.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { manualSeed, nn, noGrad, optim, scope, type Tensor } from '../../src/index.js';
import { callbacks, cancelStep, Learner, type Callback, type StepTools, type TrainContext, type TrainStep } from '../../src/train/index.js';
import { ganRun } from './fixtures/gan.js';
import { ce, MemorySource, tinyModel } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-step-'));
const crashAt = (n: number): Callback => ({
  name: 'crash',
  order: 1000,
  afterBatch: (ctx) => {
    if (ctx.stepped && ctx.step === n) throw new Error(`simulated crash at step ${n}`);
  },
});

describe('a GAN step: two models, two optimizers, alternating updates', () => {
  it('steps each optimizer on its own schedule, and each LR schedule follows its own optimizer', async () => {
    const { result, step, hashes } = await ganRun({ dir: tmp() });
    assert.deepEqual(step.steps, { discriminator: 24, generator: 12 }, 'the discriminator on all 24 batches, the generator on every other one');
    assert.equal(result.step, 24, 'ctx.step counts the batches in which an optimizer stepped');
    const groups = (name: string) => JSON.parse(hashes[`${name}/groups`] as string) as { lr: number }[];
    assert.ok(Math.abs((groups('discriminator')[0]?.lr as number) - 0.01 * 0.95 ** 24) < 1e-12);
    assert.ok(Math.abs((groups('generator')[0]?.lr as number) - 0.02 * 0.9 ** 12) < 1e-12);
    assert.equal(result.history.length, 3);
    for (const row of result.history) assert.ok(Number.isFinite(row['train_loss']), 'the generator loss is the logged loss');
  });

  it('a crash mid-epoch, then resume: both models, both optimizers, both schedules and the history end bit-identical', async () => {
    const reference = await ganRun({ dir: tmp() });
    const dir = tmp();
    await assert.rejects(ganRun({ dir, extraCallbacks: [crashAt(10)] }), /simulated crash at step 10/);
    const resumed = await ganRun({ dir, resume: true });
    assert.equal(resumed.result.resumedFrom, join(dir, 'last.ckpt'), 'from the checkpoint of step 9, in epoch 1');
    assert.deepEqual(resumed.hashes, reference.hashes);
    assert.equal(resumed.result.history.length, 3, 'the history includes the epoch before the resume');
  });
});

/**
 * Rank 0 of a simulated two-process data-parallel run: it trains on the first half of each batch;
 * at beforeStep it "all-reduces" by averaging its gradients with those rank 1 would compute on the
 * second half (a replica holding the same weights).
 */
class FirstHalf implements TrainStep {
  readonly optimizers: { optimizer: optim.Optimizer };
  constructor(
    readonly model: nn.Module & { forward(x: Tensor): Tensor },
    optimizer: optim.Optimizer,
  ) {
    this.optimizers = { optimizer };
  }

  async run(t: StepTools): Promise<void> {
    const half = (t.x.shape[0] as number) / 2;
    const out = await t.forward(() => this.model.forward(t.x.narrow(0, 0, half)));
    const loss = await t.loss(() => ce(out, t.y.narrow(0, 0, half)));
    await t.backward(loss);
    await t.step(this.optimizers.optimizer);
  }
}

class AverageWithReplica implements Callback {
  readonly name = 'allReduce';
  readonly replica = tinyModel({ dropout: 0 });
  calls = 0;

  beforeStep(ctx: TrainContext): void {
    const x = ctx.x as Tensor;
    const y = ctx.y as Tensor;
    const half = (x.shape[0] as number) / 2;
    this.replica.loadStateDict(ctx.model.stateDict());
    scope(() => {
      this.replica.zeroGrad();
      ce(this.replica.forward(x.narrow(0, half, half)), y.narrow(0, half, half)).backward();
    });
    const theirs = this.replica.parameters();
    noGrad(() => ctx.model.parameters().forEach((p, i) => p.grad?.add_(theirs[i]?.grad as Tensor).div_(2)));
    this.calls += 1;
  }
}

describe('the hook between backward and the optimizer step (beforeStep)', () => {
  const train = () => new MemorySource({ samples: 64, batchSize: 8, shuffle: false });
  const weightsAfter = async (how: 'whole batch' | 'half, all-reduced' | 'half alone') => {
    manualSeed(3);
    const model = tinyModel({ dropout: 0 });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
    const learner = new Learner({ model, loss: ce });
    const hook = new AverageWithReplica();
    if (how === 'whole batch') await learner.fit({ train: train(), epochs: 2, optimizer, seed: 0 });
    else await learner.fit({ train: train(), epochs: 2, step: new FirstHalf(model, optimizer), seed: 0, callbacks: how === 'half, all-reduced' ? [hook] : [] });
    if (how === 'half, all-reduced') assert.equal(hook.calls, 16, 'once per optimizer step');
    return model.parameters().map((p) => Array.from(p.data() as Float32Array));
  };
  const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((w, i) => w.map((v, j) => Math.abs(v - (b[i]?.[j] as number)))));

  it('averaging the gradients with a replica that saw the other half of the batch trains exactly as the whole batch', async () => {
    const whole = await weightsAfter('whole batch');
    const reduced = await weightsAfter('half, all-reduced');
    const alone = await weightsAfter('half alone');
    assert.ok(maxDiff(whole, reduced) < 1e-5, `all-reduced vs whole batch: ${maxDiff(whole, reduced)}`);
    assert.ok(maxDiff(whole, alone) > 1e-3, 'half a batch without the all-reduce trains differently (else the test proves nothing)');
  });

  it('a beforeStep callback runs after accumulation and loss unscaling, and before clipping', async () => {
    const order: string[] = [];
    const spy = (name: string, o: number): Callback => ({ name, order: o, beforeStep: () => void order.push(name) });
    manualSeed(0);
    const model = tinyModel();
    await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 16 }), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0,
      callbacks: [new callbacks.GradientClipping(1), spy('allReduce', 0), spy('afterClip', 11), spy('beforeScaler', -25), new callbacks.GradScalerCallback(new optim.GradScaler())],
    });
    assert.deepEqual(order.slice(0, 3), ['beforeScaler', 'allReduce', 'afterClip']);
  });
});

describe('the rules of a custom step', () => {
  it('a checkpoint taken inside a step is refused; a cancel signal outside beforeStep is an error', async () => {
    const model = tinyModel();
    const base = { train: new MemorySource({ samples: 16 }), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0 };
    await assert.rejects(
      new Learner({ model, loss: ce }).fit({ ...base, callbacks: [{ name: 'ckpt', afterBackward: (ctx: TrainContext) => void ctx.checkpoint() }] }),
      /cannot checkpoint inside a training step/,
    );
    await assert.rejects(new Learner({ model, loss: ce }).fit({ ...base, callbacks: [{ name: 'bad', afterLoss: () => cancelStep() }] }), /cancelStep from afterLoss; only beforeStep/);
    await assert.rejects(new Learner({ model, loss: ce }).fit({ ...base, step: new FirstHalf(model, base.optimizer) }), /an optimizer .* or a step of your own, not both/);
  });

  it('cancelStep drops the gradients and skips the step (and the schedule); the fit ends with no step, which is an error', async () => {
    const model = tinyModel();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const schedule = new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    const before = model.parameters().map((p) => Array.from(p.data() as Float32Array));
    await assert.rejects(
      new Learner({ model, loss: ce }).fit({
        train: new MemorySource({ samples: 16 }), epochs: 1, optimizer, seed: 0,
        callbacks: [new callbacks.SchedulerCallback(schedule), { name: 'veto', beforeStep: () => cancelStep('veto') }],
      }),
      /no optimizer step was taken in 1 epoch, so nothing was trained: 2 batches ran but none reached an optimizer step \(each was cancelled, or its step cancelled or deferred\)/,
    );
    assert.deepEqual(model.parameters().map((p) => Array.from(p.data() as Float32Array)), before);
    assert.ok(model.parameters().every((p) => p.grad === null || (p.grad.abs().sum().item() as number) === 0), 'the gradients were dropped');
    assert.equal(optimizer.paramGroups[0]?.lr, 0.1);
  });
});
