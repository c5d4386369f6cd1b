// One rank of bench/dist-data-parallel.ts: trains the seeds' CNN (conv32-pool-conv64-pool-
// dense128-dense10 on 32×32×3, cross-entropy, SGD with momentum) on random batches for --warmup
// then --steps steps under DataParallel, and writes to --out (rank 0) the timed steps' images per
// second over all ranks, the median step time, the median time syncGradients took in the loop
// (which includes waiting for the slower rank to finish its backward) and alone, right after a
// barrier (copies and all-reduce only: what overlapping it with backward could hide at most).
//
//   started by the bench through dist.launch: dist-rank.js --out FILE [--steps 30] [--warmup 5] [--batch 64]
import { writeFileSync } from 'node:fs';

import { crossEntropyLoss, dist, manualSeed, nn, optim, randint, randn, scope } from '../src/index.js';
import { parseFlags, stats } from './lib/harness.js';

const flags = parseFlags({ out: '', steps: 30, warmup: 5, batch: 64 }, 'dist-rank.js --out FILE: one rank of bench/dist-data-parallel.ts');
const group = await dist.init();
manualSeed(0);
const model = new nn.Sequential(
  new nn.Conv2d(3, 32, 3), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(32, 64, 3), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(64 * 6 * 6, 128), new nn.ReLU(), new nn.Linear(128, 10),
);
const ddp = await dist.DataParallel.create(model);
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
manualSeed(1 + group.rank);
const batches = Array.from({ length: 4 }, () => ({ x: randn([flags.batch, 3, 32, 32]), y: randint(0, 10, [flags.batch]) }));

const syncMs: number[] = [];
const stepMs: number[] = [];
async function step(i: number): Promise<void> {
  const start = performance.now();
  const b = batches[i % batches.length]!;
  scope(() => {
    model.zeroGrad();
    crossEntropyLoss(model.forward(b.x), b.y).backward();
  });
  const sync = performance.now();
  await ddp.syncGradients();
  syncMs.push(performance.now() - sync);
  scope(() => opt.step());
  stepMs.push(performance.now() - start);
}

for (let i = 0; i < flags.warmup; i++) await step(i);
syncMs.length = 0;
stepMs.length = 0;
await dist.barrier();
const start = performance.now();
for (let i = 0; i < flags.steps; i++) await step(i);
await dist.barrier();
const seconds = (performance.now() - start) / 1000;
const aloneMs: number[] = [];
for (let i = 0; i < 10; i++) {
  await dist.barrier();
  const t = performance.now();
  await ddp.syncGradients();
  aloneMs.push(performance.now() - t);
}
if (group.rank === 0) {
  const result = {
    ranks: group.worldSize,
    imagesPerSec: (group.worldSize * flags.batch * flags.steps) / seconds,
    stepMs: stats(stepMs).median,
    syncMs: stats(syncMs).median,
    syncAloneMs: stats(aloneMs).median,
  };
  writeFileSync(flags.out, JSON.stringify(result));
}
await dist.destroy();
