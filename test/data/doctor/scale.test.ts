// The doctor's report stays bounded: look-alikes come as groups (an image and the later ones like
// it), never as pairs; every list is capped at maxListed with a count of what it left out; a group
// shows at most 20 files and says how many it has. (Throughput and memory on 100,000 files:
// bench/data-check.ts.)
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { checkDataset, formatDoctorReport } from '../../../src/data/doctor/index.js';
import type { DoctorReport } from '../../../src/data/doctor/report.js';
import { GROUP_FILES } from '../../../src/data/doctor/tally.js';
import { photo, tempDir } from '../image/jpeg-fixtures.js';

describe('the doctor at scale: groups and capped lists', () => {
  let train: string;
  let test: string;
  before(async () => {
    const root = tempDir();
    train = join(root, 'train');
    test = join(root, 'test');
    // Three pictures, each saved 25 times at other JPEG qualities (look-alikes, different bytes),
    // two byte-for-byte copies, five broken files; the test split gets two more of picture 0.
    for (let p = 0; p < 3; p++) {
      const dir = join(train, `class${p}`);
      mkdirSync(dir, { recursive: true });
      const px = sharp(photo(40 + p, 96, 72), { raw: { width: 96, height: 72, channels: 3 } });
      for (let q = 0; q < 25; q++) writeFileSync(join(dir, `v${String(q).padStart(2, '0')}.jpg`), await px.clone().jpeg({ quality: 60 + q }).toBuffer());
    }
    copyFileSync(join(train, 'class1', 'v03.jpg'), join(train, 'class1', 'v03-copy.jpg'));
    copyFileSync(join(train, 'class1', 'v03.jpg'), join(train, 'class1', 'v03-copy2.jpg'));
    for (let k = 0; k < 5; k++) writeFileSync(join(train, 'class2', `broken-${k}.jpg`), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, k]));
    mkdirSync(join(test, 'class0'), { recursive: true });
    for (const q of [58, 97]) writeFileSync(join(test, 'class0', `t${q}.jpg`), await sharp(photo(40, 96, 72), { raw: { width: 96, height: 72, channels: 3 } }).jpeg({ quality: q }).toBuffer());
  });

  it('groups look-alikes in sample order, and counts everything even where it lists a part', async () => {
    const full = await checkDataset(train, { test });
    assert.equal(full.version, 2);
    // One group per picture: its first file and the 24 others (the copies are exact duplicates, not look-alikes).
    assert.deepEqual(full.duplicates.near.map((g) => [g.files[0]?.id.split('/').slice(-2).join('/'), g.count]), [['class0/v00.jpg', 27], ['class1/v00.jpg', 25], ['class2/v00.jpg', 25]]);
    for (const g of full.duplicates.near) {
      assert.equal(g.files.length, GROUP_FILES, 'a group lists at most GROUP_FILES files');
      assert.equal(g.distances[0], 0);
      assert.ok(g.distances.every((d) => d <= 8));
    }
    assert.deepEqual(full.duplicates.exact.map((g) => [g.count, g.files.map((f) => f.id.split('/').pop())]), [[3, ['v03-copy.jpg', 'v03-copy2.jpg', 'v03.jpg']]]);
    assert.deepEqual(full.leakage.map((l) => [l.kind, l.a.id.split('/').slice(-3).join('/'), l.b.id.split('/').slice(-3).join('/')]), [
      ['near', 'train/class0/v00.jpg', 'test/class0/t58.jpg'],
      ['near', 'train/class0/v00.jpg', 'test/class0/t97.jpg'],
    ]);
    assert.deepEqual(full.omitted, { problems: 0, exactGroups: 0, nearGroups: 0, leakage: 0 });
    assert.equal(full.errors, 5);
    assert.match(full.issues.find((i) => i.code === 'near-duplicates')?.message ?? '', /^74 file\(s\) look like an earlier one \(pHash distance ≤ 8\), in 3 group\(s\)$/);

    const capped: DoctorReport = await checkDataset(train, { test, maxListed: 2 });
    assert.equal(capped.errors, 5, 'counts do not depend on the cap');
    assert.equal(capped.problems.length, 2);
    assert.equal(capped.duplicates.near.length, 2);
    assert.equal(capped.leakage.length, 2);
    assert.deepEqual(capped.omitted, { problems: 3, exactGroups: 0, nearGroups: 1, leakage: 0 });
    const text = formatDoctorReport(capped, { maxRows: 1 });
    assert.match(text, /Look-alikes \(pHash distance ≤ 8 of 64 from the group's first image\)/);
    assert.match(text, /class0\/v00\.jpg \[train\]\s+class0\/v01\.jpg \[train\] \(\d\), .*, and 7 more\n {2}… and 2 more/);
    assert.match(text, /Problems[^]*… and 4 more/);
  });
});
