// Rows: activations, softmax, dropout and losses.
import * as T from '../../../src/index.js';
import type { Tensor } from '../../../src/index.js';
import type { NativeOpName } from '../../../src/tensor/generated/native-names.js';
import { FLOAT, awayFrom, constant, idx, inp, positive, row, uniform, values, type DTypeList, type Gen, type OpOutput, type OpRow } from '../spec.js';

/** An activation on a [3, 4] input kept away from its kinks. */
function act(name: string, covers: NativeOpName[], ts: (a: Tensor) => OpOutput, py: string, gen: Gen = awayFrom([0]), gradcheck = false, dtypes: DTypeList = FLOAT): OpRow {
  return row({ name, covers, inputs: { a: inp([3, 4], gen) }, dtypes, ts: ({ a }) => ts(a), py, grad: true, ...(gradcheck ? { gradcheck } : {}) });
}

const WIDE = awayFrom([-3, 0, 3, 6], 0.05, 4);

export const ACTIVATION_ROWS: OpRow[] = [
  act('relu', ['relu'], (a) => T.relu(a), 'torch.relu(a)', awayFrom([0]), true, [...FLOAT, 'bfloat16']),
  act('relu int', ['relu'], (a) => a.relu(), 'torch.relu(a)', undefined, false, ['int64']),
  act('relu_', ['relu_'], (a) => a.clone().relu_(), 'a.clone().relu_()'),
  act('relu6', ['relu6'], (a) => T.relu6(a), 'torch.ops.aten.relu6(a)', WIDE, true),
  act('leaky_relu', ['leaky_relu'], (a) => T.leakyRelu(a, 0.1), 'F.leaky_relu(a, 0.1)', awayFrom([0]), true),
  act('leaky_relu default', ['leaky_relu'], (a) => T.leakyRelu(a), 'F.leaky_relu(a)'),
  act('leaky_relu_', ['leaky_relu_'], (a) => T.leakyRelu_(a.clone(), { negativeSlope: 0.2 }), 'F.leaky_relu_(a.clone(), 0.2)'),
  act('elu', ['elu'], (a) => T.elu(a, 1.5, 1.2, 0.8), 'torch.ops.aten.elu(a, 1.5, 1.2, 0.8)', awayFrom([0]), true),
  act('elu default', ['elu'], (a) => T.elu(a), 'F.elu(a)'),
  act('selu', ['selu'], (a) => T.selu(a), 'torch.selu(a)', awayFrom([0]), true),
  act('celu', ['celu'], (a) => T.celu(a, 0.5), 'torch.celu(a, 0.5)', awayFrom([0]), true),
  act('gelu', ['gelu'], (a) => T.gelu(a), 'F.gelu(a)', undefined, true, [...FLOAT, 'bfloat16']),
  act('gelu tanh', ['gelu'], (a) => T.gelu(a, { approximate: 'tanh' }), "F.gelu(a, approximate='tanh')", undefined, true),
  act('silu', ['silu'], (a) => T.silu(a), 'F.silu(a)', undefined, true),
  act('silu_', ['silu_'], (a) => T.silu_(a.clone()), 'F.silu(a.clone(), inplace=True)'),
  act('mish', ['mish'], (a) => T.mish(a), 'F.mish(a)', undefined, true),
  act('hardswish', ['hardswish'], (a) => T.hardswish(a), 'F.hardswish(a)', WIDE, true),
  act('hardsigmoid', ['hardsigmoid'], (a) => T.hardsigmoid(a), 'F.hardsigmoid(a)', WIDE, true),
  act('hardtanh', ['hardtanh'], (a) => T.hardtanh(a, -0.5, 0.5), 'F.hardtanh(a, -0.5, 0.5)', awayFrom([-0.5, 0.5]), true),
  act('hardtanh default', ['hardtanh'], (a) => T.hardtanh(a), 'F.hardtanh(a)', awayFrom([-1, 1])),
  act('softplus', ['softplus'], (a) => T.softplus(a, 2, 5), 'F.softplus(a, 2, 5)', uniform(-4, 4), true),
  act('softplus options', ['softplus'], (a) => T.softplus(a, { threshold: 1 }), 'F.softplus(a, threshold=1)', uniform(-4, 4)),
  act('log_sigmoid', ['log_sigmoid'], (a) => T.logSigmoid(a), 'F.logsigmoid(a)', undefined, true),
  act('glu', ['glu'], (a) => T.glu(a), 'F.glu(a)', undefined, true),
  row({ name: 'glu dim0', covers: ['glu'], inputs: { a: inp([4, 3]) }, dtypes: FLOAT, ts: ({ a }) => T.glu(a, 0), py: 'F.glu(a, 0)', grad: true }),
  row({ name: 'prelu', covers: ['prelu'], inputs: { a: inp([2, 3, 4], awayFrom([0])), w: inp([3], uniform(0.05, 0.5)) }, dtypes: FLOAT, ts: ({ a, w }) => a.prelu(w), py: 'torch.prelu(a, w)', grad: true, gradcheck: true }),
  act('softmax', ['softmax$int'], (a) => T.softmax(a, 1), 'torch.softmax(a, 1)', undefined, true, [...FLOAT, 'bfloat16']),
  act('softmax dtype', ['softmax$int'], (a) => a.softmax(0, 'float64'), 'torch.softmax(a, 0, dtype=torch.float64)'),
  act('log_softmax', ['log_softmax$int'], (a) => T.logSoftmax(a, -1), 'torch.log_softmax(a, -1)', undefined, true),
  act('log_softmax dtype', ['log_softmax$int'], (a) => a.logSoftmax(0, { dtype: 'float64' }), 'torch.log_softmax(a, 0, dtype=torch.float64)'),

  // ---- dropout: LibTorch's CPU generator is PyTorch's, so equal seeds give equal masks ----
  row({ name: 'dropout train', covers: ['dropout'], inputs: { a: inp([4, 5]) }, dtypes: FLOAT, seed: 7, ts: ({ a }) => T.dropout(a, 0.5, true), py: 'torch.dropout(a, 0.5, True)', grad: true }),
  row({ name: 'dropout eval', covers: ['dropout'], inputs: { a: inp([4, 5]) }, dtypes: FLOAT, seed: 7, ts: ({ a }) => T.dropout(a, 0.5, false), py: 'torch.dropout(a, 0.5, False)', grad: true }),
  row({ name: 'feature_dropout', covers: ['feature_dropout'], inputs: { a: inp([2, 4, 3, 3]) }, dtypes: FLOAT, seed: 11, ts: ({ a }) => T.featureDropout(a, 0.5, true), py: 'torch.feature_dropout(a, 0.5, True)', grad: true }),
  row({ name: 'alpha_dropout', covers: ['alpha_dropout'], inputs: { a: inp([4, 5]) }, dtypes: FLOAT, seed: 13, ts: ({ a }) => T.alphaDropout(a, 0.3, true), py: 'torch.alpha_dropout(a, 0.3, True)', grad: true, tol: { rtol: 1e-6, atol: 1e-7 } }),

  // ---- losses ----
  row({ name: 'cross_entropy_loss', covers: ['cross_entropy_loss'], inputs: { x: inp([4, 5]), t: idx([4], 5) }, dtypes: FLOAT, ts: ({ x, t }) => T.crossEntropyLoss(x, t), py: 'F.cross_entropy(x, t)', grad: true, gradcheck: true }),
  row({ name: 'cross_entropy_loss weight sum smoothing', covers: ['cross_entropy_loss'], inputs: { x: inp([4, 5]), t: idx([4], 5), w: constant([5], positive()) }, dtypes: FLOAT, ts: ({ x, t, w }) => T.crossEntropyLoss(x, t, w, 'sum', -100, 0.1), py: "F.cross_entropy(x, t, w, reduction='sum', label_smoothing=0.1)", grad: true }),
  row({ name: 'cross_entropy_loss ignore_index none', covers: ['cross_entropy_loss'], inputs: { x: inp([5, 3]), t: idx([5], 3, values([0, 1, 2, 1, 1])) }, dtypes: FLOAT, ts: ({ x, t }) => T.crossEntropyLoss(x, t, { ignoreIndex: 1, reduction: 'none' }), py: "F.cross_entropy(x, t, ignore_index=1, reduction='none')", grad: true }),
  row({ name: 'cross_entropy_loss probabilities', covers: ['cross_entropy_loss'], inputs: { x: inp([3, 4]), p: inp([3, 4], positive()) }, dtypes: FLOAT, ts: ({ x, p }) => T.crossEntropyLoss(x, p.div(p.sum(1, true))), py: 'F.cross_entropy(x, p / p.sum(1, keepdim=True))', grad: true, gradcheck: true }),
  row({ name: 'cross_entropy_loss spatial', covers: ['cross_entropy_loss'], inputs: { x: inp([2, 3, 2, 2]), t: idx([2, 2, 2], 3) }, dtypes: FLOAT, ts: ({ x, t }) => T.crossEntropyLoss(x, t), py: 'F.cross_entropy(x, t)', grad: true }),
  row({ name: 'nll_loss', covers: ['nll_loss'], inputs: { x: inp([4, 5]), t: idx([4], 5), w: constant([5], positive()) }, dtypes: FLOAT, ts: ({ x, t, w }) => T.nllLoss(x, t, w), py: 'F.nll_loss(x, t, w)', grad: true, gradcheck: true }),
  row({ name: 'nll_loss sum ignore', covers: ['nll_loss'], inputs: { x: inp([4, 3]), t: idx([4], 3, values([0, 2, 2, 1])) }, dtypes: FLOAT, ts: ({ x, t }) => T.nllLoss(x, t, { reduction: 'sum', ignoreIndex: 2 }), py: "F.nll_loss(x, t, reduction='sum', ignore_index=2)", grad: true }),
  row({ name: 'nll_loss2d', covers: ['nll_loss2d'], inputs: { x: inp([2, 3, 2, 2]), t: idx([2, 2, 2], 3) }, dtypes: FLOAT, ts: ({ x, t }) => T.nllLoss2d(x, t), py: 'torch.ops.aten.nll_loss2d(x, t)', grad: true }),
  row({ name: 'nll_loss2d none', covers: ['nll_loss2d'], inputs: { x: inp([2, 3, 2, 2]), t: idx([2, 2, 2], 3) }, dtypes: FLOAT, ts: ({ x, t }) => T.nllLoss2d(x, t, null, 'none'), py: "F.nll_loss(x, t, reduction='none')", grad: true }),
  row({ name: 'mse_loss', covers: ['mse_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.mseLoss(a, b), py: 'F.mse_loss(a, b)', grad: true, gradcheck: true }),
  row({ name: 'mse_loss sum', covers: ['mse_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.mseLoss(a, b, 'sum'), py: "F.mse_loss(a, b, reduction='sum')", grad: true }),
  row({ name: 'l1_loss none', covers: ['l1_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.l1Loss(a, b, 'none'), py: "F.l1_loss(a, b, reduction='none')", grad: true, gradcheck: true }),
  row({ name: 'l1_loss', covers: ['l1_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.l1Loss(a, b), py: 'F.l1_loss(a, b)', grad: true }),
  row({ name: 'smooth_l1_loss', covers: ['smooth_l1_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.smoothL1Loss(a, b, 'mean', 0.5), py: "F.smooth_l1_loss(a, b, reduction='mean', beta=0.5)", grad: true, gradcheck: true }),
  row({ name: 'smooth_l1_loss default', covers: ['smooth_l1_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.smoothL1Loss(a, b), py: 'F.smooth_l1_loss(a, b)', grad: true }),
  row({ name: 'huber_loss', covers: ['huber_loss'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.huberLoss(a, b, { delta: 0.7 }), py: 'F.huber_loss(a, b, delta=0.7)', grad: true, gradcheck: true }),
  row({ name: 'binary_cross_entropy', covers: ['binary_cross_entropy'], inputs: { p: inp([3, 4], uniform(0.05, 0.95)), t: constant([3, 4], uniform(0, 1)), w: constant([4], positive()) }, dtypes: FLOAT, ts: ({ p, t, w }) => T.binaryCrossEntropy(p, t, w), py: 'F.binary_cross_entropy(p, t, w)', grad: true, gradcheck: true }),
  row({ name: 'binary_cross_entropy sum', covers: ['binary_cross_entropy'], inputs: { p: inp([5], uniform(0.05, 0.95)), t: constant([5], values([0, 1, 1, 0, 1])) }, dtypes: FLOAT, ts: ({ p, t }) => T.binaryCrossEntropy(p, t, { reduction: 'sum' }), py: "F.binary_cross_entropy(p, t, reduction='sum')", grad: true }),
  row({ name: 'binary_cross_entropy_with_logits', covers: ['binary_cross_entropy_with_logits'], inputs: { x: inp([3, 4]), t: inp([3, 4], uniform(0, 1)), pw: constant([4], positive()) }, dtypes: FLOAT, ts: ({ x, t, pw }) => T.binaryCrossEntropyWithLogits(x, t, null, pw), py: 'F.binary_cross_entropy_with_logits(x, t, pos_weight=pw)', grad: true, gradcheck: true }),
  row({ name: 'binary_cross_entropy_with_logits weight none', covers: ['binary_cross_entropy_with_logits'], inputs: { x: inp([3, 4]), t: inp([3, 4], uniform(0, 1)), w: constant([3, 1], positive()) }, dtypes: FLOAT, ts: ({ x, t, w }) => T.binaryCrossEntropyWithLogits(x, t, { weight: w, reduction: 'none' }), py: "F.binary_cross_entropy_with_logits(x, t, weight=w, reduction='none')", grad: true }),
  row({ name: 'kl_div sum', covers: ['kl_div'], inputs: { x: inp([3, 4], uniform(-3, -0.1)), t: inp([3, 4], uniform(0.05, 1)) }, dtypes: FLOAT, ts: ({ x, t }) => T.klDiv(x, t, 'sum'), py: "F.kl_div(x, t, reduction='sum')", grad: true, gradcheck: true }),
  row({ name: 'kl_div log_target', covers: ['kl_div'], inputs: { x: inp([3, 4], uniform(-3, -0.1)), t: inp([3, 4], uniform(-3, -0.1)) }, dtypes: FLOAT, ts: ({ x, t }) => T.klDiv(x, t, { reduction: 'mean', logTarget: true }), py: 'torch.kl_div(x, t, 1, log_target=True)', grad: true }),
  row({ name: 'margin_ranking_loss', covers: ['margin_ranking_loss'], inputs: { a: inp([6]), b: inp([6]), y: constant([6], values([1, -1, 1, 1, -1, -1])) }, dtypes: FLOAT, ts: ({ a, b, y }) => T.marginRankingLoss(a, b, y, 0.2), py: 'F.margin_ranking_loss(a, b, y, margin=0.2)', grad: true }),
  row({ name: 'margin_ranking_loss none', covers: ['margin_ranking_loss'], inputs: { a: inp([6]), b: inp([6]), y: constant([6], values([1, -1])) }, dtypes: FLOAT, ts: ({ a, b, y }) => T.marginRankingLoss(a, b, y, { reduction: 'none' }), py: "F.margin_ranking_loss(a, b, y, reduction='none')", grad: true }),
  row({ name: 'cosine_similarity', covers: ['cosine_similarity'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.cosineSimilarity(a, b), py: 'F.cosine_similarity(a, b)', grad: true, gradcheck: true }),
  row({ name: 'cosine_similarity dim eps', covers: ['cosine_similarity'], inputs: { a: inp([3, 4]), b: inp([1, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.cosineSimilarity(a, b, 0, 1e-6), py: 'F.cosine_similarity(a, b, 0, 1e-6)', grad: true }),
  row({ name: 'pairwise_distance', covers: ['pairwise_distance'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.pairwiseDistance(a, b), py: 'F.pairwise_distance(a, b)', grad: true, gradcheck: true }),
  row({ name: 'pairwise_distance p1 keepdim', covers: ['pairwise_distance'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.pairwiseDistance(a, b, { p: 1, keepdim: true }), py: 'F.pairwise_distance(a, b, p=1, keepdim=True)', grad: true }),
  row({ name: 'cdist', covers: ['cdist'], inputs: { a: inp([2, 3, 4]), b: inp([2, 5, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.cdist(a, b), py: 'torch.cdist(a, b)', grad: true, gradcheck: true }),
  row({ name: 'cdist p1', covers: ['cdist'], inputs: { a: inp([3, 4]), b: inp([2, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.cdist(a, b, 1), py: 'torch.cdist(a, b, 1)', grad: true }),
];
