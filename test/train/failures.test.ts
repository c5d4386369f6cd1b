// Runs that must not pass for trained (issue #10 items 3 and 4): a fit that took no optimizer step
// is an error saying why; a short last batch trains correctly; a checkpoint never holds a NaN or an
// infinity — weights, buffers or optimizer state — and a run whose state went non-finite fails
// (stopped.failed), while an early stop does not.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { DataLoader, tensorDataset } from '../../src/data/loader/index.js';
import { manualSeed, nn, noGrad, optim, tensor, type Tensor } from '../../src/index.js';
import {
  callbacks, Learner, NonFiniteCheckpointError, readCheckpoint, writeCheckpoint, type Callback, type CheckpointSnapshot,
} from '../../src/train/index.js';
import { nonFiniteEntries } from '../../src/train/finite.js';
import { ce, MemorySource, tinyModel } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-fail-'));

describe('a fit that trains nothing is an error', () => {
  it('a data set smaller than one batch, with the last partial batch dropped: no batch, no step, an error naming the fix', async () => {
    const pixels = new Uint8Array(10 * 8 * 8).map((_, i) => i % 251);
    const loader = new DataLoader(tensorDataset(pixels, Array.from({ length: 10 }, (_, i) => i % 3), { shape: [10, 8, 8] }), { batchSize: 16, dropLast: true });
    manualSeed(0);
    const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(64, 3)) as nn.Sequential & { forward(x: Tensor): Tensor };
    await assert.rejects(
      new Learner({ model, loss: ce }).fit({ train: loader, epochs: 2, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0 }),
      (e: Error) => {
        assert.match(e.message, /^fit: no optimizer step was taken in 2 epochs, so nothing was trained: the training source gave no batch \(0 batches per epoch: a data set smaller than one batch, with the last partial batch dropped, gives none\); lower the batch size or keep the last partial batch$/);
        return true;
      },
    );
    await loader.close();
  });

  it('a short last batch is trained and weighted by its size: the train loss is the per-sample mean, accumulation steps on it', async () => {
    manualSeed(0);
    const model = tinyModel({ dropout: 0 });
    const src = new MemorySource({ samples: 20, batchSize: 8, shuffle: false }); // batches of 8, 8, 4
    const learner = new Learner({ model, loss: ce });
    // lr 0: the weights stay, so the training loss must equal an evaluation of the same samples.
    const r = await learner.fit({ train: src, epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0 }), seed: 0, callbacks: [new callbacks.GradientAccumulation(2)] });
    const ev = await learner.evaluate(src);
    assert.ok(Math.abs((r.history[0]?.['train_loss'] as number) - ev.loss) < 1e-6, `${r.history[0]?.['train_loss']} vs ${ev.loss}`);
    assert.equal(r.step, 2, 'a step after batches 1–2 and one for the short group of the last batch');
  });
});

/** Model with a BatchNorm whose running_var a callback makes infinite after step `at`: the loss stays finite (training uses batch statistics). */
function bnSetup(at: number) {
  manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(8, 16), new nn.BatchNorm1d(16), new nn.ReLU(), new nn.Linear(16, 3)) as nn.Sequential & { forward(x: Tensor): Tensor };
  const poison: Callback = {
    name: 'poison',
    afterBatch: (ctx) => {
      if (ctx.step === at) noGrad(() => (ctx.model.stateDict().get('1.running_var') as Tensor).fill_(Infinity));
    },
  };
  return { model, poison };
}

describe('no checkpoint is ever non-finite', () => {
  it('writeCheckpoint refuses NaN and ±Infinity anywhere, naming the tensors', () => {
    const file = join(tmp(), 'x.ckpt');
    const snap: CheckpointSnapshot = {
      meta: { format: 'tessera.checkpoint', version: 2, epoch: 0, batchesDone: 0, iteration: 0, step: 0, seed: 0, completed: false, optimizers: {}, callbacks: {}, logs: {}, savedAt: '' },
      tensors: new Map([['model/w', tensor([1, 2])], ['model/bn.running_var', tensor([1, Infinity])], ['optimizers/o/0/exp_avg', tensor([NaN])], ['model/n', tensor([3n])]]),
    };
    assert.deepEqual(nonFiniteEntries(snap.tensors), ['model/bn.running_var', 'optimizers/o/0/exp_avg']);
    assert.throws(() => writeCheckpoint(file, snap), (e: unknown) => e instanceof NonFiniteCheckpointError && /not written: non-finite values in model\/bn\.running_var, optimizers\/o\/0\/exp_avg$/.test(e.message));
    assert.throws(() => readCheckpoint(file), /ENOENT|no such file/);
  });

  it('a BatchNorm buffer gone infinite while the loss is finite: the next checkpoint is refused, the run fails there, the files on disk stay finite', async () => {
    const dir = tmp();
    const { model, poison } = bnSetup(4);
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 64 }), epochs: 3, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0,
      callbacks: [poison, new callbacks.NonFiniteGuard(), new callbacks.ModelCheckpoint({ dir, everyNSteps: 3 })],
    });
    assert.equal(r.stopped?.failed, true);
    assert.equal(r.stopped?.step, 6, 'the save at step 6 found it');
    assert.equal(r.stopped?.reason, 'non-finite values in model/1.running_var at epoch 0, step 6: checkpoint not written');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ckpt'));
    assert.deepEqual(files, ['last.ckpt'], 'only the step-3 checkpoint: the step-6, epoch and final saves were refused');
    const c = readCheckpoint(join(dir, 'last.ckpt'));
    assert.equal(c.meta.step, 3);
    assert.deepEqual(nonFiniteEntries(c.tensors), []);
    for (const t of c.tensors.values()) t.dispose();
  });

  it('teeth: without the poison the same run completes and checkpoints every 3 steps', async () => {
    const dir = tmp();
    const { model } = bnSetup(4);
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 64 }), epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0,
      callbacks: [new callbacks.ModelCheckpoint({ dir, everyNSteps: 3 })],
    });
    assert.equal(r.stopped, undefined);
    assert.equal(readCheckpoint(join(dir, 'last.ckpt')).meta.step, 8);
  });

  it('lr 1e6: the loss guard halts the run as failed, and no checkpoint written holds a non-finite value', async () => {
    const dir = tmp();
    const { model } = bnSetup(-1);
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 64 }), epochs: 3, optimizer: new optim.SGD(model.parameters(), { lr: 1e6, momentum: 0.9 }), seed: 0,
      callbacks: [new callbacks.NonFiniteGuard(), new callbacks.ModelCheckpoint({ dir, everyNSteps: 1 })],
    });
    assert.equal(r.stopped?.failed, true, `stopped: ${JSON.stringify(r.stopped)}`);
    assert.match(r.stopped?.reason ?? '', /non-finite/);
    assert.ok(nonFiniteEntries(model.stateDict()).length > 0, 'the model itself went non-finite (so the final save had to be refused)');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ckpt'))) {
      const c = readCheckpoint(join(dir, f));
      assert.deepEqual(nonFiniteEntries(c.tensors), [], f);
      for (const t of c.tensors.values()) t.dispose();
    }
  });
});
