// Rows: the edges of the binding rather than of the math: 0-d and empty tensors, non-contiguous
// inputs, how JS scalars become LibTorch Scalars, second-order gradients, and bad calls that must
// raise typed errors (never crash, never return garbage).
import * as T from '../../../src/index.js';
import { FLOAT, FLOAT_LONG, F32, constant, idx, inp, row, values, type OpRow } from '../spec.js';


export const EDGE_ROWS: OpRow[] = [
  // ---- 0-d and empty tensors ----
  row({ name: 'edge: 0-d plus vector', covers: ['add$Tensor'], inputs: { a: inp([]), b: inp([3]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.add(a, b), py: 'a + b', grad: true }),
  row({ name: 'edge: 0-d reductions', covers: ['sum', 'amax', 'softmax$int'], inputs: { a: inp([]) }, dtypes: FLOAT, ts: ({ a }) => [T.sum(a), T.amax(a), T.softmax(a, 0)], py: '[torch.sum(a), torch.amax(a), torch.softmax(a, 0)]', grad: true }),
  row({ name: 'edge: empty sum and mean', covers: ['sum$dim_IntList', 'mean$dim'], inputs: { a: inp([0, 3]) }, dtypes: FLOAT, ts: ({ a }) => [T.sum(a, 0), T.mean(a, [0])], py: '[torch.sum(a, 0), torch.mean(a, [0])]' }),
  row({ name: 'edge: cat with empty', covers: ['cat'], inputs: { a: inp([0, 3]), b: inp([2, 3]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.cat([a, b]), py: 'torch.cat([a, b])', grad: true }),
  row({ name: 'edge: mm with empty inner dim', covers: ['mm'], inputs: { a: inp([2, 0]), b: inp([0, 3]) }, dtypes: FLOAT, ts: ({ a, b }) => T.mm(a, b), py: 'torch.mm(a, b)' }),
  row({ name: 'edge: softmax of empty', covers: ['softmax$int'], inputs: { a: inp([0, 3]) }, dtypes: FLOAT, ts: ({ a }) => T.softmax(a, 1), py: 'torch.softmax(a, 1)' }),
  row({ name: 'edge: reshape empty', covers: ['reshape'], inputs: { a: inp([0, 3]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.reshape(a, [5, 0, 2]), py: 'a.reshape([5, 0, 2])' }),

  // ---- non-contiguous inputs ----
  row({ name: 'edge: transposed operand', covers: ['add$Tensor', 'mm'], inputs: { a: inp([4, 3]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => [T.add(a.t(), b), T.mm(a.t(), b.t())], py: '[a.t() + b, torch.mm(a.t(), b.t())]', grad: true }),
  row({ name: 'edge: expanded operand', covers: ['sum$dim_IntList', 'mul$Tensor'], inputs: { a: inp([3, 1]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => [T.sum(a.expand(3, 4), [1]), T.mul(a.expand(3, 4), b)], py: '[torch.sum(a.expand(3, 4), [1]), a.expand(3, 4) * b]', grad: true }),
  row({ name: 'edge: strided slice operand', covers: ['exp', 'index_select'], inputs: { a: inp([4, 6]), i: idx([3], 3) }, dtypes: FLOAT, ts: ({ a, i }) => { const s = T.slice(a, 1, 0, 6, 2); return [T.exp(s), T.indexSelect(s, 1, i)]; }, py: '[torch.exp(a[:, ::2]), torch.index_select(a[:, ::2], 1, i)]', grad: true }),
  row({ name: 'edge: channels_last conv2d', covers: ['conv2d'], inputs: { x: inp([2, 3, 5, 5]), w: inp([4, 3, 3, 3]) }, dtypes: FLOAT, ts: ({ x, w }) => T.conv2d(x.contiguous('channelsLast'), w, { padding: 1 }), py: 'F.conv2d(x.contiguous(memory_format=torch.channels_last), w, padding=1)', grad: true }),
  row({ name: 'edge: in-place through a view', covers: ['add_$Scalar', 'select$int'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => { const c = a.clone(); T.select(c, 1, 2).add_(10); return c; }, py: '(lambda c: (c.select(1, 2).add_(10), c)[1])(a.clone())', grad: true }),

  // ---- in-place ops hand back the very tensor they changed; memory formats and copies ----
  row({
    name: 'edge: in-place ops return self',
    covers: ['add_$Scalar', 'mul_$Tensor', 'clamp_', 'squeeze_$dim', 'unsqueeze_', 'copy_', 'fill_$Scalar', 'zero_', 'masked_fill_$Scalar', 'index_put_', 'uniform_', 'detach_', 'requires_grad_'],
    inputs: { a: inp([3, 1]), m: { shape: [3, 1], dtype: 'bool', grad: false }, i: idx([1], 3) },
    dtypes: F32,
    ts: ({ a, m, i }) => {
      const c = a.clone();
      const same = (r: unknown) => r === c;
      return [same(c.add_(1)), same(c.mul_(a)), same(T.clamp_(c, -1, 1)), same(c.squeeze_(1)), same(c.unsqueeze_(1)), same(c.copy_(a)), same(c.fill_(2)), same(c.zero_()),
        same(c.maskedFill_(m, 3)), same(c.indexPut_([i], a.select(0, 0))), same(c.uniform_()), same(c.detach_()), same(T.requiresGrad_(c))];
    },
    py: '(lambda c: [c.add_(1) is c, c.mul_(a) is c, c.clamp_(-1, 1) is c, c.squeeze_(1) is c, c.unsqueeze_(1) is c, c.copy_(a) is c, c.fill_(2) is c, c.zero_() is c, c.masked_fill_(m, 3) is c, c.index_put_((i,), a[0]) is c, c.uniform_() is c, c.detach_() is c, c.requires_grad_() is c])(a.clone())',
  }),
  row({ name: 'edge: to with memory format', covers: ['to$dtype', 'clone'], inputs: { a: inp([2, 3, 2, 2]) }, dtypes: F32, ts: ({ a }) => { const b = a.to({ dtype: 'float64', memoryFormat: 'channelsLast' }); const c = a.clone({ memoryFormat: 'channelsLast' }); return [b, b.strides(), c, c.strides()]; }, py: '(lambda b, c: [b, list(b.stride()), c, list(c.stride())])(a.to(torch.float64, memory_format=torch.channels_last), a.clone(memory_format=torch.channels_last))', grad: true }),
  row({ name: 'edge: to copies only when asked', covers: ['to$device', 'to$other'], inputs: { a: inp([3]), b: inp([1]) }, dtypes: F32, ts: ({ a, b }) => { const same = T.to(a, 'cpu', 'float32'); const copy = T.to(a, 'cpu', 'float32', false, true); const other = T.to(a, b, { copy: true }); copy.add_(1); other.mul_(2); same.sub_(5); return [a, copy, other]; }, py: '(lambda same, copy, other: (copy.add_(1), other.mul_(2), same.sub_(5), [a, copy, other])[3])(a.to("cpu", torch.float32), a.to("cpu", torch.float32, False, True), a.to(b, copy=True))' }),

  // ---- JS values as LibTorch Scalars ----
  row({ name: 'edge: bigint Scalar keeps int64 exact', covers: ['add$Scalar', 'full'], inputs: { a: inp([3]) }, dtypes: ['int64'], ts: ({ a }) => [T.add(a, 2n ** 60n), T.full([2], -(2n ** 62n) - 3n)], py: '[a + 2**60, torch.full([2], -(2**62) - 3)]' }),
  row({ name: 'edge: boolean Scalar', covers: ['add$Scalar', 'mul$Scalar'], inputs: { a: inp([3]) }, dtypes: [...FLOAT_LONG, 'bool'], ts: ({ a }) => [T.add(a, true), T.mul(a, false)], py: '[a + True, a * False]' }),
  row({ name: 'edge: integral number Scalar on integer tensor', covers: ['mul$Scalar', 'div$Scalar'], inputs: { a: inp([4]) }, dtypes: ['int64', 'int32', 'uint8'], ts: ({ a }) => [a.mul(3), a.div(2), a.mul(2.5)], py: '[a * 3, a / 2, a * 2.5]' }),
  row({ name: 'edge: non-finite Scalars', covers: ['add$Scalar', 'full', 'clamp'], inputs: { a: inp([4]) }, dtypes: FLOAT, ts: ({ a }, dtype) => [T.add(a, Infinity), T.full([2], NaN, { dtype }), T.clamp(a, -Infinity, 0)], py: "[a + math.inf, torch.full([2], math.nan, dtype=dtype), torch.clamp(a, -math.inf, 0)]" }),
  row({ name: 'edge: negative zero Scalar', covers: ['full', 'reciprocal'], dtypes: FLOAT, ts: (_, dtype) => T.reciprocal(T.full([2], -0, { dtype })), py: 'torch.reciprocal(torch.full([2], -0.0, dtype=dtype))' }),
  row({ name: 'edge: integral number beyond 2^53 as Scalar', covers: ['add$Scalar'], inputs: { a: inp([3], values([1, 2, 3])) }, dtypes: ['int64'], ts: ({ a }) => T.add(a, 2 ** 60), py: 'a + 2**60' }),

  // ---- second-order gradients ----
  row({
    name: 'edge: double backward',
    covers: ['pow$Tensor_Scalar', 'tanh'],
    inputs: { a: inp([3, 2]) },
    dtypes: FLOAT,
    ts: ({ a }) => {
      const x = a.clone().requiresGrad_();
      const [g] = T.autograd.grad(T.tanh(x).pow(3).sum(), x, { createGraph: true });
      if (!g) throw new Error('no first-order gradient');
      return T.autograd.grad(g.sum(), x)[0];
    },
    py: '(lambda x: torch.autograd.grad(torch.autograd.grad(torch.tanh(x).pow(3).sum(), x, create_graph=True)[0].sum(), x)[0])(a.clone().requires_grad_())',
  }),

  row({
    name: 'edge: grad with grad_outputs, backward accumulation',
    covers: ['mul$Tensor', 'sin'],
    inputs: { a: inp([2, 3]), w: constant([2, 3]) },
    dtypes: FLOAT,
    ts: ({ a, w }) => {
      const x = a.clone().requiresGrad_();
      const y = T.sin(x).mul(x);
      const [g] = T.autograd.grad(y, x, { gradOutputs: [w], retainGraph: true });
      y.backward(w, { retainGraph: true });
      y.backward(w);
      return [g, x.grad];
    },
    py: '(lambda x: (lambda y: (torch.autograd.grad(y, x, grad_outputs=w, retain_graph=True)[0], y.backward(w, retain_graph=True), y.backward(w), x.grad))(torch.sin(x) * x))(a.clone().requires_grad_())[0::3]',
  }),

  // ---- bad calls raise typed errors on both sides ----
  row({ name: 'error: broadcast mismatch', covers: ['add$Tensor'], inputs: { a: inp([2, 3]), b: inp([4]) }, dtypes: F32, throws: /^TorchError: add\.Tensor: The size of tensor a \(3\) must match the size of tensor b \(4\)/, ts: ({ a, b }) => T.add(a, b), py: 'a + b' }),
  row({ name: 'error: matmul shapes', covers: ['mm'], inputs: { a: inp([2, 3]), b: inp([2, 3]) }, dtypes: F32, throws: /^TorchError: mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/, ts: ({ a, b }) => T.mm(a, b), py: 'torch.mm(a, b)' }),
  row({ name: 'error: index out of range', covers: ['index_select'], inputs: { a: inp([3, 2]), i: idx([1], 1, values([3])) }, dtypes: F32, throws: /^TorchIndexError: index_select: index out of range/, ts: ({ a, i }) => T.indexSelect(a, 0, i), py: 'torch.index_select(a, 0, i)' }),
  row({ name: 'error: target out of bounds', covers: ['cross_entropy_loss'], inputs: { x: inp([2, 3]), t: idx([2], 1, values([0, 7])) }, dtypes: F32, throws: /^TorchIndexError: cross_entropy_loss: Target 7 is out of bounds/, ts: ({ x, t }) => T.crossEntropyLoss(x, t), py: 'F.cross_entropy(x, t)' }),
  row({ name: 'error: view of non-contiguous', covers: ['view'], inputs: { a: inp([2, 3]) }, dtypes: F32, throws: /^TorchError: view: view size is not compatible/, ts: ({ a }) => a.t().view([6]), py: 'a.t().view([6])' }),
  row({ name: 'error: conv2d channel mismatch', covers: ['conv2d'], inputs: { x: inp([1, 2, 4, 4]), w: inp([3, 5, 3, 3]) }, dtypes: F32, throws: /^TorchError: conv2d: .*expected input\[1, 2, 4, 4\] to have 5 channels/, ts: ({ x, w }) => T.conv2d(x, w), py: 'F.conv2d(x, w)' }),
  row({ name: 'error: empty cat', covers: ['cat'], dtypes: F32, throws: /^TorchError: cat: torch\.cat\(\): expected a non-empty list of Tensors/, ts: () => T.cat([]), py: 'torch.cat([])' }),
  row({ name: 'error: non-integer int argument', covers: ['narrow'], inputs: { a: inp([4]) }, dtypes: F32, throws: /^TorchValueError: narrow: argument 'start' must be an integer/, ts: ({ a }) => T.narrow(a, 0, 0.5, 2), py: 'a.narrow(0, 0.5, 2)' }),
  row({ name: 'error: integer overflow in fill value', covers: ['full'], dtypes: F32, throws: /^TorchError: full: value cannot be converted to type uint8_t without overflow/, ts: () => T.full([1], 256, { dtype: 'uint8' }), py: 'torch.full([1], 256, dtype=torch.uint8)' }),
  row({ name: 'error: in-place on a leaf that requires grad', covers: ['add_$Scalar'], inputs: { a: inp([3]) }, dtypes: F32, throws: /^TorchError: add_\.Scalar: a leaf Variable that requires grad is being used in an in-place operation/, ts: ({ a }) => a.clone().requiresGrad_().add_(1), py: 'a.clone().requires_grad_().add_(1)' }),
  row({ name: 'error: disposed tensor', covers: ['neg'], inputs: { a: inp([3]) }, dtypes: F32, throws: /^DisposedTensorError: neg: argument 'self' is a disposed tensor/, ts: ({ a }) => { const c = a.clone(); c.dispose(); return T.neg(c); }, py: 'torch.neg(None)' }),
];
