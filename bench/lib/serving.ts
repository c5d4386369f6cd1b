// What the serving benches share: a run on disk (seeded weights, its model.onnx, a .pt copy for the
// Python peer), servers started as separate processes (`tessera serve`, or the peer behind Python's
// ThreadingHTTPServer), load from autocannon on loopback, and a comparison of two servers at
// several concurrencies. The two servers are measured in turns (ours, peer, peer, ours, …), never
// at once; the load generator runs in this process, on the same cores, for both alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import autocannon, { type Request, type Result } from 'autocannon';
import sharp from 'sharp';

import { io, manualSeed, models } from '../../src/index.js';
import { fitTransforms, Preprocessing } from '../../src/data/pipeline/preprocessing.js';
import { exportRun } from '../../src/export/run.js';
import { saveRunModel } from '../../src/run/saved-model.js';
import { fmt, peerPython, repoRoot, resultLine, stats } from './harness.js';

export interface BenchModel {
  name: 'fashion-net' | 'resnet18';
  channels: 1 | 3;
  size: number;
  mean: number[];
  std: number[];
}

export function benchModel(name: string, size?: number): BenchModel {
  if (name === 'fashion-net') return { name, channels: 1, size: size ?? 28, mean: [0.286], std: [0.353] };
  if (name === 'resnet18') return { name, channels: 3, size: size ?? 64, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };
  throw new Error(`--model must be fashion-net or resnet18, got ${name}`);
}

export interface Prepared {
  run: string;
  onnx: string;
  pt: string;
  /** One image at the model's input size, as a client would send it. */
  image: Buffer;
  imageType: string;
}

/** A run directory as `tessera train` leaves it, its exported model.onnx, and the weights as .pt. */
export async function prepare(m: BenchModel, dir: string): Promise<Prepared> {
  const run = join(dir, m.name);
  manualSeed(7);
  const options = { classes: 10, inChannels: m.channels, imageSize: m.size };
  const model = models.createModel(m.name, options);
  mkdirSync(run, { recursive: true });
  const classes = Array.from({ length: 10 }, (_, i) => `class-${i}`);
  const preprocessing = Preprocessing.of({ channels: m.channels, height: m.size, width: m.size, transforms: fitTransforms(m.size, m.size), mean: m.mean, std: m.std, memoryFormat: 'contiguous', classes });
  saveRunModel(run, model, { name: m.name, options, preprocessing });
  io.saveStateDict(join(dir, `${m.name}.pt`), model, { format: 'pt' });
  model.dispose();
  await exportRun(run, { verify: false });
  // A photo-like picture at the input size (a client resizes before sending): gradients and noise.
  const px = Buffer.alloc(m.size * m.size * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i % (m.size * 3)) + ((Math.imul(i, 2654435761) >>> 26) & 63);
  const image = m.channels === 1 ? await sharp(px, { raw: { width: m.size, height: m.size, channels: 3 } }).greyscale().png().toBuffer() : await sharp(px, { raw: { width: m.size, height: m.size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  return { run, onnx: join(run, 'model.onnx'), pt: join(dir, `${m.name}.pt`), image, imageType: m.channels === 1 ? 'image/png' : 'image/jpeg' };
}

export interface Running {
  label: string;
  url: string;
  /** Where images go on this server. */
  classifyPath: string;
  pid: number;
  /** What the server wrote on stderr so far. */
  log(): string;
  rssMb(): number;
  stop(): Promise<number | null>;
}

function started(label: string, child: ChildProcess, ready: RegExp, classifyPath: (url: string) => string): Promise<Running> {
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: not ready after 120 s:\n${err}`)), 120_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(err)?.[1];
      if (url && ready.test(err)) {
        clearTimeout(timer);
        resolve({
          label, url, classifyPath: classifyPath(url), pid: child.pid!, log: () => err,
          rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
          stop: async () => {
            child.kill('SIGTERM');
            return exit;
          },
        });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}:\n${err}`)); // no-op once resolved
    });
  });
}

/** `tessera serve <target> …args` on a free loopback port. */
export function startTessera(label: string, target: string, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'tessera.js'), 'serve', target, '--port', '0', '--name', 'm', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return started(label, child, /tessera serve: ready:/, (url) => `${url}/v2/models/m/classify`);
}

/** The peer: the same weights in PyTorch behind http.server.ThreadingHTTPServer. */
export function startPeer(m: BenchModel, pt: string, threads: number): Promise<Running> {
  const args = [join(repoRoot, 'bench', 'peers', 'serve_http.py'), '--model', m.name, '--weights', pt, '--channels', String(m.channels), '--size', String(m.size), '--mean', m.mean.join(','), '--std', m.std.join(','), '--threads', String(threads)];
  // The same OpenMP wait policy as `tessera serve` sets for itself, so the comparison is of the
  // servers, not of libgomp's spinning (which costs the peer's request threads as it costs ours).
  const child = spawn(peerPython(), args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' } });
  return started('python peer', child, /listening on/, (url) => `${url}/classify`);
}

/** Both servers run the same weights: our /infer and the peer's /logits agree on one input. */
export async function checkSameModel(ours: Running, peer: Running, m: BenchModel): Promise<number> {
  const n = m.channels * m.size * m.size;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
  const a = (await (await fetch(`${ours.url}/v2/models/m/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, m.channels, m.size, m.size], datatype: 'FP32', data: Array.from(x) }] }) })).json()) as { outputs: { data: number[] }[] };
  const b = (await (await fetch(`${peer.url}/logits`, { method: 'POST', body: Buffer.from(x.buffer) })).json()) as { logits: number[] };
  const ours0 = a.outputs[0]!.data;
  const worst = Math.max(...ours0.map((v, i) => Math.abs(v - b.logits[i]!) / (1e-4 + 1e-3 * Math.abs(v))));
  if (!(worst <= 1)) throw new Error(`the two servers disagree on the same input: ours ${ours0.slice(0, 3).join(', ')}…, peer ${b.logits.slice(0, 3).join(', ')}…`);
  return Math.max(...ours0.map((v, i) => Math.abs(v - b.logits[i]!)));
}

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function load(url: string, requests: Request[], connections: number, seconds: number): Promise<Load> {
  const r: Result = await autocannon({ url, connections, duration: seconds, timeout: 60, requests });
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

export interface Side {
  label: string;
  server: Running;
}

/**
 * Both servers at each concurrency, `reps` times in ABBA order after a warm-up each; prints a
 * table and the RESULT line for the highest concurrency (throughput, ours/peer).
 */
export async function compare(name: string, ours: Side, peer: Side, o: { image: Buffer; imageType: string; concurrency: number[]; seconds: number; reps: number }): Promise<boolean> {
  const request = (s: Side): Request[] => [{ method: 'POST', path: new URL(s.server.classifyPath).pathname, headers: { 'content-type': o.imageType }, body: o.image }];
  const rows: string[] = [];
  const best: Record<string, number[]> = { ours: [], peer: [] };
  let clean = true;
  for (const c of o.concurrency) {
    for (const s of [ours, peer]) await load(s.server.url, request(s), c, Math.min(2, o.seconds)); // warm-up
    const got: Record<string, Load[]> = { ours: [], peer: [] };
    for (let r = 0; r < o.reps; r++)
      for (const key of r % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours']) {
        const s = key === 'ours' ? ours : peer;
        got[key]!.push(await load(s.server.url, request(s), c, o.seconds));
      }
    for (const key of ['ours', 'peer']) {
      const runs = got[key]!;
      const rps = stats(runs.map((l) => l.rps)).median;
      const bad = runs.reduce((a, l) => a + l.non2xx + l.errors, 0);
      if (bad > 0) clean = false;
      if (c === o.concurrency[o.concurrency.length - 1]) best[key] = runs.map((l) => l.rps);
      const label = key === 'ours' ? ours.label : peer.label;
      rows.push(`${label.padEnd(34)} c=${String(c).padEnd(3)} ${fmt(rps).padStart(8)} req/s   p50 ${fmt(stats(runs.map((l) => l.p50)).median).padStart(6)} ms   p99 ${fmt(stats(runs.map((l) => l.p99)).median).padStart(6)} ms   non-2xx+errors ${bad}`);
      console.log(rows[rows.length - 1]);
    }
  }
  console.log(`\n${rows.join('\n')}`);
  if (!clean) console.log('some requests failed (non-2xx or connection errors): see the table');
  console.log(resultLine(name, stats(best.ours!).median, stats(best.peer!).median, 'req/s'));
  return clean;
}
