// Saved preprocessing: a run writes its evaluation-time preprocessing into model.json, and
// `tessera eval` / `predict` restore it as saved — the held-out test set evaluated again gives the
// run's own test numbers exactly; predict prepares files as the evaluation loader does. Old
// model.json files (tessera-model/1) still load; broken ones are refused by name.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { resolveConfig } from '../../../src/config/load.js';
import { DataPipeline } from '../../../src/data/pipeline/pipeline.js';
import { Preprocessing } from '../../../src/data/pipeline/preprocessing.js';
import { pipelineSpec } from '../../../src/run/data.js';
import { imageFolder } from '../../../src/data/sources/image-folder.js';
import { evaluateSavedModel } from '../../../src/run/eval.js';
import { predictFiles } from '../../../src/run/predict.js';
import { loadRunModel } from '../../../src/run/saved-model.js';
import { runTraining } from '../../../src/run/train.js';
import { scope, softmax } from '../../../src/tensor/index.js';
import { inference } from '../../../src/train/inference.js';
import { writeSources, type Sources } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'pipeline-prep-'));
after(() => rmSync(root, { recursive: true, force: true }));
let src: Sources;
let run: string;
const quiet = { log: () => {}, progressStream: Object.assign({ write: () => true }, { isTTY: false }) as unknown as NodeJS.WritableStream };

before(async () => {
  src = await writeSources(root);
  const config = resolveConfig({
    overrides: [['data.source', JSON.stringify(src.specs['image-folder'])], ['data.testSplit', '0.25'], ['data.imageSize', '[10,10]'], ['model.name', 'mlp'], ['train.epochs', '2'],
      ['train.batchSize', '4'], ['train.threads', '1'], ['outDir', JSON.stringify(join(root, 'runs'))], ['name', '"prep"']],
  });
  run = (await runTraining(config, quiet)).dir;
});

describe('Preprocessing', () => {
  it('is written into model.json and read back as it was', () => {
    const saved = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8'));
    assert.equal(saved.format, 'tessera-model/2');
    const p = saved.preprocessing;
    assert.equal(p.format, 'tessera-preprocessing/1');
    assert.deepEqual(p.decode, { channels: 'rgb' });
    assert.deepEqual(p.transforms, [{ type: 'resize', size: 10, interpolation: 'bilinear' }, { type: 'centerCrop', size: 10 }]);
    assert.deepEqual(p.input, { channels: 3, height: 10, width: 10 });
    assert.deepEqual(p.classes, ['a', 'b']);
    assert.deepEqual(Preprocessing.fromJSON(p).toJSON(), p);
  });

  it('eval on the held-out test split repeats the run\'s own test numbers exactly, and says where they come from', async () => {
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    const r = await evaluateSavedModel(run);
    assert.equal(r.report.numSamples, metrics.test_samples);
    assert.equal(r.report.accuracy, metrics.test_accuracy);
    assert.equal(r.report.loss, metrics.test_loss);
    assert.match(r.text, /^on the test split held out of the training source \(.*splits\.json\):/);
  });

  it('predict prepares a file exactly as the evaluation loader does', async () => {
    // The evaluation loader's batches through the one inference pass, with the run's saved test-pass
    // settings (its autocast and test-time flip), as predict runs them.
    const { model, preprocessing, testFlip, precision } = loadRunModel(run);
    const d = await imageFolder(src.specs['image-folder']!);
    const loader = await preprocessing.loader(d, { batchSize: 24 });
    const expected: number[] = [];
    await inference(model, loader, (out) => void expected.push(...(scope(() => softmax(out.float(), 1).max(1)[0].data()) as Float32Array)), { flip: testFlip === true, precision: precision ?? false });
    await loader.close();
    model.dispose();
    const got = await predictFiles(run, d.paths, { topK: 1 });
    got.forEach((p, i) => assert.equal(p.top[0]?.probability, expected[i], `${p.file}`));
  });

  it('loads a tessera-model/1 model.json (converted to the preprocessing those runs used)', async () => {
    const old = join(root, 'old-run');
    cpSync(run, old, { recursive: true });
    const v2 = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8'));
    writeFileSync(join(old, 'model.json'), JSON.stringify({ format: 'tessera-model/1', model: 'mlp', classes: ['a', 'b'], channels: 3, height: 10, width: 10, mean: v2.preprocessing.normalize.mean, std: v2.preprocessing.normalize.std }));
    const { preprocessing, model } = loadRunModel(old);
    model.dispose();
    assert.deepEqual(preprocessing.transforms, [{ type: 'resize', size: [10, 10] }, { type: 'centerCrop', size: [10, 10] }]);
    const r = await evaluateSavedModel(old, { data: src.specs['image-folder']! });
    assert.equal(r.report.numSamples, 24);
  });

  it('a pipeline saved with toJSON() sets up again from fromJSON() the same, measuring nothing', async () => {
    const a = await DataPipeline.open(pipelineSpec(resolveConfig({ overrides: [['data.source', JSON.stringify(src.specs['image-folder'])], ['train.batchSize', '4']] })));
    await a.setup();
    const json = JSON.parse(JSON.stringify(a.toJSON())) as unknown;
    a.close();
    assert.ok(a.notes.some((n) => /^normalisation measured on/.test(n)));
    const b = await DataPipeline.fromJSON(json);
    await b.setup();
    b.close();
    assert.deepEqual(b.preprocessing.toJSON(), a.preprocessing.toJSON());
    assert.deepEqual([b.trainSet.describe(), b.valSet?.describe(), b.testSet?.describe()], [a.trainSet.describe(), a.valSet?.describe(), a.testSet?.describe()]);
    assert.ok(!b.notes.some((n) => /normalisation measured|image size .* \(/.test(n)), `nothing chosen or measured again: ${b.notes.join('; ')}`);
    await assert.rejects(DataPipeline.fromJSON({ format: 'something' }), /not a tessera pipeline/);
  });

  it('refuses a broken or unknown model.json, naming the file and the field', () => {
    const bad = join(root, 'bad-run');
    cpSync(run, bad, { recursive: true });
    const v2 = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8'));
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ ...v2, format: 'tessera-model/9' }));
    assert.throws(() => loadRunModel(bad), /bad-run\/model\.json is not a tessera model description \(this Tessera reads tessera-model\/2 and tessera-model\/1; tessera-model\/9 is from another version\)/);
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ ...v2, preprocessing: { ...v2.preprocessing, transforms: [{ type: 'warp' }] } }));
    assert.throws(() => loadRunModel(bad), /model\.json: preprocessing: transforms\[0\] \{"type":"warp"\}: unknown transform type 'warp'/);
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ ...v2, preprocessing: { ...v2.preprocessing, decode: { channels: 'grey' } } }));
    assert.throws(() => loadRunModel(bad), /decode\.channels is grey but input\.channels is 3/);
  });
});
