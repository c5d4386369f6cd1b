// int8 QDQ quantization as a library: the arithmetic against PyTorch's observers and numpy on the
// same weights and data (quantize_reference.py; ONNX Runtime's Python quantizer is not installed
// here, so its formulas are checked through these), the file against ONNX's checker, and the graph
// ONNX Runtime builds from it: every convolution, matrix product, residual add and pooling fused
// into an integer kernel, nothing of the compute left in float.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fromBinary } from '@bufbuild/protobuf';

import { io, manualSeed, models, nn, randn, setNumThreads, type Tensor } from '../../src/index.js';
import { exportOnnx, quantizeBias, quantizeOnnx, scaleZeroPoint, type InputBatch } from '../../src/export/index.js';
import { percentileRange } from '../../src/export/calibrate.js';
import { writeNpy } from '../../src/data/formats/npy-write.js';
import { ModelProtoSchema } from '../../src/export/generated/onnx_pb.js';
import { roundHalfEven } from '../../src/export/quantize-math.js';
import { OrtModel } from '../../src/export/quantize-measure.js';
import { assertOnnxChecks, randomizeNorms } from './helpers.js';

setNumThreads(1);
const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'export', 'quantize_reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'tessera-quantize-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const batchesOf = (x: Tensor, size: number): InputBatch[] => {
  const [n, ...rest] = x.shape as [number, ...number[]];
  const per = rest.reduce((a, b) => a * b, 1);
  const data = x.contiguous().data() as Float32Array;
  return Array.from({ length: Math.ceil(n / size) }, (_, i) => {
    const rows = Math.min(size, n - i * size);
    return { data: data.slice(i * size * per, (i * size + rows) * per), dims: [rows, ...rest] };
  });
};

/** Quantizes `model` exported at `shape`, calibrated on 16 standard-normal inputs; returns both files. */
async function quantized(model: nn.Module, shape: number[]) {
  model.eval();
  const fp32 = exportOnnx(model, randn([1, ...shape])).bytes;
  const x = randn([16, ...shape]);
  const q = await quantizeOnnx(fp32, batchesOf(x, 8), { threads: 1 });
  return { fp32, ...q, x };
}

describe('int8 quantization (QDQ)', () => {
  it('scales, zero points and int8/int32 codes agree with PyTorch observers and numpy on the same weights and data', async () => {
    manualSeed(11);
    // conv(bias) → ReLU → max pool → conv → ReLU → global average → flatten → linear
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(4, 6, 3), new nn.ReLU(),
      new nn.AdaptiveAvgPool2d([1, 1]), new nn.Flatten(), new nn.Linear(6, 3),
    );
    const { bytes, x, summary } = await quantized(model, [1, 10, 10]);
    assert.deepEqual(summary.weighted, { Conv: 2, Gemm: 1 });
    assert.equal(summary.removedActivations, 2, 'both ReLUs fold into the convolutions before them');
    const files = { onnx: join(dir, 'small.int8.onnx'), weights: join(dir, 'small.pt'), data: join(dir, 'calibration.npy') };
    writeFileSync(files.onnx, bytes);
    io.saveStateDict(files.weights, model, { format: 'pt' });
    writeNpy(files.data, { dtype: 'f4', shape: x.shape, data: x.contiguous().data() as Float32Array });
    // Tensors by the twin module whose output they hold: the convolutions' outputs carry their ReLU's name.
    const quantizedNames = fromBinary(ModelProtoSchema, bytes).graph!.node.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input[0]!);
    assert.deepEqual(quantizedNames, ['input', '/1/Relu_output_0', '/2/MaxPool_output_0', '/4/Relu_output_0', '/5/GlobalAveragePool_output_0', '/6/Reshape_output_0']);
    const request = {
      ...files,
      build: 'torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(6, 3))',
      // max pool and flatten keep their input's quantization: their tensors share its scale and zero point
      taps: { input: 'input', '/1/Relu_output_0': 1, '/2/MaxPool_output_0': 1, '/4/Relu_output_0': 4, '/5/GlobalAveragePool_output_0': 5, '/6/Reshape_output_0': 5 },
      layers: [{ key: '0', input: 'input' }, { key: '3', input: '/2/MaxPool_output_0' }, { key: '7', input: '/6/Reshape_output_0' }],
    };
    const r = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(request), encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, `quantize_reference.py failed:\n${r.stderr}`);
    assert.deepEqual((JSON.parse(r.stdout) as { problems: string[] }).problems, []);
    assertOnnxChecks([files.onnx]);
  });

  it('fashion-net: ONNX Runtime fuses every convolution, residual add, pooling and the linear head into integer kernels', async () => {
    manualSeed(3);
    const model = models.fashionNet();
    randomizeNorms(model);
    const { fp32, bytes, summary } = await quantized(model, [1, 28, 28]);
    assert.deepEqual(summary.weighted, { Conv: 7, Gemm: 1 });
    assert.ok(bytes.length < 0.3 * fp32.length, `int8 file ${bytes.length} bytes vs fp32 ${fp32.length}`);
    const path = join(dir, 'fashion-net.int8.onnx');
    writeFileSync(path, bytes);
    assertOnnxChecks([path]);
    const m = await OrtModel.load(bytes, { threads: 1 });
    try {
      const ops = m.optimizedOps;
      assert.deepEqual([ops.QLinearConv, ops.QLinearAdd, ops.QLinearGlobalAveragePool, ops.QGemm], [7, 2, 1, 1], JSON.stringify(ops));
      assert.equal(ops.QuantizeLinear, 1, 'the input is quantized once; everything after stays in 8 bits');
      for (const op of ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'Add', 'DequantizeLinear']) assert.equal(ops[op], undefined, `${op} left in float: ${JSON.stringify(ops)}`);
    } finally {
      await m.release();
    }
  });

  it('mobilenet-v2: ReLU6 (Clip from 0) folds into the ranges, depthwise convolutions fuse too', async () => {
    manualSeed(4);
    const model = models.mobilenetV2({ numClasses: 5, widthMult: 0.25 });
    randomizeNorms(model);
    const { bytes, summary } = await quantized(model, [3, 32, 32]);
    assert.equal(summary.removedActivations, 35);
    const m = await OrtModel.load(bytes, { threads: 1 });
    try {
      const ops = m.optimizedOps;
      assert.equal(ops.QLinearConv, 52, JSON.stringify(ops));
      for (const op of ['Conv', 'FusedConv', 'Clip', 'Gemm', 'FusedGemm']) assert.equal(ops[op], undefined, `${op} left in float: ${JSON.stringify(ops)}`);
    } finally {
      await m.release();
    }
  });

  it('the range arithmetic: 0 always representable, empty ranges, rounding half to even, percentile cuts', () => {
    assert.deepEqual(scaleZeroPoint({ min: 0, max: 0 }, { min: 0, max: 255 }, false), { scale: 1, zeroPoint: 0 });
    // [−2, −1] widens to [−2, 0]: scale 2/255, and 0 is the top code
    assert.deepEqual(scaleZeroPoint({ min: -2, max: -1 }, { min: 0, max: 255 }, false), { scale: Math.fround(2 / 255), zeroPoint: 255 });
    // [−1, 3]: scale 4/255, zero point round(255/4) = round(63.75) = 64
    assert.deepEqual(scaleZeroPoint({ min: -1, max: 3 }, { min: 0, max: 255 }, false), { scale: Math.fround(4 / 255), zeroPoint: 64 });
    assert.deepEqual(scaleZeroPoint({ min: -0.5, max: 2.54 }, { min: -127, max: 127 }, true), { scale: Math.fround(2.54 / 127), zeroPoint: 0 });
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -3]);
    // 1000 values: 1 at −10, 998 spread evenly over [0, 1), 1 at 10; cutting 0.2 % each side drops the two outliers
    const h = new Float64Array(2000);
    h[0] = 1;
    h[1999] = 1;
    for (let i = 0; i < 998; i++) h[1000 + Math.floor((i / 998) * 100)]! += 1;
    const r = percentileRange(h, { min: -10, max: 10 }, 99.6);
    assert.ok(r.min >= -0.01 && r.min <= 0.01 && r.max > 0.9 && r.max < 1.01, JSON.stringify(r));
  });

  it('a bias too large for int32 at its channel scale raises that weight scale, as ORT does', () => {
    const { values, scales, weightScales } = quantizeBias(Float32Array.of(1, 5), 0.01, Float32Array.of(1e-12, 0.02));
    assert.ok(weightScales[0]! > 1e-12 && Math.abs(values[0]!) <= 2 ** 31 - 1, `scale ${weightScales[0]}, code ${values[0]}`);
    assert.equal(weightScales[1], Math.fround(0.02));
    assert.equal(values[1], Math.round(5 / Math.fround(0.01 * Math.fround(0.02))));
    assert.ok(Math.abs(values[0]! * scales[0]! - 1) < 1e-6);
  });
});
