// A soak of `tessera serve`: 100,000 requests on loopback from 32 connections, one in ten malformed
// (truncated, empty, GIF and bomb images, text/plain, broken JSON, wrong shapes and datatypes),
// bounded in time. Passes (exit 0) with no 5xx other than 503, no malformed request answered 2xx,
// the server still up (same model worker, never restarted) and exiting 0 on SIGTERM, and its
// resident memory flat: the last tenth of the run within 20% of the second tenth.
// RESULT: resident memory at the end against after warm-up, MB.
//
//   node dist/bench/serve-soak.js [--requests 100000] [--connections 32] [--max-seconds 900] [--model fashion-net]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon, { type Request, type Result } from 'autocannon';
import sharp from 'sharp';

import { defaultThreads, fmt, parseFlags, resultLine, stats } from './lib/harness.js';
import { benchModel, prepare, startTessera } from './lib/serving.js';

const flags = parseFlags({ requests: 100_000, connections: 32, 'max-seconds': 900, model: 'fashion-net', threads: defaultThreads(), 'max-growth': 1.2 }, 'serve-soak: many requests, 10% malformed: no 5xx but 503, no crash, flat memory');
const m = benchModel(flags.model);
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-soak-'));

function malformed(image: Buffer, gif: Buffer, bomb: Buffer): Request[] {
  const infer = (body: unknown) => ({ method: 'POST', path: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tensor = (shape: number[], datatype = 'FP32') => infer({ inputs: [{ name: 'input', shape, datatype, data: Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }] });
  const classify = (body: Buffer, type: string) => ({ method: 'POST', path: '/v2/models/m/classify', headers: { 'content-type': type }, body });
  return [
    classify(image.subarray(0, image.length >> 1), 'image/jpeg'),
    classify(Buffer.alloc(0), 'image/png'),
    classify(gif, 'image/png'),
    classify(bomb, 'image/png'),
    classify(Buffer.from('hello'), 'text/plain'),
    { method: 'POST', path: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, body: '{"inputs": [{"name": "input", "shape": [1,' },
    tensor([1, m.channels, m.size, m.size + 1]),
    tensor([1, m.channels, m.size, m.size], 'INT8'),
  ];
}

try {
  const p = await prepare(m, dir);
  const gif = await sharp(p.image).gif().toBuffer();
  const bomb = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: 'white' } }).png().toBuffer();
  // 36 Mpx of one colour in a few hundred kB: over the server's default 25 Mpx limit.
  const good: Request = { method: 'POST', path: '/v2/models/m/classify', headers: { 'content-type': p.imageType }, body: p.image };
  const bad = malformed(p.image, gif, bomb);
  // Blocks of ten requests, the tenth malformed, cycling through every kind of malformed request.
  const sequence = bad.flatMap((b) => [...Array<Request>(9).fill(good), b]);
  const server = await startTessera('tessera serve', p.run, ['--threads', String(flags.threads)]);
  console.log(`serve-soak: ${flags.requests.toLocaleString('en-US')} requests (${bad.length} kinds of malformed, 1 in 10) from ${flags.connections} connections to ${m.name}, at most ${flags['max-seconds']} s`);
  const rss: { t: number; mb: number }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => rss.push({ t: performance.now() - t0, mb: server.rssMb() }), 500);
  let result: Result;
  try {
    result = await new Promise<Result>((resolve, reject) => {
      const run = autocannon({ url: server.url, connections: flags.connections, amount: flags.requests, timeout: 60, requests: sequence }, (err, r) => (err ? reject(err) : resolve(r)));
      setTimeout(() => run.stop(), flags['max-seconds'] * 1000).unref();
    });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - t0) / 1000;
  const codes = Object.entries(result.statusCodeStats).map(([code, s]) => [Number(code), Number(s.count)] as const).sort((a, b) => a[0] - b[0]);
  const total = codes.reduce((a, [, n]) => a + n, 0);
  const count = (f: (code: number) => boolean) => codes.filter(([c]) => f(c)).reduce((a, [, n]) => a + n, 0);
  const fiveHundreds = count((c) => c >= 500 && c !== 503);
  const malformedAnswered = count((c) => c >= 400 && c < 500);
  console.log(`${total.toLocaleString('en-US')} answers in ${seconds.toFixed(0)} s (${fmt(total / seconds)} req/s): ${codes.map(([c, n]) => `${c}×${n}`).join(', ')}; connection errors ${result.errors}, timeouts ${result.timeouts}`);
  const alive = (await fetch(`${server.url}/v2/health/live`).then((r) => r.status).catch(() => 0)) === 200;
  const restarted = /model worker/.test(server.log());
  const tenth = (k: number) => stats(rss.filter((s) => s.t >= (k * seconds * 1000) / 10 && s.t < ((k + 1) * seconds * 1000) / 10).map((s) => s.mb)).median;
  const [warm, end] = [tenth(1), tenth(9)];
  console.log(`resident memory: ${fmt(warm)} MB in the second tenth of the run, ${fmt(end)} MB in the last (max ${fmt(Math.max(...rss.map((s) => s.mb)))} MB)`);
  const exit = await server.stop();
  const problems = [
    ...(fiveHundreds > 0 ? [`${fiveHundreds} answers 5xx other than 503`] : []),
    ...(Math.abs(malformedAnswered - total / 10) > total / 100 + flags.connections ? [`${malformedAnswered} 4xx answers for ${Math.round(total / 10)} malformed requests`] : []),
    ...(alive ? [] : ['the server was not answering at the end']),
    ...(restarted ? ['the model worker was restarted'] : []),
    ...(exit === 0 ? [] : [`the server exited with ${exit} on SIGTERM`]),
    ...(end / warm > flags['max-growth'] ? [`resident memory grew ${((end / warm - 1) * 100).toFixed(0)}%`] : []),
    // autocannon stops at `amount` sent, with up to one request per connection still unanswered.
    ...(total < flags.requests - flags.connections ? [`only ${total} of ${flags.requests} requests were answered within ${flags['max-seconds']} s`] : []),
  ];
  console.log(problems.length === 0 ? 'soak passed' : `soak FAILED: ${problems.join('; ')}`);
  console.log(resultLine('serve-soak', end, warm, 'MB'));
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
