// The DCGAN check of issue #14: PyTorch's DCGAN (models.dcgan at 28×28×1, nz 100, ngf/ndf 64, batch
// 64, Adam 2e-4 with β1 0.5, BCE) trained on all 60,000 Fashion-MNIST training images by
// `tessera gan` for a few epochs must cover at least 8 of the 10 classes, and its Fréchet distance
// must fall well below the untrained generator's (to a quarter of it or less). The distance is
// measured as `tessera gan --classifier` does: in the penultimate features of a fashion-net Tessera
// trained (the main job's, `runs/fashion-net-fashion-mnist` after `npm start`), between
// --quality-samples generated images and as many of the 10,000 test images; a class is covered
// when the classifier gives it at least 2% of the generated images.
//
// Too slow for the test suite on 2 cores (test/run/gan.test.ts checks the mechanics on 8×8 images):
// a check script, not a timed benchmark — it prints the figures, the time per epoch, and whether the
// two goals are met (exit status 1 if not). Its times are only worth quoting from a quiet machine.
//
//   node dist/bench/gan-fashion-mnist.js [--classifier runs/fashion-net-fashion-mnist] [--epochs 3]
//        [--imageSize 28] [--threads N] [--qualitySamples 2000] [--out /tmp/…]
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GanConfig } from '../src/run/gan/config.js';
import { runGan } from '../src/run/gan/run.js';
import type { GanReportData } from '../src/report/gan.js';
import { defaultThreads, parseFlags } from './lib/harness.js';

const flags = parseFlags(
  { classifier: 'runs/fashion-net-fashion-mnist', epochs: 3, imageSize: 28, threads: defaultThreads(), qualitySamples: 2000, batch: 64, seed: 0, out: '' },
  'node dist/bench/gan-fashion-mnist.js: train a DCGAN on Fashion-MNIST with tessera gan and check its class coverage and Fréchet distance',
);
if (!existsSync(join(flags.classifier, 'model.json'))) {
  console.error(`gan-fashion-mnist: no classifier at ${flags.classifier}: train the main job first (tessera train, or npm start), or give --classifier runs/<a fashion-net run>`);
  process.exit(2);
}
const outDir = flags.out || mkdtempSync(join(tmpdir(), 'tessera-gan-fashion-mnist-'));
const config = GanConfig.parse({
  name: 'dcgan-fashion-mnist',
  outDir,
  data: { source: 'fashion-mnist', imageSize: flags.imageSize },
  train: { epochs: flags.epochs, batchSize: flags.batch, seed: flags.seed, threads: flags.threads },
  quality: { classifier: flags.classifier, samples: flags.qualitySamples },
});
console.log(`gan-fashion-mnist: DCGAN ${flags.imageSize}×${flags.imageSize}×1 on Fashion-MNIST, ${flags.epochs} epochs, batch ${flags.batch}, ${flags.threads} threads; run directory ${join(outDir, config.name as string)}`);
const t0 = performance.now();
const summary = await runGan(config, { log: (l) => console.log(l) });
const wall = (performance.now() - t0) / 1000;
const report = JSON.parse(readFileSync(join(summary.dir, 'report.json'), 'utf8')) as GanReportData;
const q = report.quality;
if (!q || !summary.quality) throw new Error('the run has no quality figure');

console.log('\nepoch  seconds  loss D  loss G   D(x)  D(G(z))  Fréchet distance  classes covered');
for (const p of q.points) {
  const h = report.history[p.epoch - 1];
  const cells = h ? [(h.seconds ?? NaN).toFixed(0).padStart(7), (h.loss_d ?? NaN).toFixed(3).padStart(6), (h.loss_g ?? NaN).toFixed(3).padStart(6), (h.d_x ?? NaN).toFixed(3).padStart(6), (h.d_g_z1 ?? NaN).toFixed(3).padStart(7)] : ['      —', '     —', '     —', '     —', '      —'];
  console.log(`${String(p.epoch).padStart(5)}  ${cells.join('  ')}  ${p.frechetDistance.toFixed(3).padStart(16)}  ${String(p.classCoverage).padStart(15)}${p.epoch === 0 ? '   (untrained)' : ''}`);
}
const { frechetDistance: fd, before, classCoverage } = summary.quality;
const last = q.points.at(-1) as (typeof q.points)[number];
console.log(`\nreal vs real at this size: ${q.realFloor?.toFixed(3) ?? '—'}; per class (last epoch): ${last.counts.map((c, k) => `${q.classes[k]} ${c}`).join(', ')}`);
const epochSeconds = report.history.map((h) => h.seconds ?? 0);
console.log(`time: ${wall.toFixed(0)} s in all, ${(epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, epochSeconds.length)).toFixed(0)} s per epoch of training (${report.history.at(-1)?.imagesPerSecond?.toFixed(0)} images/s in the last)`);
const covered = classCoverage >= 8;
const fell = fd <= before / 4;
console.log(`goal: ≥ 8 classes covered: ${covered ? 'met' : 'NOT met'} (${classCoverage})`);
console.log(`goal: Fréchet distance ≤ a quarter of the untrained generator's: ${fell ? 'met' : 'NOT met'} (${fd.toFixed(3)} vs ${before.toFixed(3)}, ${(fd / before).toFixed(3)}×)`);
console.log(`report: ${summary.reportPath}`);
if (!covered || !fell) process.exitCode = 1;
