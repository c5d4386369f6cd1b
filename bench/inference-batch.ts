// Inference throughput by batch size: a zoo model's forward pass in eval mode (no autograd) on random
// inputs, at batch sizes 1, 8, 16, 32 and 64, images per second for each. It sizes `tessera serve
// --max-batch-size`: on a CPU a larger batch is not always faster per image (its activations can
// outgrow the caches). No peer: the RESULT line's "peer" is the same model at batch 1, "ours" the
// best batch size, so the ratio is what batching can buy at most on this machine.
//
//   node dist/bench/inference-batch.js [--model resnet18] [--size 64] [--channels 3] [--threads 2]
//        [--batches 1,8,16,32,64] [--images 128]
import { createModel } from '../src/models/registry.js';
import { manualSeed, noGrad, randn, scope, setNumThreads } from '../src/index.js';
import { defaultThreads, parseFlags, resultLine } from './lib/harness.js';

const flags = parseFlags(
  { model: 'resnet18', size: 64, channels: 3, threads: defaultThreads(), batches: '1,8,16,32,64', images: 128 },
  'node dist/bench/inference-batch.js: eval-mode forward throughput of a zoo model by batch size (no peer)',
);
setNumThreads(flags.threads);
manualSeed(0);
const model = createModel(flags.model, { inChannels: flags.channels, imageSize: flags.size, classes: 10 });
model.eval();
const batches = flags.batches.split(',').map(Number);
console.log(`inference-batch: ${flags.model} at ${flags.channels}×${flags.size}×${flags.size}, eval, ${flags.threads} threads, ≥ ${flags.images} images per batch size`);
const rates: number[] = [];
for (const b of batches) {
  const x = randn([b, flags.channels, flags.size, flags.size]);
  const pass = () => noGrad(() => scope(() => void model.forward(x).sum().item()));
  pass();
  pass(); // warm-up: oneDNN builds its kernels for this shape
  const passes = Math.max(3, Math.ceil(flags.images / b));
  const t0 = performance.now();
  for (let i = 0; i < passes; i++) pass();
  const ms = (performance.now() - t0) / passes;
  rates.push((b * 1000) / ms);
  console.log(`batch ${String(b).padStart(3)}: ${ms.toFixed(1).padStart(8)} ms a pass, ${(rates.at(-1) as number).toFixed(1).padStart(8)} images/s`);
  x.dispose();
}
const best = rates.indexOf(Math.max(...rates));
console.log(`best: batch ${batches[best]}`);
console.log(resultLine('inference-batch', rates[best] as number, rates[0] as number, 'img/s'));
