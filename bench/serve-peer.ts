// `tessera serve` (LibTorch back end, dynamic batching) against what a user would otherwise write:
// the same weights in PyTorch from Python behind http.server.ThreadingHTTPServer, PIL +
// torchvision transforms, one forward pass per request (bench/peers/serve_http.py), with the same
// thread count. Images/s and p50/p99 latency at 1, 16 and 64 concurrent clients on loopback; the
// two answer the same logits to the same input first. Goal: ≥ 2× at 64 clients.
//
//   node dist/bench/serve-peer.js [--model resnet18|fashion-net] [--size 64] [--threads N] [--seconds 10] [--reps 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultThreads, parseFlags } from './lib/harness.js';
import { benchModel, checkSameModel, compare, prepare, startPeer, startTessera } from './lib/serving.js';

const flags = parseFlags({ model: 'resnet18', size: 0, threads: defaultThreads(), seconds: 10, reps: 2, concurrency: '1,16,64', 'max-batch-size': 32 }, 'serve-peer: tessera serve vs PyTorch behind ThreadingHTTPServer');
const m = benchModel(flags.model, flags.size || undefined);
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
try {
  const p = await prepare(m, dir);
  console.log(`serve-peer: ${m.name} at ${m.channels}×${m.size}×${m.size}, ${flags.threads} threads each, ${flags.seconds} s per measurement, ${flags.reps} reps`);
  const ours = await startTessera('tessera serve (LibTorch, batching)', p.run, ['--threads', String(flags.threads), '--max-batch-size', String(flags['max-batch-size'])]);
  const peer = await startPeer(m, p.pt, flags.threads);
  try {
    console.log(`same model: logits agree (max |Δ| ${(await checkSameModel(ours, peer, m)).toExponential(1)})`);
    const ok = await compare('serve-peer', { label: ours.label, server: ours }, { label: 'PyTorch + ThreadingHTTPServer', server: peer }, {
      image: p.image, imageType: p.imageType, concurrency: flags.concurrency.split(',').map(Number), seconds: flags.seconds, reps: flags.reps,
    });
    process.exitCode = ok ? 0 : 1;
  } finally {
    await Promise.all([ours.stop(), peer.stop()]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
