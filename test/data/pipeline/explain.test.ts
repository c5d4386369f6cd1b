// `summary()` / `tessera data explain`: one sample through every step, on every source format, and
// the step that fails named — a per-sample step (a corrupt file), collation, a batch step that
// refuses its batch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { resolveConfig } from '../../../src/config/load.js';
import { DataPipeline } from '../../../src/data/pipeline/pipeline.js';
import { pipelineSpec } from '../../../src/run/data.js';
import { writeJpeg } from '../image/jpeg-fixtures.js';
import { writeSources, type Sources } from './fixtures.js';

const bin = fileURLToPath(new URL('../../../../bin/tessera.js', import.meta.url));
const tessera = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

const root = mkdtempSync(join(tmpdir(), 'pipeline-explain-'));
after(() => rmSync(root, { recursive: true, force: true }));
let src: Sources;
before(async () => {
  src = await writeSources(root);
});

async function explain(source: string, overrides: [string, string][] = [], o: Parameters<DataPipeline['summary']>[0] = {}) {
  const config = resolveConfig({ overrides: [['data.source', JSON.stringify(source)], ['train.batchSize', '4'], ...overrides] });
  const p = await DataPipeline.open(pipelineSpec(config));
  try {
    await p.setup();
    return await p.summary(o);
  } finally {
    p.close();
  }
}

describe('DataPipeline.summary', () => {
  it('walks a sample through read, the sample steps, collation and the batch steps, for every format', async () => {
    for (const [name, spec] of Object.entries(src.specs)) {
      const r = await explain(spec);
      assert.ok(r.ok, `${name}:\n${r.text}`);
      const names = r.steps.map((s) => s.step);
      assert.equal(names[0], 'read', name);
      assert.ok(names.some((n) => n.startsWith('collate')), `${name}: collation is a step`);
      assert.ok(names.some((n) => n.startsWith('normalize(')), `${name}: normalisation is a step`);
      assert.match(r.steps.at(-1)?.output ?? '', /^x float32 \[4, [13], \d+, \d+\], y int64 \[4\]$/, `${name}: the batch the model gets`);
    }
    // Decoded sources show their per-sample steps; pixel sources at their own size go straight to a tensor gather.
    const folder = await explain(src.specs['image-folder']!);
    assert.ok(folder.steps.some((s) => s.step.startsWith('decode(')) && folder.steps.some((s) => s.step.startsWith('resize(')));
    assert.match(folder.steps.find((s) => s.step === 'loader path')?.output ?? '', /^sharp: the JPEG kernel does not take this sample/, 'PNG files take the sharp path');
    const idx = await explain(src.specs.idx!);
    assert.ok(idx.steps.some((s) => s.step === 'collate (tensor gather)'), idx.text);
  });

  it('says when the loader decodes a sample with the native JPEG kernel, with its crop, and collates through it', async () => {
    const dir = join(root, 'jpegs');
    for (const [k, c] of ['a', 'a', 'b', 'b', 'b'].entries()) {
      mkdirSync(join(dir, c), { recursive: true });
      await writeJpeg(join(dir, c), `${k}.jpg`, '420', k + 1, 90 + 10 * k, 60);
    }
    const r = await explain(dir, [['data.imageSize', '[24,24]'], ['augment.hflip', 'false']]);
    assert.ok(r.ok, r.text);
    // Resize(24) of a 90×60 image is 36×24; CenterCrop(24) keeps the window at column round(6).
    assert.equal(r.steps.find((s) => s.step === 'loader path')?.output, 'native JPEG kernel: crop 90x60+0+0 → resize 36x24 → 24x24 at 6,0');
    assert.match(r.steps.find((s) => s.step === 'collate')?.output ?? '', /^4 samples: x uint8 \[4, 3, 24, 24\]/);
  });

  it('shows the augmentations it runs: mixup soft targets, erasing, channels_last', async () => {
    const r = await explain(src.specs['image-folder']!, [['augment.mixup', '0.4'], ['augment.erasing', '0.5'], ['model.channelsLast', 'true']]);
    assert.ok(r.ok, r.text);
    const out = Object.fromEntries(r.steps.map((s) => [s.step, s.output]));
    assert.match(out['mixup(alpha=0.4)'] ?? '', /y float32 \[4, 2\]/);
    assert.ok('randomErasing(p=0.5)' in out);
    assert.match(out.channelsLast ?? '', /x float32 \[4, 3, 12, 12\] channels_last/);
  });

  it('names the batch step that refuses its batch, and runs no step after it', async () => {
    // Three means for grey IDX images: normalize refuses the 1-channel batch.
    const r = await explain(src.specs.idx!, [['augment.normalize', '{"mean":[0.5,0.5,0.5],"std":[0.2,0.2,0.2]}'], ['model.channelsLast', 'true']]);
    assert.equal(r.ok, false);
    assert.equal(r.failed, 'normalize(mean=[0.5, 0.5, 0.5], std=[0.2, 0.2, 0.2])');
    assert.match(r.steps.at(-1)?.error ?? '', /3 means and 3 stds for a batch of 1 channels/);
    assert.ok(!r.steps.some((s) => s.step === 'channelsLast'), 'later steps did not run');
    assert.match(r.text, /step "normalize\(.*\)" failed; later steps did not run/);
  });

  it('names a per-sample step that fails, and a sample that breaks collation', async () => {
    // Sample 12 of the folder (b/0.png, the first of class b) is broken.
    writeFileSync(join(src.specs['image-folder']!, 'b', '0.png'), 'not a png');
    const bad = await explain(src.specs['image-folder']!, [['data.valSplit', '0'], ['data.testSplit', '0']], { index: 12 });
    assert.equal(bad.ok, false);
    assert.equal(bad.failed?.startsWith('decode('), true, bad.text);
    // In a batch: the first sample is fine, the broken one comes after it.
    const later = await explain(src.specs['image-folder']!, [['data.valSplit', '0'], ['data.testSplit', '0']], { index: 11, batch: 3 });
    assert.ok(!later.ok);
    assert.equal(later.failed, 'collate');
    assert.match(later.steps.at(-1)?.error ?? '', /batch sample .*b\/0\.png/);
  });

  it('the CLI: exit 0 when every step ran, 1 naming the failing step, 2 when the source cannot be opened', () => {
    const ok = tessera('data', 'explain', src.specs.webdataset!, '--batch-size', '4');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /classes from the class names in the shards' label members/);
    assert.match(ok.stdout, /ok: the model gets 3×12×12 float32 inputs, 2 classes/);
    const failing = tessera('data', 'explain', src.specs.idx!, '--set', 'augment.normalize={"mean":[0.5,0.5,0.5],"std":[0.2,0.2,0.2]}');
    assert.equal(failing.status, 1, failing.stderr);
    assert.match(failing.stdout, /FAILED: .*3 means and 3 stds for a batch of 1 channels/);
    const json = JSON.parse(tessera('data', 'explain', src.specs['npy folder']!, '--json').stdout) as { ok: boolean; preprocessing: { format: string } };
    assert.equal(json.ok, true);
    assert.equal(json.preprocessing.format, 'tessera-preprocessing/1');
    const missing = tessera('data', 'explain', join(root, 'nowhere'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^tessera: the data set .*nowhere does not exist/);
  });
});
