// `tessera serve` with dynamic batching against the same server sending one image per forward pass
// (--max-batch-size 1): images/s and p50/p99 latency at 1, 16 and 64 concurrent clients on
// loopback. Goal: ≥ 4× the throughput at 64 clients. RESULT: throughput at the highest concurrency.
//
//   node dist/bench/serve-batching.js [--model resnet18|fashion-net] [--size 64] [--threads N] [--seconds 10] [--reps 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultThreads, parseFlags } from './lib/harness.js';
import { benchModel, compare, prepare, startTessera } from './lib/serving.js';

const flags = parseFlags({ model: 'resnet18', size: 0, threads: defaultThreads(), seconds: 10, reps: 2, concurrency: '1,16,64', 'max-batch-size': 32 }, 'serve-batching: dynamic batching vs batch size 1, same server, same model');
const m = benchModel(flags.model, flags.size || undefined);
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
try {
  const p = await prepare(m, dir);
  console.log(`serve-batching: ${m.name} at ${m.channels}×${m.size}×${m.size}, ${flags.threads} threads, ${flags.seconds} s per measurement, ${flags.reps} reps`);
  const threads = ['--threads', String(flags.threads)];
  const dynamic = await startTessera('tessera, dynamic batching', p.run, [...threads, '--max-batch-size', String(flags['max-batch-size'])]);
  const single = await startTessera('tessera, --max-batch-size 1', p.run, [...threads, '--max-batch-size', '1']);
  try {
    const ok = await compare('serve-batching', { label: dynamic.label, server: dynamic }, { label: single.label, server: single }, {
      image: p.image, imageType: p.imageType, concurrency: flags.concurrency.split(',').map(Number), seconds: flags.seconds, reps: flags.reps,
    });
    process.exitCode = ok ? 0 : 1;
  } finally {
    await Promise.all([dynamic.stop(), single.stop()]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
