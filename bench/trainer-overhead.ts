// What Learner.fit costs over a hand-written loop: the same N steps of a small CNN (conv8-pool-
// conv16-pool-dense10 on 1×28×28, batch 32, SGD with momentum, cross-entropy), once through
// fit() with no callbacks and once as the loop a user would write (make the batch tensors,
// scope { zeroGrad, forward, loss, backward, step }, dispose the batch). Both sides start from the
// same weights and see the same batches; the timed repetitions are interleaved (ABBA). The peer
// here is our own hand-written loop, not PyTorch: the question is the trainer's overhead.
// Goal: fit within 3% of the hand-written loop (ratio ≥ 0.97).
//
//   node dist/bench/trainer-overhead.js [--steps 40] [--reps 5] [--batch 32] [--threads N]
import { crossEntropyLoss, manualSeed, nn, optim, scope, setNumThreads, tensor, type Tensor } from '../src/index.js';
import type { Batch, BatchSource } from '../src/data/types.js';
import { RandomStream } from '../src/data/random.js';
import { Learner } from '../src/train/index.js';
import { defaultThreads, describeLoad, describeStats, interleaveN, parseFlags, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ steps: 40, reps: 5, batch: 32, threads: defaultThreads(), warmup: 10 }, 'node dist/bench/trainer-overhead.js');
setNumThreads(flags.threads);

const model = (): nn.Sequential & { forward(x: Tensor): Tensor } =>
  new nn.Sequential(
    new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.MaxPool2d(2), // (B, 8, 13, 13)
    new nn.Conv2d(8, 16, 3), new nn.ReLU(), new nn.MaxPool2d(2), // (B, 16, 5, 5)
    new nn.Flatten(), new nn.Linear(16 * 5 * 5, 10),
  ) as nn.Sequential & { forward(x: Tensor): Tensor };

// A handful of fixed random batches, cycled; every step makes fresh tensors from them (as a loader does).
const pool = Array.from({ length: 8 }, (_, b) => {
  const r = new RandomStream({ seed: b, purpose: 'test' });
  const rand = () => r.float();
  return { x: Float32Array.from({ length: flags.batch * 784 }, () => rand() * 2 - 1), y: BigInt64Array.from({ length: flags.batch }, () => BigInt(Math.floor(rand() * 10))) };
});
const makeBatch = (i: number): Batch => {
  const p = pool[i % pool.length] as (typeof pool)[number];
  return { x: tensor(p.x, { shape: [flags.batch, 1, 28, 28] }), y: tensor(p.y), indices: [], ids: [] };
};

class PoolSource implements BatchSource {
  readonly classes = Array.from({ length: 10 }, (_, i) => String(i));
  constructor(readonly batchesPerEpoch: number) {}
  async *epoch(_epoch: number, options: { skipBatches?: number } = {}): AsyncGenerator<Batch> {
    for (let i = options.skipBatches ?? 0; i < this.batchesPerEpoch; i++) yield makeBatch(i);
  }
}

manualSeed(0);
const fitModel = model();
const handModel = model();
handModel.loadStateDict(fitModel.stateDict());
const fitOpt = new optim.SGD(fitModel.parameters(), { lr: 0.01, momentum: 0.9 });
const handOpt = new optim.SGD(handModel.parameters(), { lr: 0.01, momentum: 0.9 });
const ce = (o: Tensor, t: Tensor) => crossEntropyLoss(o, t);
const learner = new Learner({ model: fitModel, loss: ce });

async function viaFit(steps: number): Promise<number> {
  const t0 = performance.now();
  await learner.fit({ train: new PoolSource(steps), epochs: 1, optimizer: fitOpt, seed: 0 });
  return steps / ((performance.now() - t0) / 1000);
}

function byHand(steps: number): number {
  const t0 = performance.now();
  handModel.train();
  for (let i = 0; i < steps; i++) {
    const b = makeBatch(i);
    scope(() => {
      handOpt.zeroGrad();
      crossEntropyLoss(handModel.forward(b.x), b.y).backward();
      handOpt.step();
    });
    b.x.dispose();
    b.y.dispose();
  }
  return steps / ((performance.now() - t0) / 1000);
}

// Untimed check that both sides do the same work: from equal weights, the same batches give equal weights.
await viaFit(flags.warmup);
byHand(flags.warmup);
const drift = scope(() => Math.max(...fitModel.parameters().map((p, i) => Number(p.sub(handModel.parameters()[i] as Tensor).abs().max().item()))));
if (drift !== 0) throw new Error(`trainer-overhead: fit and the hand-written loop disagree after ${flags.warmup} steps (max |Δ| = ${drift}): not the same work`);

const r = await interleaveN({
  reps: flags.reps,
  sides: [{ label: 'fit', run: () => viaFit(flags.steps) }, { label: 'hand', run: () => byHand(flags.steps) }],
  pids: () => [process.pid],
  maxOthersPct: 25,
  maxRedo: flags.reps,
});
const [fit, hand] = r.values.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
console.log(`trainer-overhead: small CNN, batch ${flags.batch}, ${flags.steps} steps × ${flags.reps} reps, ${flags.threads} threads`);
console.log(`  Learner.fit   ${describeStats(fit, 'steps/s')}`);
console.log(`  hand-written  ${describeStats(hand, 'steps/s')}`);
console.log(`  same work: after ${flags.warmup} untimed steps from equal weights, both models are bit-identical`);
console.log(`  ${describeLoad(r, 25)}`);
console.log(resultLine('trainer-overhead', fit.median, hand.median, 'steps/s'));
