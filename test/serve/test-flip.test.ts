// `tessera serve` of a run that saved `testFlip` (it trained with flips): the torch back end answers
// as `tessera predict` does — each image's logits averaged with its mirror image's — and so does
// the ONNX back end on the file `tessera export` wrote (the flip is in its graph, and the server does
// not add another); the model metadata says so. The file exported with --no-test-flip is the plain
// model, and is served as such.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { setNumThreads, tensor } from '../../src/index.js';
import { exportRun } from '../../src/export/run.js';
import { predictFiles } from '../../src/run/predict.js';
import { loadRunModel } from '../../src/run/saved-model.js';
import type { Server } from '../../src/serve/server.js';
import { call, makeRun, picture, postBytes, postJson, serve, source, tensorRequest } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-flip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Top { label: string; index: number; probability: number }
const topOf = (b: Record<string, unknown>) => (b.predictions as { top: Top[] }[])[0]!.top;
const maxDiff = (a: readonly number[], b: ArrayLike<number>) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('tessera serve with the run\'s test-time flip', () => {
  const run = join(dir, 'cifar');
  const files: string[] = [];
  const bytes: Buffer[] = [];
  let server: Server;
  let url: string;

  before(async () => {
    makeRun(run, { model: 'seed-cifar-cnn', channels: 3, size: 32, seed: 7, testFlip: true });
    await exportRun(run, { verify: false });
    await exportRun(run, { verify: false, testFlip: false, out: join(dir, 'plain.onnx') });
    // Gradients from left to right: no picture is its own mirror image.
    for (const [i, format] of (['png', 'jpeg', 'webp'] as const).entries()) {
      const b = await picture(48 + 8 * i, 40, format, i);
      const file = join(dir, `p${i}.${format}`);
      writeFileSync(file, b);
      files.push(file);
      bytes.push(b);
    }
    server = await serve([source(run, {}, 'flip'), source(join(run, 'model.onnx'), {}, 'flip-onnx', 'onnx'), source(join(dir, 'plain.onnx'), {}, 'plain-onnx', 'onnx')]);
    url = server.url;
  });
  after(() => server?.close());

  it('the model metadata says whether the answers include the test-time flip', async () => {
    for (const [name, flip] of [['flip', true], ['flip-onnx', true], ['plain-onnx', false]] as const) {
      const r = await call(`${url}/v2/models/${name}`);
      assert.equal(r.status, 200);
      assert.equal((r.body.parameters as { test_time_flip: boolean }).test_time_flip, flip, name);
    }
  });

  it("/classify: both back ends give tessera predict's probabilities; the plain file does not", async () => {
    const expected = await predictFiles(run, files, { topK: 10 });
    let plainDiff = 0;
    for (const [i, b] of bytes.entries()) {
      const want = new Map(expected[i]!.top.map((t) => [t.index, t.probability]));
      for (const [name, tolerance] of [['flip', 1e-6], ['flip-onnx', 1e-5]] as const) {
        const r = await postBytes(`${url}/v2/models/${name}/classify?top_k=10`, b, 'application/octet-stream');
        assert.equal(r.status, 200, JSON.stringify(r.body));
        for (const t of topOf(r.body)) assert.ok(Math.abs(t.probability - want.get(t.index)!) < tolerance, `${name}, ${files[i]}, class ${t.label}: ${t.probability} vs ${want.get(t.index)}`);
      }
      const plain = topOf((await postBytes(`${url}/v2/models/plain-onnx/classify?top_k=10`, b, 'application/octet-stream')).body);
      for (const t of plain) plainDiff = Math.max(plainDiff, Math.abs(t.probability - want.get(t.index)!));
    }
    assert.ok(plainDiff > 1e-4, `the plain model answers otherwise (max |Δp| ${plainDiff})`);
  });

  it('/infer: the mean of the logits for the input and its mirror image, in both back ends', async () => {
    // Values that vary along the width: the mirror image is another input.
    const req = tensorRequest([2, 3, 32, 32], (i) => Math.sin(i / 5) + (i % 32) / 16);
    const { model } = loadRunModel(run);
    const x = tensor(Float32Array.from((req.inputs as { data: number[] }[])[0]!.data), { shape: [2, 3, 32, 32] });
    // The oracle, written out here rather than through the code under test: (f(x) + f(flip_W(x))) / 2.
    const a = model.forward(x).data() as Float32Array;
    const b = model.forward(x.flip([3])).data() as Float32Array;
    model.dispose();
    const want = Array.from(a, (v, i) => (v + b[i]!) / 2);
    for (const name of ['flip', 'flip-onnx']) {
      const r = await postJson(`${url}/v2/models/${name}/infer`, req);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const got = (r.body.outputs as { data: number[] }[])[0]!.data;
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 + 1e-3 * Math.abs(want[i]!), `${name} logit ${i}: ${v} vs ${want[i]}`));
    }
    const plain = (((await postJson(`${url}/v2/models/plain-onnx/infer`, req)).body.outputs as { data: number[] }[])[0]!).data;
    assert.ok(maxDiff(plain, a) <= 1e-4, 'the plain file is the model alone');
    assert.ok(maxDiff(plain, want) > 1e-4, `and differs from the flip's mean (max |Δ| ${maxDiff(plain, want)})`);
  });
});
