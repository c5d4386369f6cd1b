// An estimate on paper, not a measurement of GPUs: how ResNet-50 would scale to --gpus GPUs with
// NCCL under Tessera's DataParallel, next to PyTorch DDP's published ~90%.
//
// What is measured here: the buckets DataParallel makes for ResNet-50 (assignBuckets over the zoo
// model's parameters: reverse order, 1 MiB first, 25 MiB after) and Tessera's own cost per
// collective — a 1-element all-reduce between 2 ranks on loopback (Gloo), which bounds from above
// what launching a collective and awaiting it off the event loop adds per bucket. What is assumed
// (flags; the defaults are typical published figures, not checked here): the per-GPU compute time
// of one step, NCCL's all-reduce bus bandwidth over NVLink and over PCIe, its latency, and the
// device memory bandwidth for the passes over the gradients (into the buckets, scaling, back out).
//
// The model. A ring all-reduce of S bytes over p GPUs takes α + S · 2(p−1)/p / busbw (nccl-tests'
// definition of bus bandwidth). Tessera starts the buckets' all-reduces after backward (no
// overlap): a step is compute + copies + Σ buckets + the buffer broadcast (batch-norm statistics)
// + the trainer's two small collectives per batch (lockstep, loss), each verified (2 collectives).
// PyTorch overlaps the all-reduces with backward: what stays exposed is roughly the last bucket.
// Efficiency = compute / step, the fraction of linear scaling.
//
//   node dist/bench/dist-scaling-estimate.js [--gpus 8] [--compute-ms 89] [--nvlink-gbs 130] [--pcie-gbs 10] [--nccl-latency-us 25] [--copy-gbs 800]
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dist, models, tensor } from '../src/index.js';
import { parseFlags, stats } from './lib/harness.js';

const flags = parseFlags(
  { gpus: 8, 'compute-ms': 89, 'nvlink-gbs': 130, 'pcie-gbs': 10, 'nccl-latency-us': 25, 'copy-gbs': 800, out: '' },
  'node dist/bench/dist-scaling-estimate.js: ResNet-50 on N GPUs with NCCL, estimated from bucket sizes and measured per-collective costs',
);

if (process.env.WORLD_SIZE !== undefined) {
  // A rank of the overhead measurement: 1-element all-reduces, timed after a warm-up.
  const group = await dist.init();
  const t = tensor([1], { dtype: 'float32' });
  const times: number[] = [];
  for (let i = 0; i < 220; i++) {
    const start = performance.now();
    await group.allReduce(t, { verify: false });
    if (i >= 20) times.push(performance.now() - start);
  }
  if (group.rank === 0) writeFileSync(flags.out, JSON.stringify({ us: stats(times).median * 1000 }));
  await dist.destroy();
  process.exit(0);
}

const model = models.createModel('resnet50', { classes: 1000 });
const params = model.parameters();
const buckets = dist.assignBuckets(params.map((p) => ({ numel: p.numel(), dtype: p.dtype, device: 'cuda:0' })));
const bufferBytes = [...model.namedBuffers()].reduce((n, [, b]) => n + b.numel() * (b.dtype === 'int64' ? 8 : 4), 0);
const gradBytes = buckets.reduce((n, b) => n + b.bytes, 0);

const out = join(mkdtempSync(join(tmpdir(), 'tessera-estimate-')), 'overhead.json');
const launched = await dist.launch({ command: process.execPath, args: [fileURLToPath(import.meta.url), '--out', out], nprocPerNode: 2, threadsPerRank: 1 });
if (launched.exitCode !== 0) throw new Error(`the overhead measurement failed: ${launched.failure?.message}`);
const oursUs = (JSON.parse(readFileSync(out, 'utf8')) as { us: number }).us;

const p = flags.gpus;
const MB = 1024 * 1024;
const ring = (bytes: number, gbs: number, latencyUs: number) => latencyUs / 1000 + (bytes * (2 * (p - 1)) / p / (gbs * 1e9)) * 1000; // ms
console.log(`ResNet-50: ${params.length} parameter tensors, ${(gradBytes / MB).toFixed(1)} MiB of fp32 gradients in ${buckets.length} buckets: ${buckets.map((b) => (b.bytes / MB).toFixed(1)).join(', ')} MiB; buffers ${(bufferBytes / MB).toFixed(2)} MiB`);
console.log(`measured here: a 1-element all-reduce between 2 ranks on loopback (Gloo, with Tessera's launch and off-loop wait) takes ${oursUs.toFixed(0)} µs (median of 200)`);
console.log(`assumed: ${flags['compute-ms']} ms forward+backward per GPU and step; NCCL bus bandwidth ${flags['nvlink-gbs']} GB/s (NVLink) or ${flags['pcie-gbs']} GB/s (PCIe), latency ${flags['nccl-latency-us']} µs; copies at ${flags['copy-gbs']} GB/s`);
console.log(`estimate for ${p} GPUs (efficiency = compute / step = share of linear scaling):`);
for (const [link, gbs] of [['NVLink', flags['nvlink-gbs']], ['PCIe', flags['pcie-gbs']]] as const) {
  const perCollective = flags['nccl-latency-us'] + oursUs; // NCCL's latency plus Tessera's own per-call cost (an upper bound: it includes Gloo's loopback)
  const allReduces = buckets.reduce((ms, b) => ms + ring(b.bytes, gbs, perCollective), 0);
  const copies = ((3 * gradBytes) / (flags['copy-gbs'] * 1e9)) * 1000; // into the buckets, the 1/p scaling, back out
  const broadcast = ring(bufferBytes, gbs, perCollective) / 2; // a broadcast moves about half an all-reduce's bytes
  const trainer = (4 * perCollective) / 1000;
  const compute = flags['compute-ms'];
  const ours = compute + copies + allReduces + broadcast;
  const overlapped = compute + ring(buckets.at(-1)!.bytes, gbs, flags['nccl-latency-us']);
  const pct = (x: number) => `${((100 * compute) / x).toFixed(1)}%`;
  console.log(
    `  ${link}: all-reduces ${allReduces.toFixed(2)} ms + copies ${copies.toFixed(2)} ms + buffer broadcast ${broadcast.toFixed(2)} ms → DataParallel ${pct(ours)}, ` +
      `with the trainer's per-batch collectives ${pct(ours + trainer)}; overlapped with backward as PyTorch DDP does ${pct(overlapped)}`,
  );
}
console.log('PyTorch DDP, published: ~90% or better for ResNet-50 (the figure issue #15 quotes); this estimate assumes one machine of p GPUs and a ring all-reduce.');
