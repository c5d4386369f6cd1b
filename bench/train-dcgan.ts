// Training speed of a DCGAN step — D on real and fake images and its update, then G through D and
// its update, PyTorch's example (pytorch/examples dcgan/main.py) step for step — with models.dcgan
// and two optim.Adam (lr 2e-4, betas 0.5/0.999) against the same models and loop in PyTorch
// (bench/peers/train_dcgan.py). The peer writes its initial netG/netD state dicts, real batches
// (uniform in [-1, 1]) and the noise; Tessera loads them by name, so both sides start from the same
// weights and see the same numbers. Then, as bench/lib/training.ts does: the losses of the first
// steps side by side (numerics), warm-up, interleaved timed repetitions. Metric: images per second
// (one real and one generated image per batch element and step). Default 32×32×3 (the example's
// 64×64 with --imageSize 64 is ~4× the work): about a second a step on 2 cores.
//
//   node dist/bench/train-dcgan.js [--threads N] [--imageSize 32] [--batch 64] [--reps 5] [--steps 3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { full, memoryStats, models, nn, optim, scope, setNumThreads, tensor, type Tensor } from '../src/index.js';
import { defaultThreads, describeEngines, describeLoad, describeStats, fmt, interleaveN, parseFlags, Peer, resultLine, stats, type PeerInfo } from './lib/harness.js';

const flags = parseFlags(
  { threads: defaultThreads(), seed: 0, batch: 64, batches: 2, imageSize: 32, nz: 100, ngf: 64, ndf: 64, nc: 3, check: 3, warmup: 2, steps: 3, reps: 5 },
  'node dist/bench/train-dcgan.js: a DCGAN training step (G and D updates), Tessera against PyTorch',
);
setNumThreads(flags.threads);

interface Entry { name: string; shape: number[]; dtype: 'float32' | 'int64'; file: string }
interface Manifest { generator: Entry[]; discriminator: Entry[]; real: { file: string; shape: number[] }; noise: { file: string; shape: number[] } }

const bytes = (path: string) => {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};
const stateDict = (dir: string, entries: Entry[]) =>
  new Map(entries.map((e) => [e.name, tensor(e.dtype === 'int64' ? new BigInt64Array(bytes(join(dir, e.file))) : new Float32Array(bytes(join(dir, e.file))), { shape: e.shape })]));
/** A (batches, ...) float32 file as one tensor per batch. */
const batchesOf = (dir: string, f: { file: string; shape: number[] }) => {
  const [n, ...shape] = f.shape as [number, ...number[]];
  const all = new Float32Array(bytes(join(dir, f.file)));
  const size = all.length / n;
  return Array.from({ length: n }, (_, i) => tensor(all.subarray(i * size, (i + 1) * size), { shape }));
};

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-train-dcgan-'));
const peer = Peer.start('train_dcgan.py');
let failed = false;
try {
  const { threads, seed, batch, batches, nz, ngf, ndf, nc, imageSize } = flags;
  const info = await peer.call<PeerInfo & { model: string }>('init', { threads, dir, seed, batch, batches, nz, ngf, ndf, nc, image_size: imageSize });
  console.log(`train-dcgan: DCGAN ${imageSize}x${imageSize}x${nc} (nz ${nz}, ngf ${ngf}, ndf ${ndf}), BCE, Adam lr 2e-4 betas (0.5, 0.999) per model, batch ${batch}`);
  console.log(`${flags.reps} repetitions of ${flags.steps} steps after ${flags.check}+${flags.warmup} warm-up steps`);
  console.log(describeEngines(peer, info));

  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const gan = models.dcgan({ nz, ngf, ndf, nc, imageSize });
  for (const [part, entries] of [[gan.generator, m.generator], [gan.discriminator, m.discriminator]] as const)
    scope(() => void part.loadStateDict(stateDict(dir, entries))); // strict: every key, the same shapes
  gan.train();
  const [G, D] = [gan.generator, gan.discriminator];
  const optD = new optim.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const optG = new optim.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const real = batchesOf(dir, m.real);
  const noise = batchesOf(dir, m.noise);
  let k = 0;
  const step = (): [number, number] =>
    scope(() => {
      const i = k++ % real.length;
      const x = real[i] as Tensor;
      const [ones, zeros] = [full([x.size(0)], 1, { dtype: 'float32' }), full([x.size(0)], 0, { dtype: 'float32' })];
      // (1) D: real → 1, G(z).detach() → 0, one update
      D.zeroGrad();
      const errReal = nn.functional.binaryCrossEntropy(D.forward(x), ones);
      errReal.backward();
      const fake = G.forward(noise[i] as Tensor);
      const errFake = nn.functional.binaryCrossEntropy(D.forward(fake.detach()), zeros);
      errFake.backward();
      const errD = errReal.add(errFake);
      optD.step();
      // (2) G: D(G(z)) → 1, one update
      G.zeroGrad();
      const errG = nn.functional.binaryCrossEntropy(D.forward(fake), ones);
      errG.backward();
      optG.step();
      return [errD.item() as number, errG.item() as number];
    });

  // 1. Numerics: the same losses from the same start.
  const theirs = (await peer.call<{ losses: [number, number][] }>('steps', { n: flags.check })).losses;
  const ours = Array.from({ length: flags.check }, () => step());
  console.log('\nnumerics, [errD, errG] per step from identical weights and data:');
  let worst = 0;
  ours.forEach((o, i) => {
    const p = theirs[i] as [number, number];
    const rel = o.map((v, j) => Math.abs(v - (p[j] as number)) / Math.max(1e-6, Math.abs(p[j] as number)));
    worst = Math.max(worst, ...rel);
    console.log(`  step ${i + 1}  Tessera [${o.map((v) => v.toFixed(7)).join(', ')}]  PyTorch [${p.map((v) => v.toFixed(7)).join(', ')}]`);
    if (i === 0 && Math.max(...rel) > 1e-5) failed = true;
  });
  if (worst > 1e-3) failed = true;
  console.log(failed ? `numerics: MISMATCH (worst relative difference ${worst.toExponential(2)})` : `numerics: same computation (worst relative difference ${worst.toExponential(2)})`);

  // 2, 3. Warm-up, then interleaved timed repetitions.
  const rate = (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    return (n * batch) / ((performance.now() - t0) / 1000);
  };
  const peerRate = async (n: number) => (await peer.call<{ rate: number }>('rep', { steps: n })).rate;
  console.log(`warm-up: Tessera ${fmt(rate(flags.warmup))} img/s, PyTorch ${fmt(await peerRate(flags.warmup))} img/s`);
  const live = memoryStats().liveTensors;
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [peer.pid],
    sides: [
      { label: 'Tessera', run: () => rate(flags.steps) },
      { label: 'PyTorch', run: () => peerRate(flags.steps) },
    ],
    onRep: (i, side, v, pct) => console.log(`  rep ${String(i + 1).padStart(2)} ${side === 0 ? 'Tessera' : 'PyTorch'} ${fmt(v).padStart(7)} img/s   (other processes ${pct.toFixed(0)}%)`),
  });
  const after = memoryStats().liveTensors;
  const [o, p] = r.values.map((v) => stats(v)) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`\nTessera  ${describeStats(o, 'img/s')}\nPyTorch  ${describeStats(p, 'img/s')}`);
  console.log(describeLoad(r));
  console.log(`live tensors before/after timing: ${live}/${after}${after === live ? '' : '  LEAK'}`);
  if (after !== live) failed = true;
  console.log(`goal >= 1.0x PyTorch: ${o.median / p.median >= 1 ? 'met' : 'NOT met'} (${(o.median / p.median).toFixed(3)}x)`);
  console.log(resultLine('train-dcgan', o.median, p.median, 'img/s'));
  optD.dispose();
  optG.dispose();
  gan.dispose();
  for (const t of [...real, ...noise]) t.dispose();
} finally {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
