// Elementwise ops: arithmetic (with PyTorch's `alpha` and type promotion, read off the real result's
// dtype), unary math and the activations. In-place variants (`relu_`, `add_$Tensor`) map like their
// functional twins: the tracer binds the result to the mutated tensor.
import { NATIVE_OP_NAMES } from '../../tensor/generated/native-names.js';
import { attr } from '../graph.js';
import { axis, num, type Mapping, type OpCall } from './call.js';

/** The result's dtype: PyTorch's promotion of the operands, which every input is cast to. */
const resultType = (c: OpCall) => c.results[0]!.dtype;

const castTo = (c: OpCall, name: string, from: Parameters<OpCall['cast']>[1]) => c.cast(name, from, resultType(c));

/** Argument `name` (a Tensor, or a Scalar in the `$Scalar` overloads) as a value of the result's dtype. */
function operand(c: OpCall, name: string): string {
  if (!c.typeOf(name).startsWith('Tensor')) return c.constant(resultType(c), [], [num(c.arg(name), 0)]);
  const x = c.input(name);
  return castTo(c, x.name, x.dtype);
}

/** `self` in the result's dtype (sqrt of an int tensor is a float one). */
const self = (c: OpCall) => operand(c, 'self');
const scalar = (c: OpCall, v: number) => c.constant(resultType(c), [], [v]);

/** `self ⊕ alpha·other` (add, sub) or `other − alpha·self` (rsub). */
function arithmetic(onnx: 'Add' | 'Sub', reverse = false): Mapping {
  return (c) => {
    let a = operand(c, 'self');
    let b = operand(c, 'other');
    if (reverse) [a, b] = [b, a];
    const alpha = num(c.arg('alpha'), 1);
    if (alpha !== 1) b = c.node('Mul', [b, scalar(c, alpha)]);
    return c.node(onnx, [a, b]);
  };
}

const binary = (onnx: string): Mapping => (c) => c.node(onnx, [operand(c, 'self'), operand(c, 'other')]);

const div: Mapping = (c) => {
  const mode = c.op.includes('mode') ? c.arg('rounding_mode') : null;
  if (mode !== null && mode !== undefined) c.fail(`division with rounding_mode '${String(mode)}' has no export yet`);
  return binary('Div')(c);
};

/** A one-input ONNX op on `self`, optionally with attributes. */
const unary = (onnx: string, attrs = {}): Mapping => (c) => c.node(onnx, [self(c)], attrs);

/** `f(x, x)`: ops that use their input twice (silu, square) read it once. */
const twice = (f: (c: OpCall, x: string) => string): Mapping => (c) => f(c, self(c));

/** Clip between optional bounds given as Scalars (clamp, hardtanh, relu6). */
function clip(c: OpCall, lo: number | null, hi: number | null): string {
  return c.node('Clip', [self(c), lo === null ? '' : scalar(c, lo), hi === null ? '' : scalar(c, hi)]);
}

const optionalNumber = (v: unknown): number | null => (v === undefined || v === null ? null : Number(v));

const gelu: Mapping = (c) => {
  const x = self(c);
  const half = c.node('Mul', [x, scalar(c, 0.5)]);
  if ((c.arg('approximate') ?? 'none') === 'tanh') {
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    const cube = c.node('Mul', [c.node('Mul', [x, x]), x]);
    const inner = c.node('Mul', [c.node('Add', [x, c.node('Mul', [cube, scalar(c, 0.044715)])]), scalar(c, Math.sqrt(2 / Math.PI))]);
    return c.node('Mul', [half, c.node('Add', [c.node('Tanh', [inner]), scalar(c, 1)])]);
  }
  // 0.5·x·(1 + erf(x/√2)): the Gelu op itself only arrives in opset 20.
  return c.node('Mul', [half, c.node('Add', [c.node('Erf', [c.node('Div', [x, scalar(c, Math.SQRT2)])]), scalar(c, 1)])]);
};

/** PyTorch's softplus: log(1 + e^(βx))/β, and x itself where βx > threshold (ONNX's Softplus has no threshold). */
const softplus: Mapping = (c) => {
  const x = self(c);
  const beta = num(c.arg('beta'), 1);
  const threshold = num(c.arg('threshold'), 20);
  const bx = beta === 1 ? x : c.node('Mul', [x, scalar(c, beta)]);
  const soft = beta === 1 ? c.node('Softplus', [bx]) : c.node('Div', [c.node('Softplus', [bx]), scalar(c, beta)]);
  return c.node('Where', [c.node('Greater', [bx, scalar(c, threshold)]), x, soft]);
};

/** log σ(x) = min(x, 0) − log(1 + e^−|x|): stable in both tails, where log(Sigmoid(x)) loses the small values. */
const logSigmoid: Mapping = (c) => {
  const x = self(c);
  const tail = c.node('Log', [c.node('Add', [c.node('Exp', [c.node('Neg', [c.node('Abs', [x])])]), scalar(c, 1)])]);
  return c.node('Sub', [c.node('Min', [x, scalar(c, 0)]), tail]);
};

const elu: Mapping = (c) => {
  if (num(c.arg('scale'), 1) !== 1 || num(c.arg('input_scale'), 1) !== 1) c.fail('elu with scale or input_scale other than 1 has no export');
  return c.node('Elu', [self(c)], { alpha: attr.float(num(c.arg('alpha'), 1)) });
};

const glu: Mapping = (c) => {
  const x = c.input('self');
  const d = axis(c.arg('dim'), x.shape.length, -1);
  const half = (x.shape[d] as number) / 2;
  const [a, b] = c.nodes('Split', [self(c), c.ints([half, half])], 2, { axis: attr.int(d) }) as [string, string];
  return c.node('Mul', [a, c.node('Sigmoid', [b])]);
};

/** PReLU's slope broadcast over the channel axis (1) of an (N, C, …) input, as PyTorch does. */
const prelu: Mapping = (c) => {
  const x = c.input('self');
  const w = c.valuesOf('weight');
  if (!w) return c.fail('a PReLU slope computed from the input has no export');
  const shape = w.shape[0] === 1 || x.shape.length < 3 ? [...w.shape] : [w.shape[0] as number, ...Array<number>(x.shape.length - 2).fill(1)];
  return c.node('PRelu', [self(c), c.constant(w.dtype, shape, [...w.values])]);
};

const softmax = (onnx: 'Softmax' | 'LogSoftmax'): Mapping => (c) => c.node(onnx, [self(c)], { axis: attr.int(axis(c.arg('dim'), c.input('self').shape.length, -1)) });

const where: Mapping = (c) => c.node('Where', [c.input('condition').name, operand(c, 'self'), operand(c, 'other')]);

/** Comparisons give bool; the operands meet in the floating type if either is one (PyTorch's promotion), else in self's. */
const compare = (onnx: 'Equal' | 'Less' | 'LessOrEqual' | 'Greater' | 'GreaterOrEqual', negate = false): Mapping => (c) => {
  const a = c.input('self');
  const tensor = c.typeOf('other').startsWith('Tensor');
  const b = tensor ? c.input('other') : null;
  const common = b && /float/.test(b.dtype) && !/float/.test(a.dtype) ? b.dtype : a.dtype;
  const other = b ? c.cast(b.name, b.dtype, common) : c.constant(common, [], [num(c.arg('other'), 0)]);
  const out = c.node(onnx, [c.cast(a.name, a.dtype, common), other]);
  return negate ? c.node('Not', [out]) : out;
};

const logical = (onnx: 'And' | 'Or' | 'Xor'): Mapping => (c) => c.node(onnx, [c.cast(c.input('self').name, c.input('self').dtype, 'bool'), c.cast(c.input('other').name, c.input('other').dtype, 'bool')]);

const maskedFill: Mapping = (c) => c.node('Where', [c.input('mask').name, operand(c, 'value'), self(c)]);

const NATIVE = new Set<string>(NATIVE_OP_NAMES);
/** The functional op and, where LibTorch has one, its in-place twin (`add$Tensor`, `add_$Tensor`). */
const both = (name: string, m: Mapping): Record<string, Mapping> => {
  const inPlace = name.replace(/^([a-z0-9_]+?)(\$|$)/, '$1_$2');
  return NATIVE.has(inPlace) ? { [name]: m, [inPlace]: m } : { [name]: m };
};

export const ELEMENTWISE: Readonly<Record<string, Mapping>> = {
  ...both('add$Tensor', arithmetic('Add')),
  ...both('add$Scalar', arithmetic('Add')),
  ...both('sub$Tensor', arithmetic('Sub')),
  ...both('sub$Scalar', arithmetic('Sub')),
  'rsub$Tensor': arithmetic('Sub', true),
  'rsub$Scalar': arithmetic('Sub', true),
  ...both('mul$Tensor', binary('Mul')),
  ...both('mul$Scalar', binary('Mul')),
  ...both('div$Tensor', div),
  ...both('div$Scalar', div),
  ...both('div$Tensor_mode', div),
  ...both('div$Scalar_mode', div),
  'pow$Tensor_Tensor': (c) => c.node('Pow', [operand(c, 'self'), operand(c, 'exponent')]),
  'pow$Tensor_Scalar': (c) => c.node('Pow', [self(c), operand(c, 'exponent')]),
  'pow_$Scalar': (c) => c.node('Pow', [self(c), operand(c, 'exponent')]),
  'maximum': binary('Max'),
  'minimum': binary('Min'),
  ...both('neg', unary('Neg')),
  ...both('abs', unary('Abs')),
  'sign': unary('Sign'),
  'reciprocal': unary('Reciprocal'),
  ...both('sqrt', unary('Sqrt')),
  'rsqrt': (c) => c.node('Reciprocal', [c.node('Sqrt', [self(c)])]),
  'square': twice((c, x) => c.node('Mul', [x, x])),
  ...both('exp', unary('Exp')),
  ...both('log', unary('Log')),
  'log2': (c) => c.node('Div', [c.node('Log', [self(c)]), scalar(c, Math.LN2)]),
  'log10': (c) => c.node('Div', [c.node('Log', [self(c)]), scalar(c, Math.LN10)]),
  'log1p': (c) => c.node('Log', [c.node('Add', [self(c), scalar(c, 1)])]),
  'expm1': (c) => c.node('Sub', [c.node('Exp', [self(c)]), scalar(c, 1)]),
  'sin': unary('Sin'),
  'cos': unary('Cos'),
  ...both('tanh', unary('Tanh')),
  ...both('sigmoid', unary('Sigmoid')),
  'erf': unary('Erf'),
  'floor': unary('Floor'),
  'ceil': unary('Ceil'),
  'round': unary('Round'),
  ...both('clamp', (c) => clip(c, optionalNumber(c.arg('min')), optionalNumber(c.arg('max')))),
  'clamp_min': (c) => clip(c, num(c.arg('min'), 0), null),
  'clamp_max': (c) => clip(c, null, num(c.arg('max'), 0)),
  ...both('relu', unary('Relu')),
  'relu6': (c) => clip(c, 0, 6),
  ...both('leaky_relu', (c) => c.node('LeakyRelu', [self(c)], { alpha: attr.float(num(c.arg('negative_slope'), 0.01)) })),
  'elu': elu,
  'selu': unary('Selu'),
  'celu': (c) => c.node('Celu', [self(c)], { alpha: attr.float(num(c.arg('alpha'), 1)) }),
  'gelu': gelu,
  ...both('silu', twice((c, x) => c.node('Mul', [x, c.node('Sigmoid', [x])]))),
  'mish': twice((c, x) => c.node('Mul', [x, c.node('Tanh', [c.node('Softplus', [x])])])),
  // HardSwish arrives in opset 14; before it, x·HardSigmoid(x) with PyTorch's 1/6 and 0.5.
  'hardswish': twice((c, x) => (c.opset >= 14 ? c.node('HardSwish', [x]) : c.node('Mul', [x, c.node('HardSigmoid', [x], { alpha: attr.float(1 / 6), beta: attr.float(0.5) })]))),
  'hardsigmoid': (c) => c.node('HardSigmoid', [self(c)], { alpha: attr.float(1 / 6), beta: attr.float(0.5) }),
  'hardtanh': (c) => clip(c, num(c.arg('min_val'), -1), num(c.arg('max_val'), 1)),
  'softplus': softplus,
  'log_sigmoid': logSigmoid,
  'glu': glu,
  'prelu': prelu,
  'softmax$int': softmax('Softmax'),
  'log_softmax$int': softmax('LogSoftmax'),
  'where$self': where,
  'where$ScalarSelf': where,
  'where$ScalarOther': where,
  'eq$Tensor': compare('Equal'),
  'eq$Scalar': compare('Equal'),
  'ne$Tensor': compare('Equal', true),
  'ne$Scalar': compare('Equal', true),
  'lt$Tensor': compare('Less'),
  'lt$Scalar': compare('Less'),
  'le$Tensor': compare('LessOrEqual'),
  'le$Scalar': compare('LessOrEqual'),
  'gt$Tensor': compare('Greater'),
  'gt$Scalar': compare('Greater'),
  'ge$Tensor': compare('GreaterOrEqual'),
  'ge$Scalar': compare('GreaterOrEqual'),
  'logical_not': (c) => c.node('Not', [c.cast(c.input('self').name, c.input('self').dtype, 'bool')]),
  'logical_and': logical('And'),
  'logical_or': logical('Or'),
  'logical_xor': logical('Xor'),
  ...both('masked_fill$Scalar', maskedFill),
  ...both('masked_fill$Tensor', maskedFill),
};
