// The library's GAN step: PyTorch's DCGAN example (pytorch/examples dcgan/main.py) batch for batch
// from identical weights, data and seed — the losses, D(x) and D(G(z)) of every batch and every
// weight afterwards — with and without one-sided label smoothing; GanHistory's curves and epoch
// means against the step's own per-batch figures; exact resume in-process (the SIGKILL version is in
// resume.test.ts); and the errors a bad setup gets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { io, manualSeed, models, nn, randn, scope, setNumThreads, type Tensor } from '../../src/index.js';
import { GAN_FIGURES, GanHistory, GanStep, Learner, type Callback, type GanPoint } from '../../src/train/index.js';
import { dcganRun, ImageSource, SIDE, tinyDcgan } from './fixtures/dcgan.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TWINS_DIR = join(HERE, '..', '..', '..', 'test', 'models');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'tessera-gan-step-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Records the step's figures after every batch. */
const recorder = (step: GanStep, into: number[][]): Callback => ({ name: 'record', afterBatch: () => void into.push(Array.from(step.figures?.data() as Float32Array)) });

// The example's loop, on the twin of models.dcgan (test/models/twins.py), from our initial weights.
const EXAMPLE = `
import json, sys
import torch
sys.path.insert(0, sys.argv[1])
from twins import dcgan
torch.set_num_threads(1)
a = json.loads(sys.argv[2])
gan = dcgan(8, 4, 4, 1, ${SIDE})
gan.load_state_dict(torch.load(a['weights']))
netG, netD = gan.generator, gan.discriminator
gan.train()
criterion = torch.nn.BCELoss()
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
data = torch.tensor(a['data'], dtype=torch.float32).view(-1, 1, ${SIDE}, ${SIDE})
real_label, fake_label = 1 - a['smoothing'], 0.0
torch.manual_seed(a['seed'])
figures = []
for i in range(0, data.shape[0], a['batch']):
    real = data[i:i + a['batch']]
    b = real.size(0)
    netD.zero_grad()
    label = torch.full((b,), real_label, dtype=torch.float32)
    output = netD(real)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    noise = torch.randn(b, 8, 1, 1)
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optD.step()
    netG.zero_grad()
    label.fill_(1.0)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optG.step()
    figures.append([errD.item(), errG.item(), D_x, D_G_z1, D_G_z2])
torch.save(gan.state_dict(), a['out'])
print(json.dumps(figures))
`;

async function ours(smoothing: number): Promise<{ figures: number[][]; weights: Map<string, Tensor>; data: number[]; initial: string }> {
  setNumThreads(1);
  manualSeed(5);
  const gan = tinyDcgan();
  const initial = join(tmp, `initial-${smoothing}.pt`);
  io.saveStateDict(initial, gan);
  const source = new ImageSource({ samples: 12, batchSize: 4, seed: 9, shuffle: false });
  const step = new GanStep(gan, { labelSmoothing: smoothing });
  const figures: number[][] = [];
  await new Learner({ model: gan, loss: nn.functional.binaryCrossEntropy }).fit({ train: source, epochs: 1, step, seed: 77, callbacks: [recorder(step, figures)] });
  const weights = gan.stateDict();
  return { figures, weights, data: Array.from(source.points.x), initial };
}

describe('GanStep is the DCGAN example step', () => {
  for (const smoothing of [0, 0.2]) {
    it(`three batches from identical weights, data and seed${smoothing ? `, real label ${1 - smoothing}` : ''}: the same losses, D(x), D(G(z)) and weights as PyTorch`, async () => {
      const o = await ours(smoothing);
      const out = join(tmp, `theirs-${smoothing}.pt`);
      const r = spawnSync(PYTHON, ['-c', EXAMPLE, TWINS_DIR, JSON.stringify({ weights: o.initial, out, data: o.data, batch: 4, seed: 77, smoothing })], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const theirs = JSON.parse(r.stdout) as number[][];
      assert.equal(o.figures.length, 3);
      o.figures.forEach((row, i) =>
        row.forEach((v, j) => {
          const p = theirs[i]?.[j] as number;
          assert.ok(Math.abs(v - p) <= 1e-5 * Math.abs(p) + 1e-6, `batch ${i} ${GAN_FIGURES[j]}: ours ${v}, PyTorch ${p}`);
        }),
      );
      const ref = io.loadStateDictFile(out);
      assert.deepEqual([...o.weights.keys()], [...ref.keys()]);
      for (const [k, t] of o.weights) {
        const diff = scope(() => t.double().sub((ref.get(k) as Tensor).double()).abs().max().item() as number);
        assert.ok(diff <= 1e-5, `${k}: max |ours − PyTorch| ${diff}`);
      }
      // The weights moved: the comparison is not of two untouched initialisations.
      const init = io.loadStateDictFile(o.initial);
      assert.ok(scope(() => (o.weights.get('generator.main.0.weight') as Tensor).sub(init.get('generator.main.0.weight') as Tensor).abs().max().item() as number) > 1e-5);
    });
  }
});

describe('GanHistory', () => {
  it('points are the means of the batches since the last point (every 3, and at the end of each epoch); epoch logs are the epoch means', async () => {
    manualSeed(1);
    const gan = tinyDcgan();
    const step = new GanStep(gan);
    const seen: number[][] = [];
    const streamed: GanPoint[] = [];
    const history = new GanHistory(step, { every: 3, onPoint: (p) => void streamed.push(p) });
    const result = await new Learner({ model: gan, loss: nn.functional.binaryCrossEntropy }).fit({
      train: new ImageSource({ samples: 40, batchSize: 8, seed: 2 }), epochs: 2, step, seed: 3, callbacks: [history, recorder(step, seen)],
    });
    // 5 batches an epoch: points after batches 3 and 5 (a short one) of each epoch.
    assert.deepEqual(history.points.map((p) => [p.epoch, p.iteration, p.batches]), [[0, 3, 3], [0, 5, 2], [1, 8, 3], [1, 10, 2]]);
    assert.deepEqual(streamed, history.points);
    const mean = (rows: number[][], j: number) => rows.reduce((s, r) => s + (r[j] as number), 0) / rows.length;
    const windows = [seen.slice(0, 3), seen.slice(3, 5), seen.slice(5, 8), seen.slice(8, 10)];
    history.points.forEach((p, i) => GAN_FIGURES.forEach((k, j) => assert.ok(Math.abs(p[k] - mean(windows[i] as number[][], j)) < 1e-6, `point ${i} ${k}`)));
    result.history.forEach((row, e) =>
      GAN_FIGURES.forEach((k, j) => assert.ok(Math.abs((row[k] as number) - mean(seen.slice(e * 5, e * 5 + 5), j)) < 1e-6, `epoch ${e} ${k}`)),
    );
    assert.ok(Math.abs((result.history[0]?.['train_loss'] as number) - mean(seen.slice(0, 5), 1)) < 1e-6, "History's train_loss is the generator's loss (equal batches)");
    assert.equal(result.history[0]?.['lr_d'], 2e-4);
    for (const row of seen) assert.ok(row[2] as number > 0 && (row[2] as number) < 1 && (row[3] as number) > 0 && (row[3] as number) < 1, 'D(x) and D(G(z)) are probabilities');
  });

  it('a crash mid-epoch, then resume: weights, optimizers, schedules, history and the GAN curves end bit-identical', async () => {
    const reference = await dcganRun({ dir: mkdtempSync(join(tmp, 'whole-')) });
    const dir = mkdtempSync(join(tmp, 'crash-'));
    const crash: Callback = { name: 'crash', order: 1000, afterBatch: (ctx) => void (ctx.step === 13 ? (() => { throw new Error('simulated crash at step 13'); })() : 0) };
    await assert.rejects(dcganRun({ dir, extraCallbacks: [crash] }), /simulated crash at step 13/);
    const resumed = await dcganRun({ dir, resume: true });
    assert.equal(resumed.result.resumedFrom, join(dir, 'last.ckpt'));
    assert.deepEqual(resumed.hashes, reference.hashes);
    assert.equal(resumed.points.length, 9, '3 points an epoch (after batches 3, 6 and the last 2)');
  });
});

describe('GanStep refuses a bad setup', () => {
  it('label smoothing outside [0, 0.5); a discriminator that does not give one probability per image', async () => {
    const gan = tinyDcgan();
    assert.throws(() => new GanStep(gan, { labelSmoothing: 0.5 }), /labelSmoothing must be in \[0, 0\.5\), got 0\.5/);
    assert.throws(() => new GanStep(gan, { labelSmoothing: -0.1 }), /labelSmoothing must be in \[0, 0\.5\)/);
    // A patch discriminator: one output per 2×2 region instead of one per image.
    class Patches extends nn.Module {
      readonly conv = this.registerModule('conv', new nn.Conv2d(1, 1, 4, { stride: 4 }));
      forward(x: Tensor): Tensor {
        return this.conv.forward(x).sigmoid();
      }
    }
    const patchy = new models.Gan(gan.generator, new Patches(), [8, 1, 1]);
    await assert.rejects(
      new Learner({ model: patchy, loss: nn.functional.binaryCrossEntropy }).fit({ train: new ImageSource({ samples: 8, batchSize: 4 }), epochs: 1, step: new GanStep(patchy), seed: 0 }),
      /GanStep: the discriminator must give one probability per image, got shape \[4, 1, 2, 2\] for 4 images/,
    );
    assert.equal(scope(() => gan.forward(randn([2, 8])).shape.join('×')), `2×1×${SIDE}×${SIDE}`);
  });
});

