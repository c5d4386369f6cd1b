// `tessera export` of a run that saved `testFlip`: the ONNX graph computes what eval and predict
// compute — the mean of the logits for each image and for its mirror image — so ONNX Runtime gives
// eval's logits and predict's probabilities on the same images, at batch 1 and 7; --no-test-flip
// gives the plain model, which differs on a picture that is not mirror-symmetric; the file holds
// each weight once; int8 keeps the flip; weights-only formats say in their metadata that the flip
// is the user's to apply.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fromBinary } from '@bufbuild/protobuf';

import { io, manualSeed, models, randn, setNumThreads, zeros, type Tensor } from '../../src/index.js';
import { collate } from '../../src/data/loader/collate.js';
import { fitTransforms, Preprocessing } from '../../src/data/pipeline/preprocessing.js';
import type { XY } from '../../src/data/transforms/batch.js';
import type { Batch, RawImage } from '../../src/data/types.js';
import { quantizeOnnx } from '../../src/export/index.js';
import { ModelProtoSchema } from '../../src/export/generated/onnx_pb.js';
import { OrtModel } from '../../src/export/quantize-measure.js';
import { exportRun } from '../../src/export/run.js';
import { predictFiles } from '../../src/run/predict.js';
import { loadRunModel, saveRunModel } from '../../src/run/saved-model.js';
import { inference } from '../../src/train/inference.js';
import { picture } from '../serve/helpers.js';
import { assertOnnxChecks, randomizeNorms, runOnnxRuntime } from './helpers.js';
import { tessera } from './trained-run.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-export-flip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
const metadataOf = (bytes: Uint8Array) => Object.fromEntries(fromBinary(ModelProtoSchema, bytes).metadataProps.map((p) => [p.key, p.value]));

/** |a − b| ≤ atol + rtol·|b| everywhere (the export's own criterion). */
function assertClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-3, atol = 1e-5): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} values`);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= atol + rtol * Math.abs(b[i]!), `${what} [${i}]: ${a[i]} vs ${b[i]}`);
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** What eval runs on a batch: the one inference pass with the run's flip, its logits as numbers. */
async function evalLogits(run: string, x: Tensor): Promise<Float32Array> {
  const { model, preprocessing, testFlip } = loadRunModel(run);
  let out: Float32Array | undefined;
  try {
    const n = x.shape[0]!;
    const batch: Batch = { x: x.clone(), y: zeros([n], { dtype: 'int64' }), indices: [...Array(n).keys()], ids: [] }; // the pass disposes its batches
    await inference(model, { classes: preprocessing.classes, epoch: async function* () { yield batch; } }, (y) => void (out = y.data() as Float32Array), { flip: testFlip === true });
  } finally {
    model.dispose();
  }
  return out!;
}

describe('tessera export with the run\'s test-time flip', () => {
  const run = join(dir, 'run');
  const files: string[] = [];
  /** The 7 pictures prepared as eval prepares them: (7, 1, 28, 28). */
  let x7: Tensor;

  before(async () => {
    manualSeed(21);
    const options = { classes: CLASSES.length, inChannels: 1, imageSize: 28 };
    const model = models.createModel('fashion-net', options);
    randomizeNorms(model);
    const preprocessing = Preprocessing.of({ channels: 1, height: 28, width: 28, transforms: fitTransforms(28, 28), mean: [0.286], std: [0.353], memoryFormat: 'contiguous', classes: CLASSES });
    mkdirSync(run);
    saveRunModel(run, model, { name: 'fashion-net', options, preprocessing, testFlip: true });
    model.dispose();
    // Pictures with a left-to-right gradient: none is its own mirror image.
    const raws: RawImage[] = [];
    for (let i = 0; i < 7; i++) {
      const file = join(dir, `p${i}.png`);
      writeFileSync(file, await picture(40 + 3 * i, 30 + i, 'png', i));
      files.push(file);
      raws.push(await preprocessing.samplePipeline().run({ kind: 'encoded', bytes: readFileSync(file) }, { seed: 0, epoch: 0, index: i }));
    }
    let batch: XY = { x: collate(raws), y: zeros([raws.length], { dtype: 'int64' }) };
    preprocessing.batchSteps().forEach((s, position) => (batch = s.transform(batch, { seed: 0, epoch: 0, batch: 0, indices: raws.map((_, i) => i), position })));
    x7 = batch.x.contiguous();
  });

  it("the graph averages with the mirror image: ONNX Runtime gives eval's logits and predict's probabilities at batch 1 and 7", async () => {
    const r = await exportRun(run, { out: join(dir, 'flip.onnx') });
    assert.equal(r.testFlip, 'in-file');
    assert.deepEqual(r.comparison?.map((c) => [c.batch, c.ok]), [[1, true], [7, true]]);
    const bytes = readFileSync(r.path);
    assert.equal(metadataOf(bytes).test_time_flip, 'true');
    const x1 = x7.narrow(0, 0, 1).contiguous();
    for (const x of [x1, x7]) {
      const got = await runOnnxRuntime(bytes, x);
      assert.deepEqual(got.dims, [x.shape[0], 10]);
      assertClose(`logits at batch ${x.shape[0]}`, got.data, await evalLogits(run, x));
    }
    // tessera predict on the same files: softmax of ONNX Runtime's logits gives its probabilities.
    const logits = (await runOnnxRuntime(bytes, x7)).data;
    const predicted = await predictFiles(run, files, { topK: 10 });
    predicted.forEach((p, i) => {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      const sum = row.reduce((a, v) => a + Math.exp(v - Math.max(...row)), 0);
      for (const t of p.top) assert.ok(Math.abs(Math.exp(row[t.index]! - Math.max(...row)) / sum - t.probability) < 1e-5, `${p.file} class ${t.label}`);
    });
  });

  it('--no-test-flip exports the plain model, which differs on an image that is not its own mirror; each weight is stored once either way', async () => {
    const flip = readFileSync(join(dir, 'flip.onnx'));
    const r = await exportRun(run, { out: join(dir, 'plain.onnx'), testFlip: false });
    assert.equal(r.testFlip, 'left-out');
    const plain = readFileSync(r.path);
    assert.equal(metadataOf(plain).test_time_flip, 'false');
    const { model } = loadRunModel(run);
    const want = model.forward(x7).data() as Float32Array;
    model.dispose();
    const got = (await runOnnxRuntime(plain, x7)).data;
    assertClose('the plain file is model.forward', got, want);
    const flipped = (await runOnnxRuntime(flip, x7)).data;
    assert.ok(maxDiff(flipped, got) > 1e-3, `the flip changes the logits (max |Δ| ${maxDiff(flipped, got)})`);
    // The flip graph runs the model twice on the same (folded) initializers: a few bytes more, not twice the weights.
    const g = fromBinary(ModelProtoSchema, flip).graph!;
    assert.equal(g.node.filter((n) => n.opType === 'Conv').length, 14);
    assert.equal(g.node.filter((n) => n.opType === 'Slice').length, 1);
    assert.ok(flip.length < plain.length * 1.01, `${flip.length} vs ${plain.length} bytes`);
    assertOnnxChecks([join(dir, 'flip.onnx'), r.path]);
  });

  it('true for a run without a test-time flip is an error; such a run exports as before, with no test_time_flip metadata', async () => {
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    const { model, name, options, preprocessing } = loadRunModel(run);
    saveRunModel(bare, model, { name, options, preprocessing });
    model.dispose();
    await assert.rejects(exportRun(bare, { testFlip: true, verify: false }), /bare does not evaluate with a test-time flip \(its model\.json has no testFlip\)/);
    const r = await exportRun(bare, { verify: false });
    assert.equal(r.testFlip, undefined);
    assert.equal(metadataOf(readFileSync(r.path)).test_time_flip, undefined);
    assert.equal(fromBinary(ModelProtoSchema, readFileSync(r.path)).graph!.node.filter((n) => n.opType === 'Slice').length, 0);
  });

  it('int8 (QDQ) keeps the flip: calibrated on the same graph, integer kernels for both passes, int8 weights stored once, close to the fp32 file', async () => {
    const fp32 = readFileSync(join(dir, 'flip.onnx'));
    manualSeed(4);
    const data = randn([16, 1, 28, 28]).data() as Float32Array;
    const batches = [0, 1].map((i) => ({ data: data.slice(i * 8 * 784, (i + 1) * 8 * 784), dims: [8, 1, 28, 28] }));
    const q = await quantizeOnnx(fp32, batches, { threads: 1 });
    assert.deepEqual(q.summary.weighted, { Conv: 7, Gemm: 1 }, 'each weight quantized once');
    const path = join(dir, 'flip.int8.onnx');
    writeFileSync(path, q.bytes);
    assertOnnxChecks([path]);
    const m = fromBinary(ModelProtoSchema, q.bytes);
    assert.equal(metadataOf(q.bytes).test_time_flip, 'true');
    assert.equal(m.graph!.initializer.filter((t) => t.name.endsWith('weight.fused_bn_quantized')).length, 7);
    const ort = await OrtModel.load(q.bytes, { threads: 1 });
    const ops = ort.optimizedOps;
    await ort.release();
    assert.deepEqual([ops.QLinearConv, ops.QGemm, ops.Conv, ops.Gemm], [14, 2, undefined, undefined]);
    // The mean of the two logits stays float (not rounded to 8 bits), so int8 stays close to fp32.
    const a = (await runOnnxRuntime(q.bytes, x7)).data;
    const b = (await runOnnxRuntime(fp32, x7)).data;
    const scale = Math.max(...Array.from(b, Math.abs));
    assert.ok(maxDiff(a, b) < 0.1 * scale, `int8 vs fp32: max |Δ| ${maxDiff(a, b)} of logits up to ${scale}`);
  });

  it('the CLI: says what it did with the flip; --no-test-flip is for ONNX; safetensors says in its metadata that the flip is the user\'s', () => {
    let r = tessera('export', run, '--out', join(dir, 'cli.onnx'), '--no-verify');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^the run evaluates with a test-time flip \(each image's logits averaged with its mirror image's\): the graph does the same \(--no-test-flip leaves it out\)$/m);
    r = tessera('export', run, '--out', join(dir, 'cli-plain.onnx'), '--no-verify', '--no-test-flip');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: left out of the graph \(--no-test-flip\)$/m);
    assert.equal(metadataOf(readFileSync(join(dir, 'cli-plain.onnx'))).test_time_flip, 'false');
    r = tessera('export', run, '--format', 'safetensors', '--out', join(dir, 'w.safetensors'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: the weights alone are the plain model: apply it yourself to answer as tessera eval does$/m);
    assert.equal(io.readSafetensorsHeader(join(dir, 'w.safetensors')).metadata!.test_time_flip, 'false');
    r = tessera('export', run, '--format', 'pt', '--no-test-flip');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--no-test-flip is for ONNX: --format pt holds the weights only, never the flip/);
  });

  after(() => x7?.dispose());
});
