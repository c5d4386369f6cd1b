// A fresh user's path, from the command line and without `--set`: a folder of photos, a CSV
// manifest, NumPy arrays, WebDataset shards and torchvision weights at 64 px each train with the
// defaults chosen from the data (no --model either, but for the weights), then eval and predict
// use the saved model. Only --epochs, --threads and where the run goes are given.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { IMAGENET_NORMALIZATION } from '../../src/run/data.js';
import { writeSources, type Sources } from '../data/pipeline/fixtures.js';
import { writeReadmeFixtures } from '../readme/fixtures.js';

const CLI = join(process.cwd(), 'bin', 'tessera.js');
const root = mkdtempSync(join(tmpdir(), 'tessera-fresh-'));
const runs = join(root, 'runs');
const tessera = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
const quick = (name: string) => ['--epochs', '1', '--threads', '1', '--out-dir', runs, '--name', name];

let src: Sources;
before(async () => {
  await writeReadmeFixtures(root); // pets/ (JPEG photos of mixed sizes), new-photos/, resnet18.pt (torchvision)
  src = await writeSources(join(root, 'sources')); // the same 24 images as a manifest, NPY arrays, tar shards…
});
after(() => rmSync(root, { recursive: true, force: true }));

const report = (name: string) => JSON.parse(readFileSync(join(runs, name, 'report.json'), 'utf8'));

describe('a fresh user trains from the command line without --set', () => {
  const cases: [string, () => string, string[]][] = [
    ['a folder of photos', () => join(root, 'pets'), ['cat', 'dog', 'fox']],
    ['a CSV manifest', () => src.specs['manifest'] as string, ['a', 'b']],
    ['NumPy arrays (images.npy with labels.npy beside it)', () => src.specs['images.npy alone'] as string, ['0', '1']],
    ['WebDataset shards', () => src.specs['webdataset'] as string, ['a', 'b']],
  ];
  for (const [what, source, classes] of cases)
    it(what, () => {
      const name = what.replace(/\W+/g, '-');
      const r = tessera('train', source(), ...quick(name));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^model: \S+ \(chosen for /m, 'the model is chosen from the data and said');
      const rep = report(name);
      assert.deepEqual(rep.dataset.classes, classes);
      assert.ok(rep.test.numSamples > 0, 'a test split was held out and evaluated');
      const e = tessera('eval', join(runs, name));
      assert.equal(e.status, 0, e.stderr);
    });

  it('torchvision resnet18 weights at 64 px: the stem and normalisation the weights need, and predict uses them', () => {
    const r = tessera('train', join(root, 'pets'), '--model', 'resnet18', '--image-size', '64', '--pretrained', join(root, 'resnet18.pt'), ...quick('resnet18'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /model: stem 'imagenet', as the weights in resnet18\.pt need/);
    assert.match(r.stdout, /loaded 120 tensors from .*resnet18\.pt \(head 'fc' kept as initialised/);
    const saved = JSON.parse(readFileSync(join(runs, 'resnet18', 'model.json'), 'utf8'));
    assert.equal(saved.model.options.stem, 'imagenet');
    assert.deepEqual(saved.preprocessing.input, { channels: 3, height: 64, width: 64 });
    assert.deepEqual(saved.preprocessing.normalize, { mean: [...IMAGENET_NORMALIZATION.mean], std: [...IMAGENET_NORMALIZATION.std] });
    const p = tessera('predict', join(runs, 'resnet18'), join(root, 'new-photos'), '--top-k', '1', '--threads', '1');
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout.trim().split('\n').length, 1 + 6, 'a header and a row per photo');
  });
});
