// 200 training steps through each optimizer (with clipping, a schedule, the scaler and an EMA)
// keep memoryStats().liveTensors constant once the optimizer state exists, and dispose() frees it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { nn, memoryStats, optim, randn, scope, type Tensor } from '../../src/index.js';

class TwoLayer extends nn.Module {
  readonly w1 = this.registerParameter('w1', randn([8, 4]).mul(0.3));
  readonly w2 = this.registerParameter('w2', randn([1, 8]).mul(0.3));
  readonly seen = this.registerBuffer('seen', randn([1]));

  forward(x: Tensor): Tensor {
    return x.matmul(this.w1.t()).relu().matmul(this.w2.t()); // (B, 4) → (B, 8) → (B, 1)
  }
}

type Make = (params: Tensor[]) => optim.Optimizer;

const OPTIMIZERS: [string, Make][] = [
  ['SGD nesterov', (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
  ['Adam amsgrad', (p) => new optim.Adam(p, { lr: 1e-3, amsgrad: true, weightDecay: 1e-4 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 1e-3 })],
  ['RMSprop centered momentum', (p) => new optim.RMSprop(p, { lr: 1e-3, centered: true, momentum: 0.9 })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 1e-2, lrDecay: 1e-3 })],
  ['Lion', (p) => new optim.Lion(p, { lr: 1e-4, weightDecay: 0.1 })],
];

describe('optimizers leak nothing', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: 200 steps keep the live tensor count constant`, () => {
      const model = scope(() => new TwoLayer()); // (the scope frees randn's temporaries)
      const x = randn([16, 4]);
      const y = randn([16, 1]);
      const before = memoryStats().liveTensors;
      const opt = make(model.parameters());
      const sched = optim.withWarmup(new optim.CosineAnnealingLR(opt, { tMax: 200 }), { steps: 10 });
      const scaler = new optim.GradScaler({ growthInterval: 20 });
      const ema = new optim.ModelEMA(model, { warmup: true });
      const step = () =>
        scope(() => {
          opt.zeroGrad();
          const loss = model.forward(x).sub(y).pow(2).mean();
          scaler.scale(loss).backward();
          scaler.unscale_(opt);
          optim.clipGradNorm_(model.parameters(), 1.0).dispose();
          if (scaler.step(opt)) sched.step();
          scaler.update();
          ema.update(model);
          return loss.item() as number;
        });
      const first = step();
      const live = memoryStats().liveTensors;
      let last = first;
      for (let i = 1; i < 200; i++) {
        last = step();
        if (i % 50 === 0) assert.equal(memoryStats().liveTensors, live, `live tensors changed at step ${i}`);
      }
      assert.equal(memoryStats().liveTensors, live);
      assert.ok(Number.isFinite(last), 'the loss stays finite');
      opt.zeroGrad();
      opt.dispose();
      ema.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
      assert.equal(memoryStats().liveTensors, before - 5, 'dispose() frees the optimizer state and the average (and the model, x, y)');
    });
  }
});
