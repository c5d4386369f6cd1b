import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { checkDataset } from '../../../src/data/doctor/index.js';
import type { DoctorReport } from '../../../src/data/doctor/report.js';
import { type CorruptCorpus, ORIENTED, writeCorruptCorpus } from '../fixtures/corpus.js';

interface PilFacts {
  ok: boolean;
  error?: string;
  format?: string;
  mode?: string;
  size?: [number, number];
  frames?: number;
  upright?: [number, number];
  topLeft?: number[];
  bottomRight?: number[];
}

/** What Pillow (an independent decoder) makes of every corpus file. */
function pillow(root: string, paths: string[]): Record<string, PilFacts> {
  const py = `
import json, sys, os
from PIL import Image, ImageOps
root, paths = sys.argv[1], json.loads(sys.argv[2])
out = {}
for p in paths:
    try:
        im = Image.open(os.path.join(root, p))
        info = {'format': im.format, 'mode': im.mode, 'size': im.size, 'frames': getattr(im, 'n_frames', 1)}
        im.load()
        up = ImageOps.exif_transpose(im).convert('RGB')
        w, h = up.size
        info.update(ok=True, upright=up.size, topLeft=up.getpixel((min(3, w - 1), min(3, h - 1))), bottomRight=up.getpixel((max(0, w - 4), max(0, h - 4))))
        out[p] = info
    except Exception as e:
        out[p] = {'ok': False, 'error': type(e).__name__ + ': ' + str(e)}
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, root, JSON.stringify(paths)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, PilFacts>;
}

const near = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.every((v, i) => Math.abs(v - (b[i] as number)) <= 40);

describe('corrupt-file corpus', () => {
  let corpus: CorruptCorpus;
  let report: DoctorReport;
  before(async () => {
    corpus = await writeCorruptCorpus(mkdtempSync(join(tmpdir(), 'corpus-')));
    report = await checkDataset(corpus.root);
  });

  it('is what its manifest says, according to Pillow', () => {
    const pil = pillow(
      corpus.root,
      corpus.files.map((f) => f.path),
    );
    for (const f of corpus.files) {
      const p = pil[f.path] as PilFacts;
      assert.equal(p.ok, f.expect === 'good', `${f.path}: Pillow says ${JSON.stringify(p)}`);
      if (f.expect === 'bad') continue;
      const [w, h] = p.upright as [number, number];
      assert.deepEqual([w, h], [f.decoded?.width, f.decoded?.height], `${f.path}: upright size`);
      assert.equal(p.format, { jpeg: 'JPEG', png: 'PNG', gif: 'GIF' }[f.content as string], `${f.path}: format`);
      if (f.traits.includes('cmyk')) assert.equal(p.mode, 'CMYK');
      if (f.traits.includes('palette') && f.content === 'png') assert.equal(p.mode, 'P');
      if (f.traits.includes('grey') && f.traits.includes('alpha')) assert.equal(p.mode, 'LA');
      if (f.traits.includes('animated')) assert.equal(p.frames, 2);
      if (f.orientation !== undefined) {
        assert.ok(near(p.topLeft, ORIENTED.topLeft), `${f.path}: top left ${String(p.topLeft)} is not red`);
        assert.ok(near(p.bottomRight, ORIENTED.bottomRight), `${f.path}: bottom right ${String(p.bottomRight)} is not blue`);
      }
    }
    assert.equal(corpus.files.filter((f) => f.orientation !== undefined).length, 8);
    assert.equal(corpus.files.filter((f) => f.expect === 'bad').length, 5);
  });

  it('the doctor finds every bad file by name and reason', () => {
    const errors = report.problems.filter((p) => p.severity === 'error').map((p) => [p.id, p.code]);
    const expected = corpus.files.filter((f) => f.expect === 'bad').map((f) => [join(corpus.root, f.path), f.reason]);
    assert.deepEqual(errors.sort(), expected.sort());
  });

  it('the doctor flags in good files only what the manifest expects', () => {
    const warnings = report.problems.filter((p) => p.severity === 'warning').map((p) => [p.id, p.code]);
    const expected = corpus.files.flatMap((f) => f.warnings.map((w) => [join(corpus.root, f.path), w]));
    assert.deepEqual(warnings.sort(), expected.sort());
    assert.ok(expected.length >= 2);
    assert.deepEqual(report.duplicates, { exact: [], near: [] });
    assert.deepEqual(report.leakage, []);
    assert.deepEqual(report.issues, []);
    assert.equal(report.clean, false);
  });

  it('counts traits and sizes as the manifest says', () => {
    const good = corpus.files.filter((f) => f.expect === 'good');
    for (const [trait, { count }] of Object.entries(report.traits)) {
      assert.equal(count, good.filter((f) => f.traits.includes(trait as never)).length, `trait ${trait}`);
    }
    assert.equal(report.traits.exifRotated.count, 7);
    assert.equal(report.files, corpus.files.length);
    const widths = good.map((f) => f.decoded?.width as number);
    assert.equal(report.sizes?.width.min, Math.min(...widths));
    assert.equal(report.sizes?.width.max, Math.max(...widths));
    assert.deepEqual(report.sizes?.common[0], { width: 48, height: 32, count: 8 }); // the EXIF files, upright
    assert.deepEqual(
      report.classes,
      corpus.classes.map((name) => ({ name, count: corpus.files.filter((f) => f.label === name).length })),
    );
  });

  it('the report is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});
