import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { writeNpy } from '../../../src/data/formats/npy-write.js';
import type { PackSummary } from '../../../src/data/pack/index.js';
import { packedDataset } from '../../../src/data/sources/packed.js';
import { encode, pattern, smooth } from '../fixtures/images.js';

const bin = fileURLToPath(new URL('../../../../bin/tessera.js', import.meta.url));
const tessera = (...args: string[]) => spawnSync(process.execPath, [bin, 'data', 'pack', ...args], { encoding: 'utf8', timeout: 120_000 });
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*:\d+/);
type Printed = { clean: boolean; skipped: number; outputs: (PackSummary & { split?: string })[] };

const root = mkdtempSync(join(tmpdir(), 'pack-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const folder = join(root, 'images');

describe('tessera data pack', () => {
  before(async () => {
    for (const [name, bytes] of [
      ['cat/1.jpg', await encode(smooth(120, 80), 'jpeg')],
      ['cat/2.png', await encode(pattern(40, 40), 'png')],
      ['dog/3.png', await encode(smooth(50, 70), 'png')],
      ['dog/4.png', await encode(pattern(30, 30, 1), 'png')],
    ] as const) {
      mkdirSync(join(folder, name, '..'), { recursive: true });
      writeFileSync(join(folder, name), bytes);
    }
  });

  it('packs a clean folder (exit 0) and prints a readable summary', () => {
    const out = join(root, 'clean');
    const r = tessera(folder, out, '--size', '32', '--rgb');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /packed image folder .*images \(2 classes, 4 files\)/);
    assert.match(r.stdout, /4 samples \(4 raw, 0 JPEG\) in 1 shard/);
    assert.match(r.stdout, /resize 32 \+ center crop 32×32, channels rgb/);
    const ds = packedDataset(out);
    assert.deepEqual([ds.length, ds.classes, Array.from(ds.labels())], [4, ['cat', 'dog'], [0, 0, 1, 1]]);
  });

  it('skips a corrupt file, lists it, and exits 1; --json gives the same facts', async () => {
    const bad = join(root, 'with-bad');
    mkdirSync(join(bad, 'x'), { recursive: true });
    cpSync(join(folder, 'cat'), join(bad, 'cat'), { recursive: true });
    writeFileSync(join(bad, 'x', 'zero.jpg'), new Uint8Array(0));
    const r = tessera(bad, join(root, 'with-bad-out'), '--size', '16x24', '--json');
    assert.equal(r.status, 1, r.stderr);
    const printed = JSON.parse(r.stdout) as Printed;
    assert.equal(printed.clean, false);
    assert.equal(printed.skipped, 1);
    const [s] = printed.outputs;
    assert.deepEqual([s?.count, s?.skipped[0]?.id, s?.skipped[0]?.reason], [2, join(bad, 'x', 'zero.jpg'), 'empty file (0 bytes)']);
    const rec = await packedDataset(join(root, 'with-bad-out')).read(0);
    assert.ok(rec.input.kind === 'pixels');
    assert.deepEqual([rec.input.image.height, rec.input.image.width], [16, 24]);
    const readable = tessera(bad, join(root, 'with-bad-out'), '--overwrite');
    assert.equal(readable.status, 1);
    assert.match(readable.stdout, /skipped 1 bad file:\n\s+.*zero\.jpg: empty file \(0 bytes\)/);
  });

  it('--fail-on-bad stops with one sentence naming the file (exit 1) and writes nothing', () => {
    const bad = join(root, 'fail-src');
    mkdirSync(join(bad, 'a'), { recursive: true });
    writeFileSync(join(bad, 'a', 'trunc.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    const out = join(root, 'fail-out');
    const r = tessera(bad, out, '--fail-on-bad');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.trim(), /^tessera: .*trunc\.png: .*badFiles: 'fail' stops the pack\)\.$/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(out, 'index.json')));
  });

  it('packs one folder per split of a manifest, with the same classes', () => {
    const csv = join(folder, 'm.csv');
    writeFileSync(csv, 'path,label,split\ncat/1.jpg,cat,train\ncat/2.png,cat,val\ndog/3.png,dog,train\ndog/4.png,dog,\n');
    const out = join(root, 'splits');
    const r = tessera(csv, out, '--size', '8', '--json');
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Printed;
    assert.deepEqual(printed.outputs.map((o) => [o.split, o.count]), [['train', 2], ['val', 1], ['unassigned', 1]]);
    assert.deepEqual(readdirSync(out).sort(), ['train', 'unassigned', 'val']);
    for (const [split, labels] of [['train', [0, 1]], ['val', [0]], ['unassigned', [1]]] as const) {
      const ds = packedDataset(join(out, split));
      assert.deepEqual(ds.classes, ['cat', 'dog'], split);
      assert.deepEqual(Array.from(ds.labels()), labels, split);
    }
    const one = tessera(csv, join(root, 'only-val'), '--split', 'val');
    assert.equal(one.status, 0, one.stderr);
    assert.equal(packedDataset(join(root, 'only-val')).length, 1);
    const none = tessera(csv, join(root, 'nope'), '--split', 'test');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /has no split "test" \(splits: train, val, unassigned\)/);
  });

  it('packs NumPy images with labels, grey with --grey', async () => {
    const images = join(root, 'x.npy');
    const labels = join(root, 'y.npy');
    const px = new Uint8Array(3 * 8 * 8 * 3).map((_, i) => (i * 11) & 255);
    writeNpy(images, { dtype: 'u1', shape: [3, 8, 8, 3], data: px });
    writeNpy(labels, { dtype: 'i8', shape: [3], data: BigInt64Array.of(2n, 0n, 1n) });
    const out = join(root, 'npy-out');
    const r = tessera(`${images},${labels}`, out, '--grey');
    assert.equal(r.status, 0, r.stderr);
    const ds = packedDataset(out);
    assert.deepEqual(Array.from(ds.labels()), [2, 0, 1]);
    const rec = await ds.read(2);
    assert.ok(rec.input.kind === 'pixels' && rec.input.image.channels === 1 && rec.input.image.width === 8);
  });

  it('exits 2 with one clear sentence on usage errors, a missing source and an existing pack', () => {
    const missing = tessera('/no/such/folder', join(root, 'o'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr.trim(), /^tessera: the data set \/no\/such\/folder does not exist \(.*\)\.$/);
    const badSize = tessera(folder, join(root, 'o'), '--size', '32x');
    assert.equal(badSize.status, 2);
    assert.match(badSize.stderr, /--size must be N or HxW/);
    const badQuality = tessera(folder, join(root, 'o'), '--quality', '150');
    assert.equal(badQuality.status, 2);
    const taken = tessera(folder, join(root, 'clean'));
    assert.equal(taken.status, 2);
    assert.match(taken.stderr.trim(), /^tessera: .*clean already holds a packed data set \(pass --overwrite to replace it\)\.$/);
    const both = tessera(folder, join(root, 'o'), '--grey', '--rgb');
    assert.equal(both.status, 2);
    for (const r of [missing, badSize, badQuality, taken, both]) noStack(r.stderr);
  });
});
