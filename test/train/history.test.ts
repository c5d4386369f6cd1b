// History (issue #10 item 12, trainer part; #9 item 4): the logged lr is the one the steps used,
// not the next one; images/s is logged per epoch; the history travels in checkpoints.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { manualSeed, optim } from '../../src/index.js';
import { callbacks, Learner, type Callback } from '../../src/train/index.js';
import { trainRun } from './fixtures/run.js';
import { ce, MemorySource, tinyModel } from './helpers.js';

describe('History', () => {
  it("logs the lr the epoch's last step used, and the LR curve holds the lr of each step", async () => {
    manualSeed(0);
    const model = tinyModel();
    const optimizer = new optim.SGD(model.parameters(), { lr: 1 });
    const used: number[] = [];
    const spy: Callback = { name: 'spy', order: 90, beforeStep: (ctx) => void used.push(ctx.lrs[0] as number) };
    const history = new callbacks.History({ lrEvery: 1 });
    const r = await new Learner({ model, loss: ce }).fit({
      train: new MemorySource({ samples: 32 }), epochs: 2, optimizer, seed: 0,
      callbacks: [history, spy, new callbacks.SchedulerCallback(new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 }))],
    });
    assert.deepEqual(used, [1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125]);
    assert.deepEqual(r.history.map((h) => h['lr']), [used[3], used[7]], 'the lr of steps 4 and 8, not the one after them');
    assert.deepEqual(history.lrCurve, used.map((lr, i) => ({ step: i + 1, lr })));
    assert.equal(r.history, history.rows);
  });

  it('logs images per second for each epoch: samples trained over the epoch time', async () => {
    manualSeed(0);
    const model = tinyModel();
    const r = await new Learner({ model, loss: ce }).fit({ train: new MemorySource({ samples: 40, batchSize: 8 }), epochs: 2, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), seed: 0 });
    for (const row of r.history) {
      const ips = row['images_per_second'] as number;
      assert.ok(ips > 0 && Number.isFinite(ips));
      assert.ok(Math.abs(ips * (row['epoch_time'] as number) - 40) < 1e-6 * 40, `${ips} img/s × ${row['epoch_time']} s`);
    }
  });

  it('travels in the checkpoint: a run resumed in its last epoch reports every epoch, equal to an uninterrupted run', async () => {
    const reference = await trainRun({ dir: mkdtempSync(join(tmpdir(), 'tessera-hist-')) });
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hist-'));
    const crash: Callback = { name: 'crash', order: 1000, afterBatch: (ctx) => { if (ctx.step === 20) throw new Error('crash'); } };
    await assert.rejects(trainRun({ dir, extraCallbacks: [crash] }), /crash/);
    const resumed = await trainRun({ dir, resume: true });
    assert.equal(resumed.result.resumedFrom, join(dir, 'last.ckpt'));
    const strip = (rows: Record<string, number>[]) => rows.map(({ epoch_time: _t, images_per_second: _i, ...row }) => row);
    assert.deepEqual(strip(resumed.result.history.slice(0, 2)), strip(reference.result.history.slice(0, 2)), 'the two epochs before the resume, as they were');
    assert.deepEqual(resumed.result.history.map((h) => h['epoch']), [0, 1, 2]);
    assert.equal(resumed.result.history[2]?.['train_loss'], reference.result.history[2]?.['train_loss'], "the resumed epoch's loss sums its batches before and after the crash");
  });
});
