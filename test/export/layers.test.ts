// Every nn layer that maps to ONNX, and a user's own modules built from functional ops: each is
// traced at batch 2, and ONNX Runtime's outputs equal Tessera's eval outputs (rtol 1e-3, atol 1e-5)
// at batch 1 and 7; every file passes ONNX's checker. Opset 13 (LayerNormalization spelled out)
// is checked the same way. Layer options are the non-default ones, where the mappings differ.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { manualSeed, models, nn, randint, randn, setNumThreads, type Tensor } from '../../src/index.js';
import { exportOnnx } from '../../src/export/index.js';
import { assertMatchesModel, assertOnnxChecks, randomizeNorms } from './helpers.js';
import { Custom, RnnHead } from './modules.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-layers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LayerCase {
  name: string;
  build: () => nn.Module;
  /** The example input at a batch size. */
  input: (batch: number) => Tensor;
  /** Default 0; 1 for sequence-first recurrent input. */
  batchAxis?: number;
  opset?: number;
}

const img = (c: number, h = 8, w = h) => (b: number) => randn([b, c, h, w]).mul(2);
const seq = (features: number, length = 5) => (b: number) => randn([b, length, features]);

const act = (name: string, m: () => nn.Module): LayerCase => ({ name, build: m, input: (b) => randn([b, 3, 4, 4]).mul(4) });

const CASES: LayerCase[] = [
  { name: 'Linear (2-D input: Gemm)', build: () => new nn.Linear(6, 4), input: (b) => randn([b, 6]) },
  { name: 'Linear without bias on (B, T, F) (MatMul)', build: () => new nn.Linear(6, 4, { bias: false }), input: seq(6) },
  { name: 'Linear on (B, T, F) with bias', build: () => new nn.Linear(6, 4), input: seq(6) },
  { name: 'Conv1d stride 2 padding 1', build: () => new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 }), input: (b) => randn([b, 3, 11]) },
  { name: "Conv1d padding 'same' dilation 2", build: () => new nn.Conv1d(3, 4, 4, { padding: 'same', dilation: 2 }), input: (b) => randn([b, 3, 11]) },
  { name: 'Conv2d groups 2 dilation 2 padding (1, 2) stride (2, 1)', build: () => new nn.Conv2d(4, 6, 3, { groups: 2, dilation: 2, padding: [1, 2], stride: [2, 1] }), input: img(4, 9) },
  { name: "Conv2d padding 'same' with an even kernel (asymmetric)", build: () => new nn.Conv2d(3, 4, 4, { padding: 'same', bias: false }), input: img(3, 7) },
  { name: "Conv2d padding 'valid'", build: () => new nn.Conv2d(3, 4, 3, { padding: 'valid' }), input: img(3, 7) },
  { name: 'ConvTranspose2d stride 2 padding 1 output padding 1 groups 2', build: () => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), input: img(4, 5) },
  { name: 'ConvTranspose2d dilation 2 no bias', build: () => new nn.ConvTranspose2d(3, 2, 3, { dilation: 2, bias: false }), input: img(3, 5) },
  { name: 'Conv2d then BatchNorm2d (folded)', build: () => new nn.Sequential(new nn.Conv2d(3, 5, 3), new nn.BatchNorm2d(5)), input: img(3) },
  { name: 'ConvTranspose2d groups 2 then BatchNorm2d (folded)', build: () => new nn.Sequential(new nn.ConvTranspose2d(4, 6, 3, { stride: 2, groups: 2 }), new nn.BatchNorm2d(6)), input: img(4, 5) },
  { name: 'BatchNorm2d after ReLU (BatchNormalization)', build: () => new nn.Sequential(new nn.ReLU(), new nn.BatchNorm2d(3)), input: img(3) },
  { name: 'BatchNorm2d without affine', build: () => new nn.BatchNorm2d(3, { affine: false }), input: img(3) },
  { name: 'BatchNorm1d on (B, C)', build: () => new nn.BatchNorm1d(6), input: (b) => randn([b, 6]) },
  { name: 'BatchNorm1d on (B, C, L)', build: () => new nn.BatchNorm1d(4), input: (b) => randn([b, 4, 9]) },
  { name: 'InstanceNorm2d', build: () => new nn.InstanceNorm2d(3), input: img(3) },
  { name: 'InstanceNorm2d affine', build: () => new nn.InstanceNorm2d(3, { affine: true }), input: img(3) },
  { name: 'InstanceNorm2d with running statistics', build: () => new nn.InstanceNorm2d(3, { trackRunningStats: true, affine: true }), input: img(3) },
  { name: 'LayerNorm over the last axis', build: () => new nn.LayerNorm(6), input: seq(6) },
  { name: 'LayerNorm over the last two axes, no affine', build: () => new nn.LayerNorm([4, 4], { elementwiseAffine: false }), input: img(3, 4) },
  { name: 'LayerNorm at opset 13 (spelled out)', build: () => new nn.LayerNorm([4, 4]), input: img(3, 4), opset: 13 },
  { name: 'GroupNorm', build: () => new nn.GroupNorm(2, 6), input: img(6, 5) },
  { name: 'GroupNorm without affine on (B, C, L)', build: () => new nn.GroupNorm(3, 6, { affine: false }), input: (b) => randn([b, 6, 7]) },
  { name: 'Dropout and Dropout2d (identity in eval)', build: () => new nn.Sequential(new nn.Dropout(0.5), new nn.Conv2d(3, 3, 1), new nn.Dropout2d(0.3)), input: img(3) },
  { name: 'MaxPool2d 3 stride 2 padding 1', build: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }), input: img(3, 9) },
  { name: 'MaxPool2d ceil mode, dilation 2', build: () => new nn.MaxPool2d(2, { ceilMode: true, dilation: 2 }), input: img(3, 9) },
  { name: 'AvgPool2d 3 stride 2 padding 1 without the padding in the count', build: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), input: img(3, 9) },
  { name: 'AvgPool2d 2 ceil mode', build: () => new nn.AvgPool2d(2, { ceilMode: true }), input: img(3, 9) },
  { name: 'AdaptiveAvgPool2d to 1 (GlobalAveragePool)', build: () => new nn.AdaptiveAvgPool2d(1), input: img(3, 7) },
  { name: 'AdaptiveAvgPool2d 8 → 2 (AveragePool)', build: () => new nn.AdaptiveAvgPool2d(2), input: img(3, 8) },
  { name: 'AdaptiveAvgPool2d 7×8 → 3×5 (averaging matrices)', build: () => new nn.AdaptiveAvgPool2d([3, 5]), input: img(3, 7, 8) },
  { name: 'AdaptiveMaxPool2d to 1 and 8 → 4', build: () => new nn.Sequential(new nn.AdaptiveMaxPool2d(4), new nn.AdaptiveMaxPool2d(1)), input: img(3, 8) },
  { name: 'Upsample nearest ×2', build: () => new nn.Upsample({ scaleFactor: 2 }), input: img(3, 4) },
  { name: 'Upsample nearest to 5×7', build: () => new nn.Upsample({ size: [5, 7] }), input: img(3, 3) },
  { name: 'Upsample bilinear ×2', build: () => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), input: img(3, 4) },
  { name: 'Upsample bilinear to 6×9, align corners', build: () => new nn.Upsample({ size: [6, 9], mode: 'bilinear', alignCorners: true }), input: img(3, 4) },
  { name: 'Embedding with a padding index', build: () => new nn.Embedding(10, 4, { paddingIdx: 0 }), input: (b) => randint(0, 10, [b, 6]) },
  { name: 'LSTM 2 layers, bidirectional, batch first', build: () => new nn.LSTM(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true }), input: seq(4) },
  { name: 'LSTM sequence first (batch axis 1)', build: () => new nn.LSTM(4, 3), input: (b) => randn([6, b, 4]), batchAxis: 1 },
  { name: 'LSTM without biases', build: () => new nn.LSTM(4, 3, { bias: false, batchFirst: true }), input: seq(4) },
  { name: 'GRU 2 layers, batch first', build: () => new nn.GRU(4, 5, { numLayers: 2, batchFirst: true }), input: seq(4) },
  { name: 'GRU bidirectional', build: () => new nn.GRU(4, 3, { bidirectional: true, batchFirst: true }), input: seq(4) },
  { name: 'RNN tanh', build: () => new nn.RNN(4, 3, { batchFirst: true }), input: seq(4) },
  { name: 'RNN relu, 2 layers, bidirectional', build: () => new nn.RNN(4, 3, { nonlinearity: 'relu', numLayers: 2, bidirectional: true, batchFirst: true }), input: seq(4) },
  { name: 'LSTM then a linear head on the last step', build: () => new RnnHead(), input: seq(4) },
  act('ReLU', () => new nn.ReLU()),
  act('ReLU6', () => new nn.ReLU6()),
  act('LeakyReLU', () => new nn.LeakyReLU(0.2)),
  act('ELU', () => new nn.ELU(0.5)),
  act('SELU', () => new nn.SELU()),
  act('CELU', () => new nn.CELU(0.7)),
  act('GELU', () => new nn.GELU()),
  act("GELU approximate 'tanh'", () => new nn.GELU('tanh')),
  act('SiLU', () => new nn.SiLU()),
  act('Mish', () => new nn.Mish()),
  act('Sigmoid', () => new nn.Sigmoid()),
  act('Tanh', () => new nn.Tanh()),
  act('Hardswish', () => new nn.Hardswish()),
  act('Hardsigmoid', () => new nn.Hardsigmoid()),
  act('Hardtanh', () => new nn.Hardtanh(-0.5, 0.7)),
  act('Softplus beta 2 threshold 5', () => new nn.Softplus(2, 5)),
  act('LogSigmoid', () => new nn.LogSigmoid()),
  act('Softsign', () => new nn.Softsign()),
  act('Tanhshrink', () => new nn.Tanhshrink()),
  act('PReLU per channel', () => new nn.PReLU(3, 0.1)),
  act('PReLU shared', () => new nn.PReLU()),
  { name: 'GLU', build: () => new nn.GLU(1), input: img(4, 3) },
  act('Softmax', () => new nn.Softmax(1)),
  act('LogSoftmax', () => new nn.LogSoftmax(-1)),
  { name: 'Flatten (1, 2) and Unflatten', build: () => new nn.Sequential(new nn.Flatten(1, 2), new nn.Unflatten(1, [2, 6])), input: img(3, 4, 5) },
  { name: 'Identity (the output is the input)', build: () => new nn.Identity(), input: img(2, 3) },
  { name: "a user's module of functional ops", build: () => new Custom(), input: img(4, 6) },
  { name: 'fashion-net at opset 13', build: () => models.fashionNet(), input: img(1, 28), opset: 13 },
];

describe('ONNX export of nn layers', () => {
  const written: string[] = [];

  CASES.forEach((c, i) => {
    it(c.name, async () => {
      manualSeed(10 + i);
      const model = c.build();
      try {
        randomizeNorms(model);
        const result = exportOnnx(model, c.input(2), { batchAxis: c.batchAxis ?? 0, opset: c.opset ?? 17 });
        if (c.name.endsWith('(folded)')) assert.equal(result.foldedBatchNorms, 1, 'the batch norm is folded into the convolution before it');
        await assertMatchesModel(c.name, model, result.bytes, [[c.input(1)], [c.input(7)]]);
        const path = join(dir, `layer-${i}.onnx`);
        writeFileSync(path, result.bytes);
        written.push(path);
      } finally {
        model.dispose();
      }
    });
  });

  it('every file passes the ONNX checker', () => {
    assert.equal(written.length, CASES.length, 'every case was exported');
    assertOnnxChecks(written);
  });
});
