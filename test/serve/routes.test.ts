// Every route of `tessera serve` over real HTTP on loopback, against the evaluation path: the image
// route's probabilities equal `tessera predict`'s on the same files (the run's saved preprocessing:
// decode, resize, crop, normalisation, memory format), /infer's logits equal the model's forward,
// and the ONNX Runtime back end agrees with the LibTorch one on the same run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { setNumThreads, tensor, zeros } from '../../src/index.js';
import { collate } from '../../src/data/loader/collate.js';
import type { XY } from '../../src/data/transforms/batch.js';
import { exportRun } from '../../src/export/run.js';
import { predictFiles } from '../../src/run/predict.js';
import { loadRunModel } from '../../src/run/saved-model.js';
import { imagePreprocessor } from '../../src/serve/preprocess.js';
import type { Server } from '../../src/serve/server.js';
import { call, makeRun, picture, postBytes, postJson, serve, source, tensorRequest } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Top { label: string; index: number; probability: number }
interface Pred { image: string; top: Top[] }
const predictions = (b: Record<string, unknown>) => b.predictions as Pred[];

describe('tessera serve routes', () => {
  const grey = join(dir, 'fashion');
  const rgb = join(dir, 'cifar');
  const nhwc = join(dir, 'cifar-cl');
  const files: Record<string, string> = {};
  const bytes: Record<string, Buffer> = {};
  let server: Server;
  let url: string;

  before(async () => {
    makeRun(grey, { model: 'fashion-net', channels: 1, size: 28 });
    makeRun(rgb, { model: 'seed-cifar-cnn', channels: 3, size: 32, seed: 2 });
    makeRun(nhwc, { model: 'resnet9', channels: 3, size: 32, seed: 3, memoryFormat: 'channelsLast' });
    await exportRun(rgb, { verify: false });
    for (const [name, w, h, format] of [['a.png', 40, 30, 'png'], ['b.jpg', 64, 48, 'jpeg'], ['c.webp', 50, 50, 'webp']] as const) {
      bytes[name] = await picture(w, h, format, name.length + w);
      files[name] = join(dir, name);
      writeFileSync(files[name], bytes[name]);
    }
    server = await serve([source(grey, { maxBatchSize: 8 }, 'fashion'), source(rgb, { maxBatchSize: 8 }, 'cifar'), source(join(rgb, 'model.onnx'), { maxBatchSize: 8 }, 'cifar-onnx', 'onnx'), source(nhwc, { maxBatchSize: 8 }, 'cifar-cl')]);
    url = server.url;
  });
  after(() => server?.close());

  it('health: live, ready, server metadata, and a 404 naming an unknown route', async () => {
    assert.deepEqual((await call(`${url}/v2/health/live`)).body, { live: true });
    const ready = await call(`${url}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ready: true });
    const meta = await call(`${url}/v2`);
    assert.equal(meta.body.name, 'tessera');
    assert.match(String(meta.body.version), /^\d+\.\d+\.\d+/);
    const missing = await call(`${url}/v2/nothing?x=1`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'no route GET /v2/nothing');
  });

  it('model metadata and readiness, with and without /versions/{v}; unknown models and versions are 404s naming what exists', async () => {
    for (const path of ['/v2/models/fashion', '/v2/models/fashion/versions/1']) {
      const r = await call(url + path);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {
        name: 'fashion', versions: ['1'], platform: 'tessera_libtorch',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
        outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }],
        parameters: { version: '1', max_batch_size: 8, classes: (r.body.parameters as { classes: string[] }).classes, image_route: true, test_time_flip: false },
      });
      assert.equal((await call(`${url}${path}/ready`)).body.ready, true);
    }
    const onnx = await call(`${url}/v2/models/cifar-onnx`);
    assert.equal(onnx.body.platform, 'onnxruntime_onnx');
    assert.deepEqual(onnx.body.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 32, 32] }]);
    const unknown = await call(`${url}/v2/models/shoes/ready`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, "no model named 'shoes' is served (models: fashion, cifar, cifar-onnx, cifar-cl)");
    const version = await call(`${url}/v2/models/fashion/versions/3`);
    assert.equal(version.status, 404);
    assert.equal(version.body.error, "model 'fashion' has no version '3' (versions: 1)");
  });

  it('/infer: logits equal the model forward, flat or nested data, the request id echoed', async () => {
    const req = tensorRequest([3, 1, 28, 28], (i) => Math.sin(i / 7));
    const r = await postJson(`${url}/v2/models/fashion/infer`, { id: 'req-1', ...req });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out = (r.body.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[])[0]!;
    assert.deepEqual([r.body.model_name, r.body.model_version, r.body.id, out.name, out.datatype, out.shape], ['fashion', '1', 'req-1', 'output', 'FP32', [3, 10]]);
    const { model } = loadRunModel(grey);
    const flat = (req.inputs as { data: number[] }[])[0]!.data;
    const want = model.forward(tensor(Float32Array.from(flat), { shape: [3, 1, 28, 28] })).data() as Float32Array;
    model.dispose();
    out.data.forEach((v, i) => assert.ok(Math.abs(v - (want[i] as number)) <= 1e-5, `logit ${i}: ${v} vs ${want[i]}`));
    // The same values nested as [3][1][28][28].
    const nested = Array.from({ length: 3 }, (_, b) => [Array.from({ length: 28 }, (_, y) => flat.slice(b * 784 + y * 28, b * 784 + y * 28 + 28))]);
    const again = await postJson(`${url}/v2/models/fashion/versions/1/infer`, { inputs: [{ name: 'input', shape: [3, 1, 28, 28], datatype: 'FP32', data: nested }], outputs: [{ name: 'output' }] });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual((again.body.outputs as { data: number[] }[])[0]!.data, out.data);
  });

  it("the image route prepares images exactly as evaluation does: float32 inputs bit-identical to the saved preprocessing's sample pipeline and batch steps", async () => {
    const { model, preprocessing } = loadRunModel(rgb);
    model.dispose();
    const pre = imagePreprocessor(preprocessing.toJSON(), { maxPixels: 1e8 });
    const images = Object.entries(bytes).map(([id, b]) => ({ id, bytes: b }));
    const got = await pre.prepare(images);
    const pipeline = preprocessing.samplePipeline();
    const raws = await Promise.all(images.map((im, index) => pipeline.run({ kind: 'encoded', bytes: im.bytes }, { seed: 0, epoch: 0, index })));
    const indices = images.map((_, i) => i);
    let batch: XY = { x: collate(raws), y: zeros([raws.length], { dtype: 'int64' }) };
    preprocessing.batchSteps().forEach((s, position) => (batch = s.transform(batch, { seed: 0, epoch: 0, batch: 0, indices, position })));
    const want = batch.x.contiguous().data() as Float32Array;
    assert.equal(got.length, want.length);
    const differ = got.findIndex((v, i) => v !== want[i]);
    assert.equal(differ, -1, `first difference at ${differ}: ${got[differ]} vs ${want[differ]}`);
  });

  for (const [model, run] of [['fashion', grey], ['cifar', rgb], ['cifar-cl', nhwc]] as const)
    it(`/classify on ${model}: each format as a raw body gives tessera predict's labels and probabilities`, async () => {
      const names = Object.keys(files);
      const expected = await predictFiles(run, names.map((n) => files[n]!), { topK: 3 });
      for (const [i, name] of names.entries()) {
        const type = name.endsWith('.png') ? 'image/png' : name.endsWith('.jpg') ? 'image/jpeg' : 'image/webp';
        const r = await postBytes(`${url}/v2/models/${model}/classify?top_k=3`, bytes[name]!, type);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const [p] = predictions(r.body);
        assert.equal(p!.image, 'body');
        const want = expected[i]!.top;
        assert.deepEqual(p!.top.map((t) => [t.label, t.index]), want.map((t) => [t.label, t.index]), name);
        p!.top.forEach((t, k) => assert.ok(Math.abs(t.probability - want[k]!.probability) < 1e-6, `${name} class ${t.label}: ${t.probability} vs ${want[k]!.probability}`));
      }
    });

  it('/classify multipart: several images in one request, answered in order by file name; top_k defaults to 5 and stops at the class count', async () => {
    const form = new FormData();
    for (const [name, b] of Object.entries(bytes)) form.append('image', new Blob([b], { type: name.endsWith('.png') ? 'image/png' : name.endsWith('.jpg') ? 'image/jpeg' : 'image/webp' }), name);
    const r = await call(`${url}/v2/models/cifar/classify`, { method: 'POST', body: form });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const preds = predictions(r.body);
    assert.deepEqual(preds.map((p) => p.image), Object.keys(bytes));
    assert.ok(preds.every((p) => p.top.length === 5));
    const single = await postBytes(`${url}/v2/models/cifar/classify?top_k=50`, bytes['b.jpg']!, 'application/octet-stream');
    const top = predictions(single.body)[0]!.top;
    assert.equal(top.length, 10);
    assert.ok(Math.abs(top.reduce((a, t) => a + t.probability, 0) - 1) < 1e-9);
    assert.deepEqual(top.slice(0, 5).map((t) => t.index), preds[1]!.top.map((t) => t.index));
  });

  it('the ONNX Runtime back end answers as the LibTorch one does on the same run', async () => {
    const form = () => {
      const f = new FormData();
      for (const [name, b] of Object.entries(bytes)) f.append('image', new Blob([b], { type: 'application/octet-stream' }), name);
      return f;
    };
    const torch = predictions((await call(`${url}/v2/models/cifar/classify?top_k=10`, { method: 'POST', body: form() })).body);
    const onnx = predictions((await call(`${url}/v2/models/cifar-onnx/classify?top_k=10`, { method: 'POST', body: form() })).body);
    torch.forEach((p, i) => {
      const byIndex = new Map(onnx[i]!.top.map((t) => [t.index, t.probability]));
      p.top.forEach((t) => assert.ok(Math.abs(t.probability - byIndex.get(t.index)!) < 1e-5, `${p.image} class ${t.index}: ${t.probability} vs ${byIndex.get(t.index)}`));
    });
    const req = tensorRequest([2, 3, 32, 32]);
    const a = (await postJson(`${url}/v2/models/cifar/infer`, req)).body.outputs as { data: number[] }[];
    const b = (await postJson(`${url}/v2/models/cifar-onnx/infer`, req)).body.outputs as { data: number[] }[];
    a[0]!.data.forEach((v, i) => assert.ok(Math.abs(v - b[0]!.data[i]!) <= 1e-5 + 1e-3 * Math.abs(v), `logit ${i}`));
  });

  it('/metrics: requests by route and code, latency, queue time and batch size, process memory', async () => {
    const r = await fetch(`${url}/metrics`);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await r.text();
    const value = (line: RegExp) => Number(new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value(/tessera_http_requests_total\{route="\/v2\/models\/:name\/infer",method="POST",code="200"\}/) >= 3);
    assert.ok(value(/tessera_http_requests_total\{route="unmatched",method="GET",code="404"\}/) >= 1);
    assert.ok(value(/tessera_http_request_duration_seconds_count\{route="\/v2\/models\/:name\/classify"\}/) >= 6);
    assert.ok(value(/tessera_queue_wait_seconds_count\{model="cifar",version="1"\}/) >= 1);
    assert.ok(value(/tessera_batch_size_sum\{model="cifar",version="1"\}/) >= 3);
    assert.ok(value(/tessera_inference_duration_seconds_count\{model="fashion",version="1"\}/) >= 2);
    assert.equal(value(/tessera_queue_samples\{model="fashion",version="1"\}/), 0);
    assert.ok(value(/tessera_serve_process_resident_memory_bytes/) > 0);
  });
});

describe('tessera serve --api-key', () => {
  let server: Server;
  before(async () => {
    server = await serve([source(makeRun(join(dir, 'key'), { model: 'mlp', channels: 1, size: 28 }), {}, 'mlp')], { apiKey: 'sesame-open-42' });
  });
  after(() => server?.close());

  it('refuses a missing or wrong key with 401, takes Bearer and X-API-Key, leaves the health probes open', async () => {
    const path = `${server.url}/v2/models/mlp`;
    for (const headers of [{}, { authorization: 'Bearer sesame-open-4' }, { 'x-api-key': 'sesame-open-421' }, { authorization: 'sesame-open-42' }] as Record<string, string>[]) {
      const r = await call(path, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      assert.match(String(r.body.error), /API key/);
    }
    assert.equal((await call(path, { headers: { authorization: 'Bearer sesame-open-42' } })).status, 200);
    assert.equal((await call(path, { headers: { 'x-api-key': 'sesame-open-42' } })).status, 200);
    assert.equal((await call(`${server.url}/metrics`)).status, 401);
    assert.equal((await call(`${server.url}/v2/health/ready`)).status, 200);
  });
});
