// A model repository (`<name>/<version>/` folders holding a run or an .onnx file, an optional
// `<name>/serve.json` with the model's own batching) served as several models, and what is refused
// when resolving a serve target, naming the folder or file at fault.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { models, onnx, randn, setNumThreads } from '../../src/index.js';
import { exportRun } from '../../src/export/run.js';
import { resolveServeOptions } from '../../src/serve/options.js';
import { resolveModels } from '../../src/serve/repository.js';
import { call, makeRun, picture, postBytes, postJson, serve, tensorRequest } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-repo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('model repository', () => {
  const repo = join(dir, 'repo');
  before(async () => {
    makeRun(join(repo, 'fashion', '1'), { model: 'fashion-net', channels: 1, size: 28, seed: 1 });
    makeRun(join(repo, 'fashion', '2'), { model: 'fashion-net', channels: 1, size: 28, seed: 2 });
    writeFileSync(join(repo, 'fashion', 'serve.json'), JSON.stringify({ maxBatchSize: 4, maxQueue: 8 }));
    const cifar = makeRun(join(dir, 'cifar-run'), { model: 'seed-cifar-cnn', channels: 3, size: 32 });
    await exportRun(cifar, { verify: false });
    mkdirSync(join(repo, 'cifar', '7'), { recursive: true });
    copyFileSync(join(cifar, 'model.onnx'), join(repo, 'cifar', '7', 'cifar.onnx'));
  });

  it('resolves every version, with serve.json over the defaults and the cores shared out', () => {
    const sources = resolveModels(repo, { batching: { maxQueueDelayMs: 3, threads: 1 } });
    assert.deepEqual(
      sources.map((s) => [s.name, s.version, s.backend, s.batching.maxBatchSize, s.batching.maxQueue, s.batching.maxQueueDelayMs]),
      [['cifar', '7', 'onnx', 32, 256, 3], ['fashion', '1', 'torch', 4, 8, 3], ['fashion', '2', 'torch', 4, 8, 3]],
    );
    const shared = resolveModels(repo);
    assert.ok(shared.every((s) => s.batching.threads >= 1));
  });

  it('serves several models; /v2/models/{name} is the highest version, /versions/{v} picks one', async () => {
    const server = await serve(resolveModels(repo, { batching: { threads: 1 } }));
    try {
      const meta = await call(`${server.url}/v2/models/fashion`);
      assert.deepEqual(meta.body.versions, ['1', '2']);
      assert.equal((meta.body.parameters as { version: string; max_batch_size: number }).version, '2');
      assert.equal((meta.body.parameters as { max_batch_size: number }).max_batch_size, 4);
      assert.equal((await call(`${server.url}/v2/models/cifar/versions/7`)).body.platform, 'onnxruntime_onnx');
      const req = tensorRequest([1, 1, 28, 28]);
      const logits = async (path: string) => ((await postJson(`${server.url}${path}`, req)).body.outputs as { data: number[] }[])[0]!.data;
      const [latest, v1, v2] = await Promise.all([logits('/v2/models/fashion/infer'), logits('/v2/models/fashion/versions/1/infer'), logits('/v2/models/fashion/versions/2/infer')]);
      assert.deepEqual(latest, v2);
      assert.notDeepEqual(v1, v2);
      assert.equal((await postJson(`${server.url}/v2/models/cifar/infer`, tensorRequest([2, 3, 32, 32]))).status, 200);
    } finally {
      await server.close();
    }
  });

  it('an .onnx file without Tessera metadata is served under its file name, for tensors only', async () => {
    const path = join(dir, 'plain-mlp.onnx');
    const model = models.createModel('mlp', { classes: 4, inChannels: 1, imageSize: 12 });
    const x = randn([2, 1, 12, 12]);
    onnx.saveOnnx(path, model, x);
    const want = model.forward(x).data() as Float32Array;
    const [src] = resolveModels(path, { batching: { threads: 1 } });
    assert.deepEqual([src!.name, src!.backend], ['plain-mlp', 'onnx']);
    const server = await serve([src!]);
    try {
      const meta = await call(`${server.url}/v2/models/plain-mlp`);
      assert.deepEqual(meta.body.outputs, [{ name: 'output', datatype: 'FP32', shape: [-1, 4] }]);
      assert.equal((meta.body.parameters as { image_route: boolean }).image_route, false);
      const r = await postJson(`${server.url}/v2/models/plain-mlp/infer`, { inputs: [{ name: 'input', shape: [2, 1, 12, 12], datatype: 'FP32', data: Array.from(x.data() as Float32Array) }] });
      (r.body.outputs as { data: number[] }[])[0]!.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 + 1e-3 * Math.abs(want[i]!), `logit ${i}`));
      const image = await postBytes(`${server.url}/v2/models/plain-mlp/classify`, await picture(12, 12, 'png'), 'image/png');
      assert.equal(image.status, 404);
      assert.match(String(image.body.error), /model 'plain-mlp' takes tensors only \(POST …\/infer\): its file carries no image preprocessing/);
    } finally {
      await server.close();
      model.dispose();
    }
  });

  it('refuses targets it cannot serve, naming the folder or file', () => {
    const bad = (name: string) => join(dir, name);
    mkdirSync(bad('empty'));
    assert.throws(() => resolveModels(bad('empty')), /empty holds no models: expected a run directory \(model.json\), an .onnx file, or <name>\/<version>\/ folders/);
    mkdirSync(bad('words/m/latest'), { recursive: true });
    assert.throws(() => resolveModels(bad('words')), /words\/m\/latest: a version folder is named by a positive integer/);
    mkdirSync(bad('noversions/m'), { recursive: true });
    assert.throws(() => resolveModels(bad('noversions')), /noversions\/m has no version folders: put the model in .*noversions\/m\/1\//);
    mkdirSync(bad('twofiles/m/1'), { recursive: true });
    writeFileSync(bad('twofiles/m/1/a.onnx'), '');
    writeFileSync(bad('twofiles/m/1/b.onnx'), '');
    assert.throws(() => resolveModels(bad('twofiles')), /twofiles\/m\/1 holds 2 .onnx files \(a.onnx, b.onnx\); a version folder holds one model/);
    mkdirSync(bad('badjson/m/1'), { recursive: true });
    writeFileSync(bad('badjson/m/1/m.onnx'), '');
    writeFileSync(bad('badjson/m/serve.json'), JSON.stringify({ maxBatchSize: 0, retries: 3 }));
    assert.throws(() => resolveModels(bad('badjson')), (e: Error) => /badjson\/m\/serve.json:/.test(e.message) && /maxBatchSize/.test(e.message) && /unknown field 'retries'/.test(e.message));
    mkdirSync(bad('bad name/1'), { recursive: true });
    assert.throws(() => resolveModels(bad('bad name/1'), {}), /holds no model/);
    assert.throws(() => resolveModels(repo, { name: 'x' }), /--name names a single run or .onnx file; .*repo is a model repository/);
    assert.throws(() => resolveModels(join(dir, 'nothing-here')), /nothing-here does not exist/);
    writeFileSync(bad('notes.txt'), 'x');
    assert.throws(() => resolveModels(bad('notes.txt')), /notes.txt is not a run directory, an .onnx file or a model repository/);
    assert.throws(() => resolveModels(join(repo, 'fashion', '1'), { name: 'has space' }), /'has space' cannot be a model name/);
    assert.throws(() => resolveModels(repo, { batching: { maxBatchSize: 64, maxQueue: 16 } }), /maxQueue \(16\) must be at least maxBatchSize \(64\)/);
    assert.throws(() => resolveServeOptions({ timeoutMs: 0, apiKey: 'short', port: 70_000 }), (e: Error) =>
      /^serve options:\n/.test(e.message) && /port: /.test(e.message) && /timeoutMs: /.test(e.message) && /apiKey: an API key must be at least 8 characters/.test(e.message));
  });
});
