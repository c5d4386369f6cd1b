// The one opener: every source format opens with its parts and classes, and training, `data check`
// and `data pack` accept exactly the same sources (they all open through openSource).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { checkDataset } from '../../../src/data/doctor/check.js';
import { openPackInputs } from '../../../src/data/pack/sources.js';
import { DataPipeline } from '../../../src/data/pipeline/pipeline.js';
import { openSource } from '../../../src/data/pipeline/open.js';
import { DataSourceError, detectFormat, npyFiles } from '../../../src/data/pipeline/source.js';
import { disposeBatch, type Dataset } from '../../../src/data/types.js';
import { pipelineSpec } from '../../../src/run/data.js';
import { resolveConfig } from '../../../src/config/load.js';
import { writeSources, type Sources } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'pipeline-open-'));
after(() => rmSync(root, { recursive: true, force: true }));
let src: Sources;
before(async () => {
  src = await writeSources(root);
});

const size = (d: Dataset) => (d.kind === 'indexed' ? d.length : d.lengthHint);

/** Format, parts (split → samples) and classes each spec must open as. */
const EXPECTED: Record<string, { format: string; parts: Record<string, number>; classes: string[] }> = {
  'image-folder': { format: 'image-folder', parts: { '': 24 }, classes: ['a', 'b'] },
  manifest: { format: 'manifest', parts: { test: 6, train: 18 }, classes: ['a', 'b'] },
  idx: { format: 'idx', parts: { train: 18, test: 6 }, classes: ['0', '1'] },
  'idx pair': { format: 'idx', parts: { '': 18 }, classes: ['0', '1'] },
  cifar10: { format: 'cifar10', parts: { train: 20, test: 4 }, classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] },
  'npy folder': { format: 'npy', parts: { '': 24 }, classes: ['0', '1'] },
  'images.npy alone': { format: 'npy', parts: { '': 24 }, classes: ['0', '1'] },
  'images.npy,labels.npy': { format: 'npy', parts: { '': 24 }, classes: ['0', '1'] },
  '.npz': { format: 'npy', parts: { '': 24 }, classes: ['0', '1'] },
  '.npz#key': { format: 'npy', parts: { '': 24 }, classes: ['0', '1'] },
  packed: { format: 'packed', parts: { '': 24 }, classes: ['a', 'b'] },
  'packed splits': { format: 'packed', parts: { test: 6, train: 18 }, classes: ['a', 'b'] },
  webdataset: { format: 'webdataset', parts: { '': 24 }, classes: ['a', 'b'] },
  'webdataset folder': { format: 'webdataset', parts: { '': 24 }, classes: ['a', 'b'] },
};

describe('openSource', () => {
  it('opens every format with its parts and classes', async () => {
    assert.deepEqual(Object.keys(src.specs).sort(), Object.keys(EXPECTED).sort(), 'every fixture has an expectation');
    for (const [name, spec] of Object.entries(src.specs)) {
      const want = EXPECTED[name]!;
      assert.equal(detectFormat(spec), want.format, `${name}: format`);
      const o = await openSource({ source: spec });
      try {
        assert.deepEqual(Object.fromEntries(o.parts.map((p) => [p.split ?? '', size(p.dataset)])), want.parts, `${name}: parts`);
        assert.deepEqual([...o.classes], want.classes, `${name}: classes`);
      } finally {
        o.dispose();
      }
    }
  });

  it('train, data pack and data check accept the same sources', async () => {
    for (const [name, spec] of Object.entries(src.specs)) {
      const total = Object.values(EXPECTED[name]!.parts).reduce((a, b) => a + b, 0);
      const inputs = await openPackInputs(spec);
      assert.equal(inputs.reduce((n, i) => n + (size(i.dataset) ?? 0), 0), total, `${name}: pack sees every sample`);
      const report = await checkDataset(spec, { minSide: 1 });
      assert.equal(report.files, total, `${name}: the doctor inspects every sample`);
      assert.equal(report.errors, 0, `${name}: no bad file (${JSON.stringify(report.problems.slice(0, 2))})`);
      const p = await DataPipeline.open(pipelineSpec(resolveConfig({ overrides: [['data.source', JSON.stringify(spec)], ['train.batchSize', '4']] })));
      try {
        await p.setup();
        const { train } = await p.loaders();
        for await (const b of train.epoch(0)) {
          assert.deepEqual(b.x.shape.slice(1), [p.channels, p.height, p.width], `${name}: a training batch`);
          disposeBatch(b);
          break;
        }
        await train.close();
      } finally {
        p.close();
      }
    }
  });

  it('reads the NumPy forms: a folder, images.npy with labels.npy beside it, a pair, an .npz', () => {
    const npy = join(root, 'npy');
    assert.deepEqual(npyFiles(npy), { images: join(npy, 'images.npy'), labels: join(npy, 'labels.npy') });
    assert.deepEqual(npyFiles(join(npy, 'images.npy')), { images: join(npy, 'images.npy'), labels: join(npy, 'labels.npy') });
    assert.deepEqual(npyFiles(join(npy, 'std.npz')), { images: `${join(npy, 'std.npz')}#images`, labels: `${join(npy, 'std.npz')}#labels` });
    assert.throws(() => npyFiles('a.npy,b.npy,c.npy'), DataSourceError);
  });

  it('refuses what it cannot open, naming it', async () => {
    assert.throws(() => detectFormat(join(root, 'nope')), /data source .*nope does not exist/);
    writeFileSync(join(root, 'notes.txt'), 'hello');
    assert.throws(() => detectFormat(join(root, 'notes.txt')), /is a file that is not a manifest/);
    await assert.rejects(openSource({ source: src.specs['image-folder']!, classes: ['x', 'y'] }), /data\.classes was given, but an image folder's classes are its sub-folders/);
    await assert.rejects(openSource({ source: src.specs.manifest! }, { split: 'val' }), /has no split "val" \(splits: test, train\)/);
  });
});
