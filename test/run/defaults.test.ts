// A new user's data, from the CLI, with no --set: a folder of photos of mixed sizes gets defaults
// chosen from the data and said in the log (image size, never stretched; a colour model; a held-out
// test split that eval then finds and names truthfully); NumPy arrays as `images.npy` alone and as
// `images.npy,labels.npy`, and WebDataset shards (class names from their .cls members), train.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { resolveConfig } from '../../src/config/load.js';
import { FASHION_MNIST_DIR } from '../../src/data/sources/fashion-mnist.js';
import { prepareRun } from '../../src/run/data.js';
import { writeSources, type Sources } from '../data/pipeline/fixtures.js';

const CLI = join(process.cwd(), 'bin', 'tessera.js');
const root = mkdtempSync(join(tmpdir(), 'tessera-defaults-'));
after(() => rmSync(root, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const quick = ['--model', 'mlp', '--epochs', '1', '--threads', '1', '--batch-size', '8', '--out-dir', join(root, 'runs')];

const photos = join(root, 'photos');
let src: Sources;
before(async () => {
  // 3 classes × 8 JPEG "photos" between 90×70 and 160×120: no two the same size.
  const colours = { cat: [200, 60, 40], dog: [40, 160, 60], fox: [40, 60, 200] } as const;
  for (const [name, rgb] of Object.entries(colours)) {
    mkdirSync(join(photos, name), { recursive: true });
    for (let k = 0; k < 8; k++) {
      const [w, h] = [90 + k * 10, 70 + k * 7];
      await sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0] + k, g: rgb[1], b: rgb[2] } } }).jpeg().toFile(join(photos, name, `${k}.jpg`));
    }
  }
  src = await writeSources(join(root, 'sources'));
});

describe('defaults from the data', () => {
  it("a photo folder: image size from the photos' sizes, a colour model, a test split, each said in the log", async () => {
    const lines: string[] = [];
    const { config, pipeline } = await prepareRun(resolveConfig({ overrides: [['data.source', JSON.stringify(photos)]] }), { log: (l) => lines.push(l) });
    pipeline.close();
    assert.equal(config.model.name, 'resnet9');
    assert.equal(config.model.channelsLast, false, "'auto': resnet9 is not measured faster channels_last");
    assert.deepEqual(config.data.imageSize, [64, 64], 'median shorter side 94 px → 64 (the default cap), square');
    assert.equal(config.data.channels, 3);
    assert.equal(config.data.testSplit, 0.1);
    assert.ok(lines.some((l) => /^model: resnet9 \(chosen for 3×64×64 colour images/.test(l)), lines.join('\n'));
  });

  it('the main job stays the main job: Fashion-MNIST gets fashion-net at 28×28 and its own test set', { skip: !existsSync(FASHION_MNIST_DIR) && 'Fashion-MNIST is not installed' }, async () => {
    const lines: string[] = [];
    const { config, pipeline } = await prepareRun(resolveConfig(), { log: (l) => lines.push(l) });
    pipeline.close();
    assert.deepEqual([config.model.name, config.data.imageSize, config.data.channels, config.data.testSplit], ['fashion-net', [28, 28], 1, 0]);
    // model.channelsLast 'auto': fashion-net is measured faster channels_last; the batches follow the model.
    assert.equal(config.model.channelsLast, true);
    assert.equal(pipeline.spec.memoryFormat, 'channelsLast');
    assert.ok(lines.some((l) => l.startsWith('memory format: channels_last (fashion-net')), lines.join('\n'));
    const plain = await prepareRun(resolveConfig({ overrides: [['model.channelsLast', 'false']] }));
    plain.pipeline.close();
    assert.deepEqual([plain.config.model.channelsLast, plain.pipeline.spec.memoryFormat], [false, 'contiguous']);
  });

  it('the CLI trains a photo folder without --set, eval finds the held-out test split and says so', () => {
    const r = cli('train', photos, ...quick, '--name', 'photos');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /data: image size 64×64 \(median shorter side \d+ px of 24 sampled; .*never stretched/);
    assert.match(r.stdout, /data: test: 10% of the training source held out/);
    const dir = join(root, 'runs', 'photos');
    const splits = JSON.parse(readFileSync(join(dir, 'splits.json'), 'utf8'));
    assert.deepEqual(Object.keys(splits.splits).sort(), ['test', 'train', 'val']);
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual([saved.data.imageSize, saved.data.testSplit], [[64, 64], 0.1], 'config.json records what was chosen');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.test.confusion.counts.length, 3, 'the report has a confusion matrix');
    const e = cli('eval', dir);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /^on the test split held out of the training source/);
    assert.match(e.stdout, new RegExp(`^${report.test.numSamples} images: accuracy`, 'm'));
  });

  it('a run with data.testSplit 0 and no test set: eval says exactly that', () => {
    const r = cli('train', photos, ...quick, '--name', 'no-test', '--set', 'data.testSplit=0');
    assert.equal(r.status, 0, r.stderr);
    const e = cli('eval', join(root, 'runs', 'no-test'));
    assert.equal(e.status, 1);
    assert.match(e.stderr, /the run has no test set \(its source has none, none was given, and data\.testSplit was 0\); give one with --data/);
  });
});

describe('sources that train from the CLI', () => {
  for (const form of ['images.npy alone', 'images.npy,labels.npy', 'webdataset', 'webdataset folder']) {
    it(`${form}`, () => {
      const name = form.replace(/[^\w]+/g, '-');
      const r = cli('train', src.specs[form]!, ...quick, '--name', name);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(root, 'runs', name, 'report.json'), 'utf8'));
      assert.equal(report.dataset.classes.length, 2);
      assert.ok(report.test.numSamples > 0, 'a test split was held out and evaluated');
      if (form.startsWith('webdataset')) {
        assert.deepEqual(report.dataset.classes, ['a', 'b'], "class names from the shards' .cls members");
        assert.match(r.stdout, /data: classes from the class names in the shards' label members/);
        const e = cli('eval', join(root, 'runs', name));
        assert.equal(e.status, 0, e.stderr);
        assert.match(e.stdout, new RegExp(`^${report.test.numSamples} images`, 'm'));
      }
    });
  }
});
