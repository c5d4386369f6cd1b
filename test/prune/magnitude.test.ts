// Global magnitude pruning against torch.nn.utils.prune on identical weights (prune_reference.py):
// the same masks — for a small conv net, for one whose weights are full of ties (rounded to one
// decimal, so which equal weights go is the tie-break of topk), and for resnet18 — and, fine-tuned
// with MaskCallback, the same weights after SGD steps as PyTorch's masked reparametrisation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { crossEntropyLoss, io, manualSeed, models, nn, noGrad, optim, randint, randn, setNumThreads, type Tensor } from '../../src/index.js';
import { writeNpy } from '../../src/data/formats/npy-write.js';
import { applyMasks, globalMagnitudeMasks, MaskCallback, prunableWeights } from '../../src/prune/magnitude.js';
import type { TrainContext } from '../../src/train/events.js';

setNumThreads(1);
const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'prune', 'prune_reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'tessera-prune-masks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function reference(request: unknown): void {
  const r = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, `prune_reference.py failed:\n${r.stderr}`);
}

const SMALL = 'torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(96, 5))';
const small = () => new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(96, 5));

describe('global magnitude pruning', () => {
  it('gives the masks torch.nn.utils.prune.global_unstructured gives, ties included', () => {
    manualSeed(21);
    const tied = small();
    noGrad(() => {
      for (const p of tied.parameters()) p.copy_(p.mul(10).round().div(10)); // many equal magnitudes, and zeros
    });
    const cases = [
      { name: 'small', model: small() as nn.Module, build: SMALL, amount: 0.37 },
      { name: 'tied', model: tied as nn.Module, build: SMALL, amount: 0.5 },
      { name: 'resnet18', model: models.resnet18({ numClasses: 10 }) as nn.Module, build: 'torchvision.models.resnet18(num_classes=10)', amount: 0.3 },
    ];
    const requests = cases.map((c) => {
      const weights = join(dir, `${c.name}.pt`);
      io.saveStateDict(weights, c.model, { format: 'pt' });
      return { build: c.build, weights, amount: c.amount, out: join(dir, `${c.name}.masks.pt`) };
    });
    reference({ masks: requests });
    for (const [i, c] of cases.entries()) {
      const theirs = io.loadPt(requests[i]!.out);
      const ours = globalMagnitudeMasks(prunableWeights(c.model), c.amount);
      assert.deepEqual([...ours.keys()], [...theirs.keys()], `${c.name}: the same weights are pruned`);
      let zeros = 0;
      let total = 0;
      for (const [key, mask] of ours) {
        const want = theirs.get(key)!.data() as Float32Array;
        const got = mask.data() as Float32Array;
        const differ = got.reduce((n, v, j) => n + (v !== want[j] ? 1 : 0), 0);
        assert.equal(differ, 0, `${c.name} ${key}: ${differ} of ${got.length} mask entries differ from PyTorch's`);
        zeros += got.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
        total += got.length;
        mask.dispose();
      }
      assert.equal(zeros, Math.round(c.amount * total), `${c.name}: round(amount · n) entries pruned`);
    }
  });

  it('fine-tuning with MaskCallback ends where PyTorch\'s weight_orig · weight_mask does (SGD, momentum, weight decay)', () => {
    manualSeed(8);
    const model = small();
    const weights = join(dir, 'finetune.pt');
    io.saveStateDict(weights, model, { format: 'pt' });
    const x = randn([16, 1, 8, 8]);
    const y = randint(0, 5, [16]);
    writeNpy(join(dir, 'x.npy'), { dtype: 'f4', shape: x.shape, data: x.data() as Float32Array });
    writeNpy(join(dir, 'y.npy'), { dtype: 'i8', shape: y.shape, data: y.data() as BigInt64Array });
    const hyper = { lr: 0.1, momentum: 0.9, weight_decay: 0.01, steps: 4 };
    const out = join(dir, 'finetuned.pt');
    reference({ finetune: { build: SMALL, weights, amount: 0.5, x: join(dir, 'x.npy'), y: join(dir, 'y.npy'), out, ...hyper } });

    const masks = globalMagnitudeMasks(prunableWeights(model), 0.5);
    applyMasks(model, masks);
    const callback = new MaskCallback(masks);
    const ctx = { model } as unknown as TrainContext; // the callback reads the model only
    const sgd = new optim.SGD(model.parameters(), { lr: hyper.lr, momentum: hyper.momentum, weightDecay: hyper.weight_decay });
    model.train();
    for (let s = 0; s < hyper.steps; s++) {
      sgd.zeroGrad();
      crossEntropyLoss(model.forward(x) as Tensor, y).backward();
      callback.afterBackward(ctx);
      sgd.step();
      callback.afterStep(ctx);
    }
    const theirs = io.loadPt(out);
    for (const [key, t] of model.stateDict()) {
      const want = theirs.get(key)!.data() as Float32Array;
      const got = t.data() as Float32Array;
      got.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) <= 1e-5 + 1e-4 * Math.abs(want[j]!), `${key}[${j}]: ${v} vs PyTorch ${want[j]}`));
      if (masks.has(key)) (masks.get(key)!.data() as Float32Array).forEach((m, j) => m === 0 && assert.ok(got[j] === 0, `${key}[${j}] is pruned and stays 0, got ${got[j]}`));
    }
    sgd.dispose();
    for (const m of masks.values()) m.dispose();
  });

  it('refuses amounts outside [0, 1) and models without conv or linear weights', () => {
    const model = small();
    assert.throws(() => globalMagnitudeMasks(prunableWeights(model), 1), /the pruning amount must be a fraction in \[0, 1\), got 1/);
    assert.throws(() => globalMagnitudeMasks(prunableWeights(model), -0.1), /got -0\.1/);
    assert.throws(() => globalMagnitudeMasks(prunableWeights(new nn.Sequential(new nn.ReLU())), 0.5), /nothing to prune: the model has no convolution or linear weights/);
  });
});
