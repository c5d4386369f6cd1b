import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { datasetFingerprint, groupSplit, kFold, loadSplits, randomSplit, saveSplits, SplitsFileError, stratifiedSplit, type Splits } from '../../../src/data/splits.js';
import { MemoryDataset } from '../loader/fixtures/datasets.js';

/** Every index 0..n-1 in exactly one split. */
function assertPartition(splits: Splits | Int32Array[], n: number): void {
  const all = (Array.isArray(splits) ? splits : Object.values(splits)).flatMap((s) => Array.from(s));
  assert.equal(all.length, n, 'sizes add up to n');
  assert.deepEqual(all.sort((a, b) => a - b), [...Array(n).keys()]);
}

const sizes = (s: Splits) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.length]));

describe('splits', () => {
  it('random: largest-remainder sizes, every sample once, seeded, ascending', () => {
    const s = randomSplit(101, { train: 0.8, val: 0.1, test: 0.1 }, { seed: 1 });
    assert.deepEqual(sizes(s), { train: 81, val: 10, test: 10 }); // 80.8 → 81, 10.1 → 10, 10.1 → 10
    assertPartition(s, 101);
    assert.deepEqual(Array.from(s.val as Int32Array), [...(s.val as Int32Array)].sort((a, b) => a - b));
    assert.deepEqual(randomSplit(101, { train: 0.8, val: 0.1, test: 0.1 }, { seed: 1 }), s);
    assert.notDeepEqual(randomSplit(101, { train: 0.8, val: 0.1, test: 0.1 }, { seed: 2 }), s);
    assert.deepEqual(sizes(randomSplit(10, { a: 0.7, b: 0.3 })), { a: 7, b: 3 });
    assert.deepEqual(sizes(randomSplit(10, { a: 1 / 3, b: 1 / 3, c: 1 / 3 })), { a: 4, b: 3, c: 3 }); // ties: first named
    assert.throws(() => randomSplit(10, { a: 0.5, b: 0.4 }), /ratios sum to 0.9/);
  });

  it('stratified: each class within one sample of its share in every split; totals close to the ratios', () => {
    // Classes of 7, 13, 50, 3 and 27 samples.
    const labels = [...Array(7).fill(0), ...Array(13).fill(1), ...Array(50).fill(2), ...Array(3).fill(3), ...Array(27).fill(4)];
    const ratios = { train: 0.7, val: 0.2, test: 0.1 };
    const s = stratifiedSplit(labels, ratios, { seed: 4 });
    assertPartition(s, labels.length);
    for (const [name, idx] of Object.entries(s)) {
      for (let c = 0; c < 5; c++) {
        const nc = labels.filter((l) => l === c).length;
        const got = Array.from(idx).filter((i) => labels[i] === c).length;
        assert.ok(Math.abs(got - ratios[name as keyof typeof ratios] * nc) < 1, `${name} class ${c}: ${got} of ${nc}`);
      }
      assert.ok(Math.abs(idx.length - ratios[name as keyof typeof ratios] * labels.length) <= 1, `${name} total ${idx.length}`);
    }
    const fromDataset = stratifiedSplit(new MemoryDataset(30), { a: 0.5, b: 0.5 });
    assertPartition(fromDataset, 30);
  });

  it('group-aware: a group never straddles splits; sizes balanced by sample count', () => {
    const groups = Array.from({ length: 200 }, (_, i) => `patient${Math.floor(i / (1 + (i % 5)))}`);
    const s = groupSplit(groups, { train: 0.6, val: 0.2, test: 0.2 }, { seed: 3 });
    assertPartition(s, 200);
    const owner = new Map<string, string>();
    for (const [name, idx] of Object.entries(s))
      for (const i of idx) {
        const g = groups[i] as string;
        assert.equal(owner.get(g) ?? name, name, `group ${g} in ${owner.get(g)} and ${name}`);
        owner.set(g, name);
      }
    const largest = Math.max(...[...new Set(groups)].map((g) => groups.filter((x) => x === g).length));
    assert.ok(Math.abs((s.train?.length ?? 0) - 120) <= largest && Math.abs((s.val?.length ?? 0) - 40) <= largest, JSON.stringify(sizes(s)));
    const ds = groupSplit(new MemoryDataset(40), { a: 0.5, b: 0.5 }); // groups of 4 consecutive samples
    for (const idx of Object.values(ds)) for (const i of idx) assert.ok(idx.includes(i - (i % 4)));
    assert.throws(() => groupSplit({ ...new MemoryDataset(4), kind: 'indexed', groups: undefined, describe: () => 'plain' } as never, { a: 1 }), /plain has no group keys/);
  });

  it('k-fold: folds partition the data, sizes within one; stratified keeps class shares', () => {
    const folds = kFold(23, 5, { seed: 1 });
    assertPartition(folds.map((f) => f.val), 23);
    assert.deepEqual(folds.map((f) => f.val.length), [5, 5, 5, 4, 4]);
    for (const f of folds) assertPartition([f.train, f.val], 23);
    const labels = [...Array(10).fill(0), ...Array(7).fill(1), ...Array(4).fill(2)];
    const sf = kFold(labels, 3, { stratified: true, seed: 2 });
    assertPartition(sf.map((f) => f.val), 21);
    for (const f of sf) {
      assert.equal(f.val.length, 7);
      for (let c = 0; c < 3; c++) {
        const nc = labels.filter((l) => l === c).length;
        const got = Array.from(f.val).filter((i) => labels[i] === c).length;
        assert.ok(got === Math.floor(nc / 3) || got === Math.ceil(nc / 3), `class ${c}: ${got}`);
      }
    }
    assert.throws(() => kFold(3, 5), /3 samples cannot fill 5 folds/);
  });
});

describe('splits files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-splits-'));

  it('round-trips, and refuses a file made for another data set, naming the mismatch', () => {
    const d = new MemoryDataset(50);
    const fingerprint = datasetFingerprint(d);
    const s = stratifiedSplit(d, { train: 0.8, val: 0.2 });
    const path = join(dir, 'splits.json');
    saveSplits(path, s, { length: 50, fingerprint });
    assert.deepEqual(loadSplits(path, { length: 50, fingerprint }), s);
    assert.throws(() => loadSplits(path, { length: 60 }), (e: Error) =>
      e instanceof SplitsFileError && e.message === `${path}: length mismatch: the splits were made for a data set of 50 samples, this one has 60`);
    const other = datasetFingerprint(new MemoryDataset(50, { classes: 4 }));
    assert.notEqual(other, fingerprint);
    assert.throws(() => loadSplits(path, { length: 50, fingerprint: other }), new RegExp(`fingerprint mismatch: the file has ${fingerprint}, this data set is ${other}`));
  });

  it('names what is wrong with a damaged file', () => {
    const path = join(dir, 'bad.json');
    const write = (o: unknown) => writeFileSync(path, JSON.stringify(o));
    write({ format: 'tessera-splits', version: 1, length: 5, splits: { a: [0, 1, 2], b: [2, 3] } });
    assert.throws(() => loadSplits(path, { length: 5 }), /sample 2 is in both 'a' and 'b'/);
    write({ format: 'tessera-splits', version: 1, length: 5, splits: { a: [0, 9] } });
    assert.throws(() => loadSplits(path, { length: 5 }), /split 'a' has index 9, outside \[0, 5\)/);
    write({ format: 'tessera-splits', version: 1, length: 5, splits: { a: [0, -1] } });
    assert.throws(() => loadSplits(path, { length: 5 }), /not a splits file: splits\.a\.1:/);
    writeFileSync(path, '{"format": "tessera-spl');
    assert.throws(() => loadSplits(path, { length: 5 }), /bad\.json: cannot read splits:/);
    assert.throws(() => saveSplits(path, { a: Int32Array.from([0, 0]) }, { length: 5 }), /sample 0 appears twice in 'a'/);
    assert.match(readFileSync(path, 'utf8'), /tessera-spl$/, 'a refused save leaves the old file');
  });
});
