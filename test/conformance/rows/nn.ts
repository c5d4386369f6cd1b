// Rows: convolution, pooling, normalization, pixel shuffles and embedding.
import * as T from '../../../src/index.js';
import { FLOAT, constant, distinct, idx, inp, positive, row, values, type OpRow } from '../spec.js';

const D = distinct(0.11);

export const NN_ROWS: OpRow[] = [
  // ---- convolution ----
  row({ name: 'conv1d', covers: ['conv1d'], inputs: { x: inp([2, 3, 7]), w: inp([4, 3, 3]), b: inp([4]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.conv1d(x, w, b, 2, 1), py: 'F.conv1d(x, w, b, 2, 1)', grad: true, gradcheck: true }),
  row({ name: 'conv1d options groups', covers: ['conv1d'], inputs: { x: inp([1, 4, 6]), w: inp([4, 2, 2]) }, dtypes: FLOAT, ts: ({ x, w }) => T.conv1d(x, w, { groups: 2, dilation: 2 }), py: 'F.conv1d(x, w, groups=2, dilation=2)', grad: true }),
  row({ name: 'conv1d padding same', covers: ['conv1d$padding'], inputs: { x: inp([2, 3, 7]), w: inp([4, 3, 3]), b: inp([4]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.conv1d(x, w, b, 1, 'same'), py: "F.conv1d(x, w, b, 1, 'same')", grad: true }),
  row({ name: 'conv2d', covers: ['conv2d'], inputs: { x: inp([2, 4, 5, 5]), w: inp([6, 2, 3, 3]), b: inp([6]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.conv2d(x, w, b, [2, 1], 1, 1, 2), py: 'F.conv2d(x, w, b, [2, 1], 1, 1, 2)', grad: true, gradcheck: true }),
  row({ name: 'conv2d options', covers: ['conv2d'], inputs: { x: inp([1, 2, 5, 4]), w: inp([3, 2, 3, 2]), b: inp([3]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.conv2d(x, w, { bias: b, padding: [1, 0], dilation: [1, 2] }), py: 'F.conv2d(x, w, b, padding=[1, 0], dilation=[1, 2])', grad: true }),
  row({ name: 'conv2d padding valid', covers: ['conv2d$padding'], inputs: { x: inp([1, 2, 5, 5]), w: inp([3, 2, 3, 3]) }, dtypes: FLOAT, ts: ({ x, w }) => T.conv2d(x, w, null, 1, 'valid'), py: "F.conv2d(x, w, None, 1, 'valid')", grad: true }),
  row({ name: 'conv2d padding same dilated', covers: ['conv2d$padding'], inputs: { x: inp([1, 2, 6, 6]), w: inp([2, 2, 3, 3]), b: inp([2]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.conv2d(x, w, b, { padding: 'same', dilation: 2 }), py: "F.conv2d(x, w, b, padding='same', dilation=2)", grad: true }),
  row({ name: 'conv_transpose2d', covers: ['conv_transpose2d$input'], inputs: { x: inp([1, 4, 3, 3]), w: inp([4, 3, 3, 3]), b: inp([3]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.convTranspose2d(x, w, b, 2, 1, 1), py: 'F.conv_transpose2d(x, w, b, 2, 1, 1)', grad: true, gradcheck: true }),
  row({ name: 'conv_transpose2d groups options', covers: ['conv_transpose2d$input'], inputs: { x: inp([1, 4, 3, 3]), w: inp([4, 1, 2, 2]) }, dtypes: FLOAT, ts: ({ x, w }) => T.convTranspose2d(x, w, { groups: 2, stride: [1, 2] }), py: 'F.conv_transpose2d(x, w, groups=2, stride=[1, 2])', grad: true }),

  // ---- pooling ----
  row({ name: 'max_pool1d', covers: ['max_pool1d'], inputs: { x: inp([2, 3, 8], D) }, dtypes: FLOAT, ts: ({ x }) => T.maxPool1d(x, 3, 2, 1), py: 'F.max_pool1d(x, 3, 2, 1)', grad: true, gradcheck: true }),
  row({ name: 'max_pool2d', covers: ['max_pool2d'], inputs: { x: inp([2, 3, 6, 6], D) }, dtypes: FLOAT, ts: ({ x }) => T.maxPool2d(x, 2), py: 'F.max_pool2d(x, 2)', grad: true, gradcheck: true }),
  row({ name: 'max_pool2d options', covers: ['max_pool2d'], inputs: { x: inp([1, 2, 5, 6], D) }, dtypes: FLOAT, ts: ({ x }) => T.maxPool2d(x, [3, 2], { stride: [2, 1], padding: 1, ceilMode: true }), py: 'F.max_pool2d(x, [3, 2], stride=[2, 1], padding=1, ceil_mode=True)', grad: true }),
  row({ name: 'max_pool2d_with_indices', covers: ['max_pool2d_with_indices'], inputs: { x: inp([2, 2, 4, 4], D) }, dtypes: FLOAT, ts: ({ x }) => T.maxPool2dWithIndices(x, 2, 2), py: 'F.max_pool2d(x, 2, 2, return_indices=True)', grad: true }),
  row({ name: 'avg_pool1d', covers: ['avg_pool1d'], inputs: { x: inp([2, 3, 8]) }, dtypes: FLOAT, ts: ({ x }) => T.avgPool1d(x, 3, 2, 1, false, false), py: 'F.avg_pool1d(x, 3, 2, 1, False, False)', grad: true, gradcheck: true }),
  row({ name: 'avg_pool2d', covers: ['avg_pool2d'], inputs: { x: inp([2, 3, 6, 6]) }, dtypes: FLOAT, ts: ({ x }) => T.avgPool2d(x, 2), py: 'F.avg_pool2d(x, 2)', grad: true, gradcheck: true }),
  row({ name: 'avg_pool2d divisor_override', covers: ['avg_pool2d'], inputs: { x: inp([1, 2, 5, 5]) }, dtypes: FLOAT, ts: ({ x }) => T.avgPool2d(x, 3, 2, 1, { divisorOverride: 2 }), py: 'F.avg_pool2d(x, 3, 2, 1, divisor_override=2)', grad: true }),
  row({ name: 'adaptive_avg_pool1d', covers: ['adaptive_avg_pool1d'], inputs: { x: inp([2, 3, 7]) }, dtypes: FLOAT, ts: ({ x }) => T.adaptiveAvgPool1d(x, 3), py: 'F.adaptive_avg_pool1d(x, 3)', grad: true }),
  row({ name: 'adaptive_avg_pool2d', covers: ['adaptive_avg_pool2d'], inputs: { x: inp([2, 3, 5, 7]) }, dtypes: FLOAT, ts: ({ x }) => T.adaptiveAvgPool2d(x, [3, 2]), py: 'F.adaptive_avg_pool2d(x, [3, 2])', grad: true, gradcheck: true }),
  row({ name: 'adaptive_avg_pool2d int', covers: ['adaptive_avg_pool2d'], inputs: { x: inp([1, 2, 4, 4]) }, dtypes: FLOAT, ts: ({ x }) => T.adaptiveAvgPool2d(x, 1), py: 'F.adaptive_avg_pool2d(x, 1)', grad: true }),
  row({ name: 'adaptive_max_pool2d', covers: ['adaptive_max_pool2d'], inputs: { x: inp([2, 2, 5, 5], D) }, dtypes: FLOAT, ts: ({ x }) => T.adaptiveMaxPool2d(x, [2, 3]), py: 'F.adaptive_max_pool2d(x, [2, 3], return_indices=True)', grad: true, gradcheck: true }),

  // ---- normalization ----
  row({
    name: 'batch_norm training',
    covers: ['batch_norm'],
    inputs: { x: inp([4, 3, 2, 2]), w: inp([3]), b: inp([3]), rm: constant([3]), rv: constant([3], positive()) },
    dtypes: FLOAT,
    ts: ({ x, w, b, rm, rv }) => [T.batchNorm(x, w, b, rm, rv, true, 0.1, 1e-5, false), rm, rv],
    py: '(torch.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, False), rm, rv)',
    grad: true,
    gradcheck: true,
  }),
  row({ name: 'batch_norm eval', covers: ['batch_norm'], inputs: { x: inp([4, 3, 5]), w: inp([3]), b: inp([3]), rm: constant([3]), rv: constant([3], positive()) }, dtypes: FLOAT, ts: ({ x, w, b, rm, rv }) => T.batchNorm(x, w, b, rm, rv, false, 0.1, 1e-5, false), py: 'torch.batch_norm(x, w, b, rm, rv, False, 0.1, 1e-5, False)', grad: true }),
  row({ name: 'batch_norm no affine no stats', covers: ['batch_norm'], inputs: { x: inp([5, 2]) }, dtypes: FLOAT, ts: ({ x }) => T.batchNorm(x, null, null, null, null, true, 0.1, 1e-3, false), py: 'torch.batch_norm(x, None, None, None, None, True, 0.1, 1e-3, False)', grad: true }),
  row({ name: 'layer_norm', covers: ['layer_norm'], inputs: { x: inp([2, 3, 4]), w: inp([4]), b: inp([4]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.layerNorm(x, [4], w, b, 1e-5), py: 'F.layer_norm(x, [4], w, b, 1e-5)', grad: true, gradcheck: true }),
  row({ name: 'layer_norm no affine', covers: ['layer_norm'], inputs: { x: inp([2, 3, 4]) }, dtypes: FLOAT, ts: ({ x }) => T.layerNorm(x, [3, 4], { eps: 1e-3 }), py: 'F.layer_norm(x, [3, 4], eps=1e-3)', grad: true }),
  row({ name: 'group_norm', covers: ['group_norm'], inputs: { x: inp([2, 6, 3]), w: inp([6]), b: inp([6]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.groupNorm(x, 3, w, b), py: 'F.group_norm(x, 3, w, b)', grad: true, gradcheck: true }),
  row({ name: 'instance_norm', covers: ['instance_norm'], inputs: { x: inp([2, 3, 5]), w: inp([3]), b: inp([3]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.instanceNorm(x, w, b, null, null, true, 0.1, 1e-5, false), py: 'torch.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False)', grad: true, gradcheck: true }),
  row({ name: 'instance_norm running stats', covers: ['instance_norm'], inputs: { x: inp([2, 3, 4]), rm: constant([3]), rv: constant([3], positive()) }, dtypes: FLOAT, ts: ({ x, rm, rv }) => [T.instanceNorm(x, null, null, rm, rv, true, 0.2, 1e-5, false), rm, rv], py: '(torch.instance_norm(x, None, None, rm, rv, True, 0.2, 1e-5, False), rm, rv)', grad: true }),
  row({ name: 'native_batch_norm', covers: ['native_batch_norm'], inputs: { x: inp([4, 3, 2]), w: inp([3]), b: inp([3]), rm: constant([3]), rv: constant([3], positive()) }, dtypes: FLOAT, ts: ({ x, w, b, rm, rv }) => [T.nativeBatchNorm(x, w, b, rm, rv, true, 0.1, 1e-5), rm, rv], py: '(torch.native_batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5), rm, rv)', grad: true }),

  // ---- pixel shuffles and embedding ----
  row({ name: 'pixel_shuffle', covers: ['pixel_shuffle'], inputs: { x: inp([1, 8, 2, 3]) }, dtypes: [...FLOAT, 'int64'], ts: ({ x }) => T.pixelShuffle(x, 2), py: 'F.pixel_shuffle(x, 2)', grad: true }),
  row({ name: 'pixel_unshuffle', covers: ['pixel_unshuffle'], inputs: { x: inp([1, 2, 4, 6]) }, dtypes: [...FLOAT, 'int64'], ts: ({ x }) => T.pixelUnshuffle(x, 2), py: 'F.pixel_unshuffle(x, 2)', grad: true }),
  row({ name: 'embedding', covers: ['embedding'], inputs: { w: inp([10, 3]), i: idx([2, 4], 10) }, dtypes: FLOAT, ts: ({ w, i }) => T.embedding(w, i), py: 'torch.embedding(w, i)', grad: true, gradcheck: true }),
  row({ name: 'embedding padding_idx', covers: ['embedding'], inputs: { w: inp([5, 3]), i: idx([6], 5, values([0, 2, 0, 4, 2, 1])) }, dtypes: FLOAT, ts: ({ w, i }) => T.embedding(w, i, { paddingIdx: 0, scaleGradByFreq: true }), py: 'torch.embedding(w, i, 0, True)', grad: true }),
];
