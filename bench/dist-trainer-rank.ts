// One rank of bench/dist-data-parallel.ts's trainer path: the seeds' CNN (as bench/dist-rank.ts)
// trained by Learner.fit the way `tessera train --nproc-per-node N` trains it — the DataLoader
// over an in-memory uint8 data set, DistributedSampler, the source in lockstep, the DataParallel
// callbacks (loss and gradients averaged), History with an accuracy metric — for one epoch of
// --warmup then --steps batches of --batch per rank. With one rank it is a plain fit: what one
// process does without data parallelism. Rank 0 writes to --out the timed batches' images per
// second over all ranks and the median step time.
//
//   started by the bench through dist.launch: dist-trainer-rank.js --out FILE [--steps 30] [--warmup 5] [--batch 64]
import { writeFileSync } from 'node:fs';

import { data, dist, manualSeed, metrics, nn, optim, train } from '../src/index.js';
import { parseFlags, stats } from './lib/harness.js';

const flags = parseFlags({ out: '', steps: 30, warmup: 5, batch: 64 }, 'dist-trainer-rank.js --out FILE: one rank of bench/dist-data-parallel.ts (trainer path)');
const world = Number(process.env.WORLD_SIZE ?? 1);
const group = world > 1 ? await dist.init() : undefined;
const rank = group?.rank ?? 0;

const batches = flags.warmup + flags.steps;
const n = batches * flags.batch * world;
manualSeed(2);
const pixels = Uint8Array.from({ length: n * 32 * 32 * 3 }, (_, i) => (i * 2654435761) >>> 24);
const labels = Array.from({ length: n }, (_, i) => i % 10);
const set = data.tensorDataset(pixels, labels, { shape: [n, 32, 32, 3] });
const order = new data.RandomSampler(n, { seed: 0 });
const loader = new data.DataLoader(set, { batchSize: flags.batch, sampler: group ? new data.DistributedSampler(order, { rank, worldSize: world }) : order });

manualSeed(0);
const model = new nn.Sequential(
  new nn.Conv2d(3, 32, 3), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(32, 64, 3), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(64 * 6 * 6, 128), new nn.ReLU(), new nn.Linear(128, 10),
);
const learner = new train.Learner({
  model, loss: nn.functional.crossEntropy, metrics: [new metrics.Accuracy(10)], ...(group ? { reduce: train.callbacks.sumAcrossRanks(group) } : {}),
});
const ends: number[] = [];
const clock: train.Callback = { name: 'clock', afterBatch: () => void ends.push(performance.now()) };
await learner.fit({
  train: group ? new dist.LockstepSource(loader, group) : loader,
  epochs: 1,
  optimizer: new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 }),
  callbacks: [clock, ...(group ? train.callbacks.dataParallelCallbacks(group) : [])],
  seed: 0,
});
const timed = ends.slice(flags.warmup - 1); // the end of the last warm-up batch, then one end per timed batch
const seconds = (timed.at(-1)! - timed[0]!) / 1000;
if (rank === 0) {
  const stepMs = timed.slice(1).map((t, i) => t - timed[i]!);
  writeFileSync(flags.out, JSON.stringify({ ranks: world, imagesPerSec: (world * flags.batch * flags.steps) / seconds, stepMs: stats(stepMs).median }));
}
await dist.destroy();
