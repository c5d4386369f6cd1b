// `tessera export <run> --quantize int8 --calibrate <source>` on a trained fashion-net (Fashion-MNIST
// subset, test/export/trained-run.ts): the int8 file passes ONNX's checker, runs in ONNX Runtime as
// integer kernels and keeps the fp32 accuracy within 2 points on the run's validation split (150
// images: 3 images); calibrated on black images it loses far more and is refused unless --force;
// flags that do not fit are one clear sentence. The run trained with flips, so both files average
// each image's logits with its mirror image's as its eval does (the model runs twice in the graph).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fromBinary } from '@bufbuild/protobuf';

import { ModelProtoSchema } from '../../src/export/generated/onnx_pb.js';
import type { QuantizeRunResult } from '../../src/export/quantize-run.js';
import { assertOnnxChecks } from './helpers.js';
import { blackImages, fashionSubset, tessera, trainRun } from './trained-run.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-quantize-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tessera export --quantize int8', () => {
  let data: string;
  let run: string;

  before(() => {
    data = fashionSubset(join(dir, 'fashion-1500'), 1500);
    run = trainRun(data, join(dir, 'runs'), 'fn', 'fashion-net');
  });

  it('writes a checked int8 file, reports size, latency and accuracy for both, and keeps accuracy within 2 points', () => {
    const r = tessera('export', run, '--quantize', 'int8', '--calibrate', data, '--calibration-samples', '256', '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    const path = join(run, 'model.int8.onnx');
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `wrote ${path} (int8 QDQ, ONNX opset 17)`);
    assert.match(lines[1]!, /test-time flip .*: the graph does the same/);
    assert.match(r.stdout, /calibrated on 256 images of the run's training split \(minmax\): 28 activations, 7 Conv, 1 Gemm weights in int8/);
    assert.match(r.stdout, /file size +[\d.]+ MB +[\d.]+ MB +[\d.]+× smaller/);
    assert.match(r.stdout, /latency, batch 1 +[\d.]+ ms +[\d.]+ ms +[\d.]+× (faster|slower) \(median of 20\)/);
    assert.match(r.stdout, /latency, batch 32 +[\d.]+ ms +[\d.]+ ms +[\d.]+× (faster|slower) \(median of 10\)/);
    const [, fp32, int8] = /top-1 accuracy +([\d.]+)% +([\d.]+)% +[−+][\d.]+ points \(limit 1\.00\), on the validation split \(150 images\)/.exec(r.stdout) ?? [];
    assert.ok(Math.abs(Number(fp32) - Number(int8)) <= 2, `fp32 ${fp32}%, int8 ${int8}%`);
    assert.match(r.stdout, /ONNX Runtime \(1 thread\) runs the int8 file as 14 QLinearConv, 4 QLinearAdd, 2 QLinearGlobalAveragePool, 2 QGemm$/m);
    assertOnnxChecks([path]);
    const model = fromBinary(ModelProtoSchema, readFileSync(path));
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.model, 'fashion-net');
    assert.equal(JSON.parse(meta.classes!).length, 10);
    assert.equal(meta.test_time_flip, 'true');
    assert.deepEqual(JSON.parse(meta.quantization!), { format: 'QDQ', weights: 'int8, symmetric, per output channel', activations: 'uint8, asymmetric, per tensor', calibration: { method: 'minmax', samples: 256 } });
    assert.ok(model.graph!.initializer.some((t) => t.name === 'stem.0.weight.fused_bn_quantized' && t.dataType === 3), 'int8 weights stored as int8');
  });

  it('--json: the figures; percentile calibration keeps the accuracy too', () => {
    const out = join(dir, 'percentile.int8.onnx');
    const r = tessera('export', run, '--quantize', 'int8', '--calibrate', data, '--calibration-method', 'percentile', '--percentile', '99.99', '--threads', '1', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as QuantizeRunResult;
    assert.equal(j.written, true);
    assert.equal(j.path, out);
    assert.equal(j.testFlip, 'in-file');
    assert.deepEqual([j.calibration.method, j.calibration.percentile, j.calibration.samples], ['percentile', 99.99, 512]);
    assert.deepEqual(j.leftInFloat, {});
    assert.ok(j.fp32.accuracy > 0.5, `the fixture's model learned something: ${j.fp32.accuracy}`);
    assert.ok(Math.abs(j.accuracyDrop) <= 0.02, `fp32 ${j.fp32.accuracy}, int8 ${j.int8.accuracy}`);
    assert.ok(Math.abs(j.accuracyDrop - (j.fp32.accuracy - j.int8.accuracy)) < 1e-12);
    assert.ok(j.fp32.bytes / j.int8.bytes > 3.5, `${j.fp32.bytes} vs ${j.int8.bytes} bytes`);
    assert.deepEqual(j.fp32.latency.map((l) => l.batch), [1, 32]);
    assert.deepEqual(j.measuredOn, { split: 'validation', samples: 150 });
    assert.equal(readFileSync(out).length, j.int8.bytes);
  });

  it('refuses when accuracy drops more than --max-accuracy-drop (black calibration images), writes with --force', () => {
    const black = blackImages(join(dir, 'black'), 64);
    const out = join(dir, 'black.int8.onnx');
    let r = tessera('export', run, '--quantize', 'int8', '--calibrate', black, '--threads', '1', '--out', out);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`^not written: ${out.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(r.stderr, /^tessera: int8 accuracy [\d.]+% is [\d.]+ points below fp32's [\d.]+%, more than --max-accuracy-drop 0\.01; nothing written \(--force writes it anyway\)$/m);
    assert.ok(!existsSync(out));
    r = tessera('export', run, '--quantize', 'int8', '--calibrate', black, '--threads', '1', '--out', out, '--force', '--max-accuracy-drop', '0.05');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(int8 QDQ, ONNX opset 17, forced: its accuracy fell by more than the limit\)/);
    assert.match(r.stdout, /\(limit 5\.00\)/);
    assert.ok(existsSync(out));
  });

  it('bad input: one sentence naming the flag or file, a non-zero exit, no file', () => {
    const handMade = join(dir, 'hand-made');
    mkdirSync(handMade);
    for (const f of ['model.json', 'model.safetensors']) writeFileSync(join(handMade, f), readFileSync(join(run, f)));
    const cases: [string[], RegExp][] = [
      [['export', run, '--calibrate', data], /--calibrate goes with --quantize int8/],
      [['export', run, '--force'], /--force goes with --quantize int8/],
      [['export', run, '--quantize', 'int8'], /--quantize int8 needs --calibrate <source>/],
      [['export', run, '--quantize', 'int4', '--calibrate', data], /argument 'int4' is invalid\. Allowed choices are int8/],
      [['export', run, '--quantize', 'int8', '--calibrate', data, '--format', 'pt'], /--quantize writes ONNX; it does not go with --format pt/],
      [['export', run, '--quantize', 'int8', '--calibrate', data, '--percentile', '99'], /--percentile goes with --calibration-method percentile/],
      [['export', run, '--quantize', 'int8', '--calibrate', data, '--max-accuracy-drop', '2'], /--max-accuracy-drop must be a number from 0 to 1/],
      [['export', run, '--quantize', 'int8', '--calibrate', data, '--calibration-samples', '0'], /--calibration-samples must be an integer from 1 to 1000000/],
      [['export', run, '--quantize', 'int8', '--calibrate', join(dir, 'nowhere')], /nowhere/],
      [['export', handMade, '--quantize', 'int8', '--calibrate', data], /hand-made has no config\.json .*its validation split is unknown/],
    ];
    for (const [args, message] of cases) {
      const r = tessera(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.ok(!existsSync(join(handMade, 'model.int8.onnx')));
  });
});
