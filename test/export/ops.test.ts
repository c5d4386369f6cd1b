// The mapping table as a conformance harness: one or more rows per mapped LibTorch entry point, each
// a small forward that reaches it (checked: the entry point is called during the trace). Every row
// is exported at batch 2, at the lowest and the highest opset, and run in ONNX Runtime at batch 1
// and 7 against Tessera (rtol 1e-3, atol 1e-5); every file passes ONNX's checker; and no mapping is
// left without a row.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { manualSeed, nn, ops, randint, randn, setNumThreads, tensor, type Tensor } from '../../src/index.js';
import { exportOnnx, MAX_OPSET, MIN_OPSET } from '../../src/export/index.js';
import { MAPPINGS } from '../../src/export/ops/index.js';
import { native } from '../../src/tensor/native.js';
import { assertMatchesModel, assertOnnxChecks } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The op, a forward reaching it, the input at a batch size (default (B, 3, 4, 5)), the batch sizes compared (default 1 and 7). */
type Row = [op: string, forward: (x: Tensor) => unknown, input?: (batch: number) => Tensor, batches?: [number, number]];

manualSeed(20);
/** Constants the forwards use (weights, tables): made here, outside any trace (a draw inside one is refused). */
const k = {
  slopes: randn([3]), shift3: randn([3]), mean3: randn([3]), var3: randn([3]), bias2: randn([2]), bias4: randn([4]), v5: randn([5]),
  conv1d: randn([4, 3, 3]), conv1dEven: randn([4, 3, 4]), conv2d: randn([2, 3, 3, 3]), conv2dEven: randn([2, 3, 2, 2]), convT: randn([3, 2, 3, 3]),
  linear: randn([2, 5]), wide: randn([60, 2]), ln: randn([4, 5]), table: randn([10, 3]), expand: randn([3, 1, 5]), double: randn([1]).double(),
};
const pos = (x: Tensor) => x.abs().add(0.5);
const seq = (b: number) => randn([b, 20, 3]).transpose(1, 2).contiguous(); // (B, 3, 20)
const img8 = (b: number) => randn([b, 8, 3, 3]);
const ids = (b: number) => randint(0, 10, [b, 4]);
const lstm = new nn.LSTM(5, 4, { batchFirst: true });
const gru = new nn.GRU(5, 4, { numLayers: 2, batchFirst: true });
const rnnTanh = new nn.RNN(5, 4, { batchFirst: true, bidirectional: true });
const rnnRelu = new nn.RNN(5, 4, { batchFirst: true, nonlinearity: 'relu' });
const asFloat = (t: Tensor) => t.to('float32');

const ROWS: Row[] = [
  ['add$Tensor', (x) => x.add(x.mul(0.5), { alpha: 2 })],
  ['add$Scalar', (x) => ops.add(x, 3, 2)],
  ['add_$Tensor', (x) => x.mul(1).add_(x)],
  ['add_$Scalar', (x) => x.mul(1).add_(3)],
  ['sub$Tensor', (x) => x.sub(x.exp(), { alpha: 0.5 })],
  ['sub$Scalar', (x) => x.sub(1.5)],
  ['sub_$Tensor', (x) => x.mul(1).sub_(x.exp())],
  ['sub_$Scalar', (x) => x.mul(1).sub_(2)],
  ['rsub$Tensor', (x) => ops.rsub(x, x.exp(), { alpha: 2 })],
  ['rsub$Scalar', (x) => ops.rsub(x, 2)],
  ['mul$Tensor', (x) => x.mul(x)],
  ['mul$Scalar', (x) => x.mul(-3)],
  ['mul_$Tensor', (x) => x.mul(1).mul_(x)],
  ['mul_$Scalar', (x) => x.mul(1).mul_(2)],
  ['mul$Tensor', (x) => ops.mul(x.round(), tensor(2, { dtype: 'int64' }))], // int64 constant, float result: promotion
  ['div$Tensor', (x) => x.div(pos(x))],
  ['div$Scalar', (x) => x.div(4)],
  ['div$Tensor_mode', (x) => ops.div(x, pos(x), { roundingMode: null })],
  ['div$Scalar_mode', (x) => ops.div(x, 4, { roundingMode: null })],
  ['div_$Tensor', (x) => x.mul(1).div_(pos(x))],
  ['div_$Scalar', (x) => x.mul(1).div_(4)],
  ['div_$Tensor_mode', (x) => ops.div_(x.mul(1), pos(x), { roundingMode: null })],
  ['div_$Scalar_mode', (x) => ops.div_(x.mul(1), 4, { roundingMode: null })],
  ['pow$Tensor_Tensor', (x) => pos(x).pow(x.sigmoid())],
  ['pow$Tensor_Scalar', (x) => x.pow(3)],
  ['pow_$Scalar', (x) => x.mul(1).pow_(2)],
  ['maximum', (x) => x.maximum(x.neg())],
  ['minimum', (x) => ops.minimum(x, x.neg())],
  ['neg', (x) => x.neg()],
  ['neg_', (x) => x.mul(1).neg_()],
  ['abs', (x) => x.abs()],
  ['abs_', (x) => x.mul(1).abs_()],
  ['sign', (x) => x.sign()],
  ['reciprocal', (x) => pos(x).reciprocal()],
  ['sqrt', (x) => pos(x).sqrt()],
  ['sqrt_', (x) => pos(x).sqrt_()],
  ['rsqrt', (x) => pos(x).rsqrt()],
  ['square', (x) => x.square()],
  ['exp', (x) => x.exp()],
  ['exp_', (x) => x.mul(1).exp_()],
  ['log', (x) => pos(x).log()],
  ['log_', (x) => pos(x).log_()],
  ['log2', (x) => pos(x).log2()],
  ['log10', (x) => pos(x).log10()],
  ['log1p', (x) => pos(x).log1p()],
  ['expm1', (x) => x.expm1()],
  ['sin', (x) => x.sin()],
  ['cos', (x) => x.cos()],
  ['tanh', (x) => x.tanh()],
  ['tanh_', (x) => x.mul(1).tanh_()],
  ['sigmoid', (x) => x.sigmoid()],
  ['sigmoid_', (x) => x.mul(1).sigmoid_()],
  ['erf', (x) => x.erf()],
  ['floor', (x) => x.mul(3).floor()],
  ['ceil', (x) => x.mul(3).ceil()],
  ['round', (x) => x.mul(3).round()],
  ['clamp', (x) => x.clamp(-0.5, 0.8)],
  ['clamp', (x) => x.clamp({ min: 0.2 })],
  ['clamp_', (x) => x.mul(1).clamp_(-0.5, 0.8)],
  ['clamp_min', (x) => ops.clampMin(x, 0.1)],
  ['clamp_max', (x) => ops.clampMax(x, 0.1)],
  ['relu', (x) => x.relu()],
  ['relu_', (x) => x.mul(1).relu_()],
  ['relu6', (x) => ops.relu6(x.mul(5))],
  ['leaky_relu', (x) => ops.leakyRelu(x, 0.3)],
  ['leaky_relu_', (x) => ops.leakyRelu_(x.mul(1), 0.3)],
  ['elu', (x) => ops.elu(x, 0.7)],
  ['selu', (x) => ops.selu(x)],
  ['celu', (x) => ops.celu(x, 0.5)],
  ['gelu', (x) => ops.gelu(x)],
  ['gelu', (x) => ops.gelu(x, { approximate: 'tanh' })],
  ['silu', (x) => ops.silu(x)],
  ['silu_', (x) => ops.silu_(x.mul(1))],
  ['mish', (x) => ops.mish(x)],
  ['hardswish', (x) => ops.hardswish(x.mul(4))],
  ['hardsigmoid', (x) => ops.hardsigmoid(x.mul(4))],
  ['hardtanh', (x) => ops.hardtanh(x, -0.3, 0.4)],
  ['softplus', (x) => ops.softplus(x.mul(10), 1, 20)],
  ['softplus', (x) => ops.softplus(x.mul(10), 2, 5)],
  ['log_sigmoid', (x) => ops.logSigmoid(x.mul(30))],
  ['glu', (x) => ops.glu(x, 2)],
  ['prelu', (x) => ops.prelu(x, k.slopes)],
  ['softmax$int', (x) => x.softmax(2)],
  ['log_softmax$int', (x) => x.logSoftmax(-1)],
  ['where$self', (x) => ops.where(x.gt(0), x, x.exp())],
  ['where$ScalarSelf', (x) => ops.where(x.gt(0), 2, x)],
  ['where$ScalarOther', (x) => ops.where(x.gt(0), x, -1)],
  ['masked_fill$Scalar', (x) => x.maskedFill(x.lt(0), 0.5)],
  ['masked_fill_$Scalar', (x) => ops.maskedFill_(x.mul(1), x.lt(0), 0.5)],
  ['masked_fill$Tensor', (x) => x.maskedFill(x.lt(0), tensor(2.5))],
  ['masked_fill_$Tensor', (x) => ops.maskedFill_(x.mul(1), x.lt(0), tensor(2.5))],
  ['eq$Tensor', (x) => asFloat(x.round().eq(x.neg().round()))],
  ['eq$Scalar', (x) => asFloat(x.round().eq(0))],
  ['ne$Tensor', (x) => asFloat(x.round().ne(x.neg().round()))],
  ['ne$Scalar', (x) => asFloat(x.round().ne(0))],
  ['lt$Tensor', (x) => asFloat(x.lt(x.neg()))],
  ['lt$Scalar', (x) => asFloat(x.lt(0.3))],
  ['le$Tensor', (x) => asFloat(x.round().le(x.neg().round()))],
  ['le$Scalar', (x) => asFloat(x.round().le(0))],
  ['gt$Tensor', (x) => asFloat(x.gt(x.neg()))],
  ['gt$Scalar', (x) => asFloat(x.gt(0.3))],
  ['ge$Tensor', (x) => asFloat(x.round().ge(x.neg().round()))],
  ['ge$Scalar', (x) => asFloat(x.round().ge(0))],
  ['gt$Tensor', (x) => asFloat(x.round().to('int64').gt(x))], // int64 against float32: compared as floats
  ['logical_not', (x) => asFloat(ops.logicalNot(x.gt(0)))],
  ['logical_and', (x) => asFloat(ops.logicalAnd(x.gt(0), x.lt(0.5)))],
  ['logical_or', (x) => asFloat(ops.logicalOr(x.gt(0), x.lt(-0.5)))],
  ['logical_xor', (x) => asFloat(ops.logicalXor(x.gt(0), x.lt(0.5)))],

  ['conv1d', (x) => ops.conv1d(x, k.conv1d, k.bias4, 2, 1), seq],
  ['conv1d$padding', (x) => ops.conv1d(x, k.conv1dEven, null, 1, 'same', 2), seq],
  ['conv2d', (x) => ops.conv2d(x, k.conv2d, k.bias2, [1, 2], [1, 0])],
  ['conv2d$padding', (x) => ops.conv2d(x, k.conv2dEven, null, 1, 'same')],
  ['conv_transpose2d$input', (x) => ops.convTranspose2d(x, k.convT, k.bias2, 2, 1, 1)],
  ['linear', (x) => ops.linear(x, k.linear, k.bias2)],
  ['matmul', (x) => x.matmul(k.linear.t())],
  ['mm', (x) => ops.mm(x.flatten(1), k.wide)],
  ['bmm', (x) => ops.bmm(x.flatten(0, 1), x.flatten(0, 1).transpose(1, 2))],
  ['addmm', (x) => ops.addmm(k.bias2, x.flatten(1), k.wide, { beta: 0.5, alpha: 2 })],
  ['einsum', (x) => ops.einsum('bchw,w->bch', [x, k.v5])],
  ['batch_norm', (x) => ops.batchNorm(x, k.slopes, k.shift3, k.mean3, pos(k.var3), false, 0.1, 1e-5, true)],
  ['instance_norm', (x) => ops.instanceNorm(x, k.slopes, k.shift3, null, null, true, 0.1, 1e-5, true)],
  ['layer_norm', (x) => ops.layerNorm(x, [4, 5], k.ln, k.ln.neg(), 1e-5, true)],
  ['group_norm', (x) => ops.groupNorm(x, 3, k.slopes, k.shift3, 1e-5, true)],
  ['dropout', (x) => ops.dropout(x, 0.5, false)],
  ['feature_dropout', (x) => ops.featureDropout(x, 0.5, false)],
  ['alpha_dropout', (x) => ops.alphaDropout(x, 0.5, false)],
  ['max_pool1d', (x) => ops.maxPool1d(x, 3, 2, 1), seq],
  ['max_pool2d', (x) => ops.maxPool2d(x, 2)],
  ['max_pool2d_with_indices', (x) => ops.maxPool2dWithIndices(x, 2)[0]],
  ['avg_pool1d', (x) => ops.avgPool1d(x, 4, 2), seq],
  ['avg_pool2d', (x) => ops.avgPool2d(x, 2, 1, 1)],
  ['adaptive_avg_pool1d', (x) => ops.adaptiveAvgPool1d(x, 3), seq],
  ['adaptive_avg_pool2d', (x) => ops.adaptiveAvgPool2d(x, [2, 3])],
  ['adaptive_max_pool2d', (x) => ops.adaptiveMaxPool2d(x, [2, 1])[0]],
  ['embedding', (x) => ops.embedding(k.table, x), ids],
  ['upsample_nearest2d$vec', (x) => ops.upsampleNearest2d(x, [6, 7], null)],
  ['upsample_bilinear2d$vec', (x) => ops.upsampleBilinear2d(x, null, false, [2, 2])],
  ['pixel_shuffle', (x) => ops.pixelShuffle(x, 2), img8],

  ['view', (x) => x.view([x.size(0), -1])],
  ['reshape', (x) => x.reshape([-1, 12, 5])],
  ['unflatten$int', (x) => x.unflatten(3, [5, 1])],
  ['view_as', (x) => x.flatten(2).viewAs(x)],
  ['reshape_as', (x) => x.flatten(2).reshapeAs(x)],
  ['flatten$using_ints', (x) => x.flatten(1)],
  ['flatten$using_ints', (x) => x.flatten(2, 3)],
  ['flatten$using_ints', (x) => x.transpose(0, 3).flatten(0, 1).transpose(0, 2)], // the batch after the flattened axes
  ['unsqueeze', (x) => x.unsqueeze(1)],
  ['unsqueeze_', (x) => ops.unsqueeze_(x.mul(1), -1)],
  ['squeeze$dim', (x) => x.unsqueeze(2).squeeze(2)],
  ['squeeze_$dim', (x) => ops.squeeze_(x.unsqueeze(2), 2)],
  ['squeeze', (x) => x.unsqueeze(3).squeeze(), undefined, [3, 7]], // at batch 1, squeeze() would drop the batch axis too
  ['permute', (x) => x.permute([0, 3, 1, 2])],
  ['transpose$int', (x) => x.transpose(1, 3)],
  ['t', (x) => x.flatten(1).t().mul(2).t()],
  ['movedim$int', (x) => ops.movedim(x, 1, 3)],
  ['expand', (x) => x.unsqueeze(1).expand(-1, 2, -1, -1, -1)],
  ['expand_as', (x) => k.expand.expandAs(x).mul(x)],
  ['contiguous', (x) => x.transpose(1, 2).contiguous()],
  ['clone', (x) => x.clone()],
  ['detach', (x) => x.detach()],
  ['to$dtype', (x) => x.mul(3).to('int32').to('float32')],
  ['to$device', (x) => x.to({ device: 'cpu', dtype: 'float64' })],
  ['to$other', (x) => ops.to(x, k.double)],
  ['type_as', (x) => ops.typeAs(x, k.double)],
  ['cat', (x) => ops.cat([x, x.exp()], 1)],
  ['stack', (x) => ops.stack([x, x.neg()], 2)],
  ['split$Tensor', (x) => x.split(2, 3)],
  ['split_with_sizes', (x) => ops.splitWithSizes(x, [1, 2], 1)],
  ['chunk', (x) => x.chunk(2, 2)],
  ['unbind$int', (x) => ops.unbind(x, 1)],
  ['slice$Tensor', (x) => x.slice(3, 1, -1, 2)],
  ['slice$Tensor', (x) => x.slice(2, 1)],
  ['narrow', (x) => x.narrow(2, 1, 2)],
  ['select$int', (x) => x.select(1, -1)],
  ['index_select', (x) => ops.indexSelect(x, 3, tensor([4, 0, 2], { dtype: 'int64' }))],
  ['gather', (x) => ops.gather(x, 3, x.abs().argmax(3, true))],
  ['pad', (x) => ops.pad(x, [1, 2, 0, 1], 'reflect')],
  ['pad', (x) => ops.pad(x, [2, 2], 'replicate'), seq],
  ['pad', (x) => ops.pad(x, [1, 1, 1, 1], 'constant', 0.5)],
  ['constant_pad_nd', (x) => ops.constantPadNd(x, [2, 1], 0.5)],
  ['flip', (x) => x.flip([1, 3])],
  ['repeat', (x) => x.repeat([1, 2, 1, 2])],
  ['repeat', (x) => x.repeat([2, 1, 1, 1, 1])],
  ['tile', (x) => ops.tile(x, [2, 1])],
  ['zeros_like', (x) => ops.zerosLike(x).add(x)],
  ['ones_like', (x) => ops.onesLike(x).sub(x)],
  ['full_like', (x) => ops.fullLike(x, 2.5).mul(x)],

  ['mean$dim', (x) => x.mean([1, 3], true)],
  ['mean', (x) => x.mean().add(x)],
  ['sum$dim_IntList', (x) => x.sum([2])],
  ['sum', (x) => x.sum().mul(x)],
  ['amax', (x) => x.amax([1, 2])],
  ['amin', (x) => ops.amin(x, [3])],
  ['logsumexp', (x) => x.logsumexp([3])],
  ['argmax', (x) => asFloat(x.argmax(2))],
  ['argmax', (x) => asFloat(x.argmax().view([1]))], // over the flattened tensor
  ['argmin', (x) => asFloat(ops.argmin(x, 1, true))],
  ['max$dim', (x) => ops.max(x, 3).map((t, i) => (i === 1 ? asFloat(t) : t))],
  ['min$dim', (x) => ops.min(x, 1, true).map((t, i) => (i === 1 ? asFloat(t) : t))],
  ['cumsum', (x) => x.cumsum(3)],

  ['lstm$input', (x) => lstm.forward(x.flatten(1, 2))],
  ['lstm$input', (x) => { // an initial state computed from the input: sliced per layer, not left out
    const h = x.flatten(2).mean([2]).narrow(1, 0, 1).expand([-1, 4]).unsqueeze(0).contiguous(); // (1, B, 4)
    return lstm.forward(x.flatten(1, 2), [h, h.tanh()]);
  }],
  ['gru$input', (x) => gru.forward(x.flatten(1, 2))],
  ['rnn_tanh$input', (x) => rnnTanh.forward(x.flatten(1, 2))],
  ['rnn_relu$input', (x) => rnnRelu.forward(x.flatten(1, 2))],
];

/** A user's module: its forward is the row's function. */
class RowModule extends nn.Module {
  constructor(readonly body: (x: Tensor) => unknown) {
    super();
  }

  forward(x: Tensor): unknown {
    return this.body(x);
  }
}

/** Runs `f` while counting the calls of one native entry point. */
function counting<T>(op: string, f: () => T): [T, number] {
  const table = native as unknown as Record<string, (...a: unknown[]) => unknown>;
  const real = table[op] as (...a: unknown[]) => unknown;
  let calls = 0;
  table[op] = (...a: unknown[]) => {
    calls++;
    return real(...a);
  };
  try {
    return [f(), calls];
  } finally {
    table[op] = real;
  }
}

describe('ONNX mappings, op by op', () => {
  const written: string[] = [];

  it('every mapping has a row, and every row names a mapping', () => {
    const covered = new Set(ROWS.map(([op]) => op));
    assert.deepEqual(Object.keys(MAPPINGS).filter((op) => !covered.has(op)), [], 'mappings without a row');
    assert.deepEqual([...covered].filter((op) => !(op in MAPPINGS)), [], 'rows without a mapping');
  });

  ROWS.forEach(([op, body, input = (b: number) => randn([b, 3, 4, 5]), [b1, b2] = [1, 7]], i) => {
    it(`${op} (row ${i})`, async () => {
      const model = new RowModule(body);
      for (const opset of [MIN_OPSET, MAX_OPSET]) {
        manualSeed(100 + i);
        const [result, calls] = counting(op, () => exportOnnx(model, input(2), { opset }));
        assert.ok(calls > 0, `the row does not reach ${op}`);
        await assertMatchesModel(`${op} (row ${i}, opset ${opset})`, model, result.bytes, [[input(b1)], [input(b2)]]);
        const path = join(dir, `row-${i}-opset-${opset}.onnx`);
        writeFileSync(path, result.bytes);
        written.push(path);
      }
    });
  });

  it('every file passes the ONNX checker', () => {
    assert.equal(written.length, 2 * ROWS.length, 'every row was exported at both opsets');
    assertOnnxChecks(written);
  });
});
