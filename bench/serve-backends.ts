// `tessera serve` on the LibTorch back end against the same run's exported model.onnx in ONNX
// Runtime (--backend onnx), both with dynamic batching: images/s and p50/p99 latency at 1, 16 and
// 64 concurrent clients on loopback. RESULT: throughput at the highest concurrency, torch/onnx.
//
//   node dist/bench/serve-backends.js [--model resnet18|fashion-net] [--size 64] [--threads N] [--seconds 10] [--reps 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultThreads, parseFlags } from './lib/harness.js';
import { benchModel, compare, prepare, startTessera } from './lib/serving.js';

const flags = parseFlags({ model: 'resnet18', size: 0, threads: defaultThreads(), seconds: 10, reps: 2, concurrency: '1,16,64', 'max-batch-size': 32 }, 'serve-backends: LibTorch vs ONNX Runtime behind the same server');
const m = benchModel(flags.model, flags.size || undefined);
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
try {
  const p = await prepare(m, dir);
  console.log(`serve-backends: ${m.name} at ${m.channels}×${m.size}×${m.size}, ${flags.threads} threads, ${flags.seconds} s per measurement, ${flags.reps} reps`);
  const args = ['--threads', String(flags.threads), '--max-batch-size', String(flags['max-batch-size'])];
  const torch = await startTessera('tessera, LibTorch back end', p.run, args);
  const onnx = await startTessera('tessera, ONNX Runtime back end', p.run, [...args, '--backend', 'onnx']);
  try {
    const ok = await compare('serve-backends', { label: torch.label, server: torch }, { label: onnx.label, server: onnx }, {
      image: p.image, imageType: p.imageType, concurrency: flags.concurrency.split(',').map(Number), seconds: flags.seconds, reps: flags.reps,
    });
    process.exitCode = ok ? 0 : 1;
  } finally {
    await Promise.all([torch.stop(), onnx.stop()]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
