// `tessera export <run>`: a run directory as `tessera train` leaves it (model.json + model.safetensors)
// becomes model.onnx (checked in ONNX Runtime before it is written), safetensors with the metadata,
// or a .pt state dict; bad input is one clear sentence and a non-zero exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fromBinary } from '@bufbuild/protobuf';

import { io, manualSeed, models, randn, setNumThreads, type Tensor } from '../../src/index.js';
import { ModelProtoSchema } from '../../src/export/generated/onnx_pb.js';
import { loadRunModel } from '../../src/run/saved-model.js';
import { randomizeNorms, runOnnxRuntime } from './helpers.js';

setNumThreads(1);
const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const tessera = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });

const dir = mkdtempSync(join(tmpdir(), 'tessera-export-cli-'));
const run = join(dir, 'run');
after(() => rmSync(dir, { recursive: true, force: true }));

const CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
const META = { format: 'tessera-model/1', model: 'fashion-net', classes: CLASSES, channels: 1, height: 28, width: 28, mean: [0.286], std: [0.353] };

describe('tessera export', () => {
  let model: models.ZooModel;

  before(() => {
    manualSeed(5);
    model = models.fashionNet();
    randomizeNorms(model);
    model.eval();
    mkdirSync(run);
    io.saveStateDict(join(run, 'model.safetensors'), model);
    writeFileSync(join(run, 'model.json'), JSON.stringify(META));
  });

  it('writes model.onnx, checked in ONNX Runtime, with the classes and preprocessing in its metadata', async () => {
    const r = tessera('export', run);
    assert.equal(r.status, 0, r.stderr);
    const path = join(run, 'model.onnx');
    assert.match(r.stdout, new RegExp(`wrote ${path} \\(ONNX opset 17, [\\d.]+ MB, 7 batch norms folded into convolutions\\)`));
    assert.match(r.stdout, /ONNX Runtime matches Tessera at batch 1 and 7 \(max \|Δ\| [\d.e+-]+\)/);
    const bytes = readFileSync(path);
    const meta = Object.fromEntries(fromBinary(ModelProtoSchema, bytes).metadataProps.map((p) => [p.key, p.value]));
    assert.deepEqual(JSON.parse(meta.classes!), CLASSES);
    assert.equal(meta.input_layout, 'NCHW');
    assert.equal(meta.model, 'fashion-net');
    // The run's saved preprocessing, as it is (a tessera-model/1 run's: stretched to 28×28, normalised).
    const pre = JSON.parse(meta.preprocessing!);
    const saved = loadRunModel(run);
    saved.model.dispose();
    assert.deepEqual(pre, saved.preprocessing.toJSON());
    assert.deepEqual([pre.format, pre.input, pre.normalize, pre.layout, pre.classes], ['tessera-preprocessing/1', { channels: 1, height: 28, width: 28 }, { mean: [0.286], std: [0.353] }, 'NCHW', CLASSES]);
    // The file is the run's model: the same logits in ONNX Runtime as the model loaded here.
    const x: Tensor = randn([3, 1, 28, 28]);
    const got = await runOnnxRuntime(bytes, x);
    const want = model.forward(x).data() as Float32Array;
    assert.deepEqual(got.dims, [3, 10]);
    want.forEach((v, i) => assert.ok(Math.abs((got.data[i] as number) - v) <= 1e-5 + 1e-3 * Math.abs(v), `logit ${i}: ${got.data[i]} vs ${v}`));
  });

  it('--opset 13 and --out choose the opset and the file', () => {
    const out = join(dir, 'fashion-13.onnx');
    const r = tessera('export', run, '--opset', '13', '--out', out, '--no-verify');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ONNX Runtime matches/);
    assert.equal(fromBinary(ModelProtoSchema, readFileSync(out)).opsetImport[0]!.version, 13n);
  });

  it('--format safetensors copies the weights with the metadata; --format pt writes a state dict', () => {
    let r = tessera('export', run, '--format', 'safetensors');
    assert.equal(r.status, 0, r.stderr);
    const st = join(run, 'model.export.safetensors');
    const header = io.readSafetensorsHeader(st);
    assert.deepEqual(JSON.parse(header.metadata!.classes!), CLASSES);
    assert.equal(header.metadata!.model, 'fashion-net');
    const keys = [...model.stateDict().keys()];
    assert.deepEqual(header.tensors.map((t) => t.name).sort(), [...keys].sort()); // the writer orders by dtype alignment
    r = tessera('export', run, '--format', 'pt', '--out', join(dir, 'weights.pt'));
    assert.equal(r.status, 0, r.stderr);
    const loaded = io.loadPt(join(dir, 'weights.pt'));
    assert.deepEqual([...loaded.keys()], keys);
    const w = model.stateDict().get('stem.0.weight')!;
    assert.deepEqual(loaded.get('stem.0.weight')!.data(), w.data());
  });

  it('bad input: one sentence naming the fault, a non-zero exit, no file', () => {
    const cases: [string[], RegExp][] = [
      [['export', join(dir, 'nowhere')], /no trained model at .*nowhere: expected .*model\.json/],
      [['export', run, '--opset', '18'], /--opset must be an integer from 13 to 17/],
      [['export', run, '--format', 'onnnx'], /argument 'onnnx' is invalid\. Allowed choices are onnx, safetensors, pt/],
    ];
    for (const [args, message] of cases) {
      const r = tessera(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.ok(!existsSync(join(dir, 'nowhere')));
  });
});
