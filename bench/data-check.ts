// Whole-data-set passes at scale (issue 12 item 6): N generated 48×48 JPEGs in 10 class folders,
// then the dataset doctor (`checkDataset`, what `tessera data check` runs) and `packDataset` at size
// 32 (what `tessera data pack --size 32` runs), each in a child process of its own so its peak
// memory is its own: files per second, peak RSS, and what the doctor found.
//
// Two kinds of data: 'distinct' (every image its own picture) and 'similar' (one base picture per
// class, each file that picture plus noise: 10 groups of N/10 look-alikes, the case where listing
// near-duplicate pairs grows quadratically — 5·10^8 pairs at N = 100,000). No peer: the goals are
// the (check ≥ 2,000 files/s, pack ≥ 5,000 samples/s on 2 cores, memory bounded: under
// 1 GB at 1,000,000 files). Not in CI and not in run-all.sh: writing 100,000 files takes a minute.
//
// With --dir the files are written under that folder (once: a later run with the same --dir and
// --files reuses them) and left there.
//
//   node dist/bench/data-check.js [--files 100000] [--kind both|similar|distinct] [--threads N] [--dir PATH]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { checkDataset } from '../src/data/doctor/index.js';
import { packDataset } from '../src/data/pack/index.js';
import { imageFolder } from '../src/data/sources/image-folder.js';
import { RandomStream } from '../src/data/random.js';
import { defaultThreads, fmt, parseFlags } from './lib/harness.js';

const SIDE = 48;
const CLASSES = 10;

interface ChildResult {
  what: 'check' | 'pack';
  files: number;
  seconds: number;
  maxRssMB: number;
  detail: string;
}

/** The child: one pass over `dir`, then its numbers as one JSON line. */
async function child(what: 'check' | 'pack', dir: string, threads: number): Promise<void> {
  const t0 = performance.now();
  let result: ChildResult;
  if (what === 'check') {
    const r = await checkDataset(dir, { threads });
    const seconds = (performance.now() - t0) / 1000;
    const groups = r.duplicates.near.length + r.omitted.nearGroups;
    result = { what, files: r.files, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, detail: `${r.errors} errors, ${groups} look-alike group(s) (${r.duplicates.near.reduce((n, g) => n + g.count, 0)} files in the listed ones), ${r.duplicates.exact.length + r.omitted.exactGroups} exact group(s); report ${(JSON.stringify(r).length / 1024).toFixed(0)} KB` };
  } else {
    const out = join(dir, '..', `packed-${process.pid}`);
    const s = await packDataset(await imageFolder(dir), out, { size: 32, threads });
    rmSync(out, { recursive: true, force: true });
    result = { what, files: s.count, seconds: s.seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, detail: `${s.raw} raw, ${s.jpeg} JPEG, ${s.skipped.length} skipped, ${s.shards} shard(s) of ${(s.bytes / 1e6).toFixed(1)} MB` };
  }
  console.log(JSON.stringify(result));
}

/** N 48×48 JPEGs (q90) in 10 class folders; 'similar': one base picture per class plus per-file noise. */
async function writeFiles(root: string, n: number, similar: boolean): Promise<void> {
  const r = new RandomStream({ seed: 7, purpose: 'test' });
  // A gradient, a texture and three blocks of random colour, place and size: enough structure at
  // the pHash's frequencies that unrelated pictures hash far apart.
  const picture = (): Uint8Array => {
    const px = new Uint8Array(SIDE * SIDE * 3);
    const c = Array.from({ length: 9 }, () => r.float() * 255);
    const fx = 0.1 + r.float() * 0.5;
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++)
        for (let ch = 0; ch < 3; ch++)
          px[(y * SIDE + x) * 3 + ch] = Math.max(0, Math.min(255, (c[ch] as number) * (x / SIDE) + (c[ch + 3] as number) * (y / SIDE) + (c[ch + 6] as number) * 0.3 * Math.sin(x * fx + y * fx * 0.7)));
    for (let b = 0; b < 3; b++) {
      const [x0, y0] = [r.int(0, SIDE - 8), r.int(0, SIDE - 8)];
      const [w, h] = [r.int(6, SIDE - x0 + 1), r.int(6, SIDE - y0 + 1)];
      const colour = [r.int(0, 256), r.int(0, 256), r.int(0, 256)];
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) px.set(colour, (y * SIDE + x) * 3);
    }
    return px;
  };
  const bases = Array.from({ length: CLASSES }, picture);
  for (let c = 0; c < CLASSES; c++) mkdirSync(join(root, `class${c}`));
  for (let k = 0; k < n; k++) {
    const px = similar ? Uint8Array.from(bases[k % CLASSES] as Uint8Array) : picture();
    if (similar) for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, (px[i] as number) + Math.floor(r.float() * 13) - 6));
    writeFileSync(join(root, `class${k % CLASSES}`, `${String(k).padStart(7, '0')}.jpg`), await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'check' | 'pack', process.argv[4] as string, Number(process.argv[5]));
} else {
  const flags = parseFlags({ files: 100_000, kind: 'both', threads: defaultThreads(), dir: '' },
    'node dist/bench/data-check.js: data check and data pack --size 32 over generated 48×48 JPEGs: files/s and peak memory against the issue\'s goals');
  const kinds = flags.kind === 'both' ? ['distinct', 'similar'] : [String(flags.kind)];
  if (!kinds.every((k) => k === 'distinct' || k === 'similar')) throw new Error(`--kind must be both, similar or distinct, got ${flags.kind}`);
  const root = flags.dir ? String(flags.dir) : mkdtempSync(join(tmpdir(), 'tessera-bench-check-'));
  const self = fileURLToPath(import.meta.url);
  let failed = false;
  try {
    for (const kind of kinds) {
      const dir = join(root, `${kind}-${flags.files}`);
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        const t0 = performance.now();
        await writeFiles(dir, flags.files, kind === 'similar');
        console.log(`${kind}: wrote ${fmt(flags.files)} JPEGs of ${SIDE}×${SIDE} in ${CLASSES} class folders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      } else console.log(`${kind}: using the ${fmt(flags.files)} files in ${dir}`);
      for (const what of ['check', 'pack'] as const) {
        const p = spawnSync(process.execPath, [self, '--child', what, dir, String(flags.threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        const line = p.stdout.trim().split('\n').at(-1) ?? '';
        if (p.status !== 0 || !line.startsWith('{')) {
          console.log(`${kind} ${what}: FAILED (status ${p.status})\n${p.stderr}`);
          failed = true;
          continue;
        }
        const c = JSON.parse(line) as ChildResult;
        const rate = c.files / c.seconds;
        const goal = what === 'check' ? 2000 : 5000;
        console.log(`${kind} ${what}: ${fmt(c.files)} files in ${c.seconds.toFixed(1)} s = ${fmt(rate)} files/s (goal ≥ ${fmt(goal)}: ${rate >= goal ? 'met' : 'NOT met'}), peak RSS ${c.maxRssMB.toFixed(0)} MB; ${c.detail}`);
      }
    }
    console.log(`threads ${flags.threads}; the doctor keeps a few tens of bytes per file plus its id (src/data/doctor/tally.ts): compare the peak RSS of two --files sizes to see the per-file cost`);
  } finally {
    if (!flags.dir) rmSync(root, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}
