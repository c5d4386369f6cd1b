// The doctor's memory at a million files (issue 12 item 6: "under 1 GB at 1,000,000 files"), without
// writing a million files: N synthetic files' facts (an ImageNet-like path, a SHA-256, a size, a
// pHash) go through the doctor's running totals (tally.ts: the per-file columns, the content index,
// the look-alike index) as `checkDataset` feeds them, then the report's summary is made. Prints the
// rate, the heap and RSS after the pass and the peak RSS. What this leaves out is bounded by the
// check's concurrency, not by N (the files being decoded at once); bench/data-check.ts measures the
// whole pass on real files.
//
// Kinds: 'distinct' (every pHash random: a million groups of one in the look-alike index) and
// 'similar' (ten base hashes, each file one of them with up to 4 bits flipped: ten groups of N/10
// look-alikes, the case that grew quadratically before). One in 50 files is an exact copy of an
// earlier one (same SHA-256).
//
//   node --expose-gc dist/bench/data-check-tally.js [--files 1000000] [--kind both|similar|distinct]
import type { FileFacts } from '../src/data/doctor/inspect.js';
import { Tally } from '../src/data/doctor/tally.js';
import { RandomStream } from '../src/data/random.js';
import { fmt, parseFlags } from './lib/harness.js';

const flags = parseFlags({ files: 1_000_000, kind: 'both', seed: 1 }, 'node --expose-gc dist/bench/data-check-tally.js: the doctor\'s per-file state for N synthetic files (memory at scale)');
if (!['both', 'similar', 'distinct'].includes(String(flags.kind))) throw new Error(`--kind must be both, similar or distinct, got ${String(flags.kind)}`);

const CLASSES = 1000;
const classNames = Array.from({ length: CLASSES }, (_, c) => `n${String(1_440_764 + c * 7919).padStart(8, '0')}`);

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => `${fmt(n / 2 ** 20)} MB`;
const count = (n: number) => n.toLocaleString('en-US');

function run(kind: 'similar' | 'distinct'): void {
  gc?.();
  const before = process.memoryUsage();
  // Philox: a linear generator (xorshift) makes random hashes far closer to each other than chance.
  const r = new RandomStream({ seed: flags.seed, purpose: 'test', stream: kind === 'similar' ? 1 : 0 });
  const next = () => r.uint32();
  const bases = Array.from({ length: 10 }, () => ({ hi: next(), lo: next() }));
  const tally = new Tally({ nearDistance: 8, maxListed: 1000, classNames });
  const sha = Buffer.alloc(32);
  const t0 = performance.now();
  for (let k = 0; k < flags.files; k++) {
    const label = k % CLASSES;
    const cls = classNames[label] as string;
    const copy = k > 0 && k % 50 === 0;
    if (!copy) for (let i = 0; i < 32; i += 4) sha.writeUInt32LE(next(), i);
    let phash = { hi: next(), lo: next() };
    if (kind === 'similar') {
      const base = bases[k % 10] as { hi: number; lo: number };
      phash = { hi: base.hi, lo: base.lo };
      for (let f = next() % 5; f > 0; f--) {
        const bit = next() % 64;
        if (bit < 32) phash.hi = (phash.hi ^ (1 << bit)) >>> 0;
        else phash.lo = (phash.lo ^ (1 << (bit - 32))) >>> 0;
      }
    }
    const facts: FileFacts = { bytes: 110_000 + (next() % 20_000), sha256: sha.toString('hex'), format: 'jpeg', width: 500, height: 375, traits: [], phash, issues: [] };
    tally.add({ id: `/mnt/datasets/photos/train/${cls}/${cls}_${k}.JPEG`, index: k, label, classes: classNames }, facts, true);
  }
  const added = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const s = tally.summary();
  const summarised = (performance.now() - t1) / 1000;
  gc?.();
  const after = process.memoryUsage();
  console.log(
    `${kind}: ${count(flags.files)} files in ${added.toFixed(1)} s (${fmt(flags.files / added)} files/s through the tally), summary ${summarised.toFixed(1)} s; ` +
      `${count(s.exact.groups)} exact-copy groups, ${count(s.near.groups)} look-alike groups of ${count(s.near.members)} members (${s.duplicates.near.length} listed); ` +
      `heap +${mb(after.heapUsed - before.heapUsed)}, array buffers +${mb(after.arrayBuffers - before.arrayBuffers)}, RSS ${mb(after.rss)}${gc ? '' : ' (run with --expose-gc for settled numbers)'}`,
  );
  if (s.near.groups === 0 && kind === 'similar') throw new Error('similar: no look-alike group found');
}

if (flags.kind !== 'similar') run('distinct');
if (flags.kind !== 'distinct') run('similar');
console.log(`peak RSS of the process: ${mb(process.resourceUsage().maxRSS * 1024)}`);
