// Rows: elementwise arithmetic and math.
import * as T from '../../../src/index.js';
import type { Tensor } from '../../../src/index.js';
import type { NativeOpName } from '../../../src/tensor/generated/native-names.js';
import {
  FLOAT, FLOAT_INT, FLOAT_LONG, awayFrom, inp, nonzero, positive, row, uniform, values,
  type DTypeList, type Gen, type OpOutput, type OpRow,
} from '../spec.js';

interface UnaryOptions {
  gen?: Gen;
  dtypes?: DTypeList;
  grad?: boolean;
  gradcheck?: boolean;
}

/** A one-input row on a [3, 4] tensor. */
function unary(name: string, covers: NativeOpName[], ts: (a: Tensor) => OpOutput, py: string, o: UnaryOptions = {}): OpRow {
  return row({
    name,
    covers,
    inputs: { a: inp([3, 4], o.gen) },
    dtypes: o.dtypes ?? FLOAT,
    ts: ({ a }) => ts(a),
    py,
    grad: o.grad ?? true,
    ...(o.gradcheck ? { gradcheck: true } : {}),
  });
}

const BF: DTypeList = ['float32', 'float64', 'bfloat16'];
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0.5, 2.5, 1e30, -3];

export const ELEMENTWISE_ROWS: OpRow[] = [
  // ---- add / sub / rsub / mul / div ----
  row({ name: 'add Tensor alpha', covers: ['add$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: [...FLOAT_INT, 'bfloat16', 'int8', 'uint8'], ts: ({ a, b }) => T.add(a, b, { alpha: 2 }), py: 'torch.add(a, b, alpha=2)', grad: true, gradcheck: true }),
  row({ name: 'add Tensor method', covers: ['add$Tensor'], inputs: { a: inp([2, 3]), b: inp([2, 1]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.add(b), py: 'a + b', grad: true }),
  row({ name: 'add Scalar', covers: ['add$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.add(a, 1.5, { alpha: 2 }), py: 'torch.add(a, 1.5, alpha=2)', grad: true }),
  row({ name: 'add Scalar positional alpha', covers: ['add$Scalar'], inputs: { a: inp([3]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.add(2, 3), py: 'torch.ops.aten.add.Scalar(a, 2, 3)' }),
  row({ name: 'add_ Tensor', covers: ['add_$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.clone().add_(b, { alpha: -1 }), py: 'a.clone().add_(b, alpha=-1)', grad: true }),
  row({ name: 'add_ Scalar', covers: ['add_$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.add_(a.clone(), 3), py: 'a.clone().add_(3)', grad: true }),
  row({ name: 'sub Tensor alpha', covers: ['sub$Tensor'], inputs: { a: inp([3, 4]), b: inp([3, 1]) }, dtypes: FLOAT_INT, ts: ({ a, b }) => T.sub(a, b, { alpha: 3 }), py: 'torch.sub(a, b, alpha=3)', grad: true }),
  row({ name: 'sub Scalar', covers: ['sub$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.sub(0.5), py: 'a - 0.5', grad: true }),
  row({ name: 'sub_ Tensor', covers: ['sub_$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.clone().sub_(b, { alpha: 2 }), py: 'a.clone().sub_(b, alpha=2)', grad: true }),
  row({ name: 'sub_ Scalar', covers: ['sub_$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.clone().sub_(2, { alpha: 2 }), py: 'a.clone().sub_(2, alpha=2)', grad: true }),
  row({ name: 'rsub Tensor', covers: ['rsub$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.rsub(a, b, { alpha: 2 }), py: 'torch.rsub(a, b, alpha=2)', grad: true }),
  row({ name: 'rsub Scalar', covers: ['rsub$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.rsub(a, 2), py: 'torch.rsub(a, 2)', grad: true }),
  row({ name: 'mul Tensor', covers: ['mul$Tensor'], inputs: { a: inp([2, 3, 4]), b: inp([3, 1]) }, dtypes: [...FLOAT_INT, 'bfloat16', 'uint8'], ts: ({ a, b }) => a.mul(b), py: 'a * b', grad: true, gradcheck: true }),
  row({ name: 'mul Tensor bool', covers: ['mul$Tensor'], inputs: { a: inp([6]), b: inp([6]) }, dtypes: ['bool'], ts: ({ a, b }) => T.mul(a, b), py: 'torch.mul(a, b)' }),
  row({ name: 'mul Scalar', covers: ['mul$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.mul(-2.5), py: 'torch.ops.aten.mul.Scalar(a, -2.5)', grad: true }),
  row({ name: 'mul_ Tensor', covers: ['mul_$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.clone().mul_(b), py: 'a.clone().mul_(b)', grad: true }),
  row({ name: 'mul_ Scalar', covers: ['mul_$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.clone().mul_(3), py: 'a.clone().mul_(3)', grad: true }),
  row({ name: 'div Tensor', covers: ['div$Tensor'], inputs: { a: inp([3, 4]), b: inp([4], nonzero()) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.div(b), py: 'a / b', grad: true, gradcheck: true }),
  row({ name: 'div Scalar', covers: ['div$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.div(a, 4), py: 'torch.div(a, 4)', grad: true }),
  row({ name: 'div Tensor floor', covers: ['div$Tensor_mode'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_INT, ts: ({ a, b }) => T.div(a, b, { roundingMode: 'floor' }), py: "torch.div(a, b, rounding_mode='floor')" }),
  row({ name: 'div Tensor trunc', covers: ['div$Tensor_mode'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.div(b, { roundingMode: 'trunc' }), py: "torch.div(a, b, rounding_mode='trunc')" }),
  row({ name: 'div Tensor mode null', covers: ['div$Tensor_mode'], inputs: { a: inp([3, 4]), b: inp([4], nonzero()) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.div(b, { roundingMode: null }), py: 'torch.div(a, b, rounding_mode=None)', grad: true }),
  row({ name: 'div Scalar trunc', covers: ['div$Scalar_mode'], inputs: { a: inp([3, 4], uniform(-9, 9)) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.div(a, 2.5, { roundingMode: 'trunc' }), py: "torch.div(a, 2.5, rounding_mode='trunc')" }),
  row({ name: 'div_ Tensor', covers: ['div_$Tensor'], inputs: { a: inp([3, 4]), b: inp([4], nonzero()) }, dtypes: FLOAT, ts: ({ a, b }) => a.clone().div_(b), py: 'a.clone().div_(b)', grad: true }),
  row({ name: 'div_ Scalar', covers: ['div_$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a }) => a.clone().div_(-3), py: 'a.clone().div_(-3)', grad: true }),
  row({ name: 'div_ Tensor floor', covers: ['div_$Tensor_mode'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.clone().div_(b, { roundingMode: 'floor' }), py: "a.clone().div_(b, rounding_mode='floor')" }),
  row({ name: 'div_ Scalar floor', covers: ['div_$Scalar_mode'], inputs: { a: inp([3, 4], uniform(-9, 9)) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.div_(a.clone(), 2, { roundingMode: 'floor' }), py: "a.clone().div_(2, rounding_mode='floor')" }),
  row({ name: 'floor_divide Tensor', covers: ['floor_divide'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_INT, ts: ({ a, b }) => T.floorDivide(a, b), py: 'torch.floor_divide(a, b)' }),
  row({ name: 'floor_divide Scalar', covers: ['floor_divide$Scalar'], inputs: { a: inp([3, 4], uniform(-9, 9)) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.floorDivide(3), py: 'torch.floor_divide(a, 3)' }),
  row({ name: 'remainder Tensor', covers: ['remainder$Tensor'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_INT, ts: ({ a, b }) => T.remainder(a, b), py: 'torch.remainder(a, b)', grad: true }),
  row({ name: 'remainder Scalar', covers: ['remainder$Scalar'], inputs: { a: inp([3, 4], uniform(-9, 9)) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.remainder(-4), py: 'torch.remainder(a, -4)', grad: true }),
  row({ name: 'fmod Tensor', covers: ['fmod$Tensor'], inputs: { a: inp([3, 4], uniform(-9, 9)), b: inp([4], nonzero(1, 4)) }, dtypes: FLOAT_INT, ts: ({ a, b }) => T.fmod(a, b), py: 'torch.fmod(a, b)', grad: true }),
  row({ name: 'fmod Scalar', covers: ['fmod$Scalar'], inputs: { a: inp([3, 4], uniform(-9, 9)) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.fmod(2.5), py: 'torch.fmod(a, 2.5)', grad: true }),

  // ---- pow ----
  row({ name: 'pow Tensor_Tensor', covers: ['pow$Tensor_Tensor'], inputs: { a: inp([3, 4], positive(0.5, 2)), b: inp([4], uniform(-2, 2)) }, dtypes: FLOAT, ts: ({ a, b }) => T.pow(a, b), py: 'torch.pow(a, b)', grad: true, gradcheck: true }),
  row({ name: 'pow Tensor_Tensor int', covers: ['pow$Tensor_Tensor'], inputs: { a: inp([3, 4], values([-3, -1, 0, 2, 5])), b: inp([4], values([0, 1, 2, 3])) }, dtypes: ['int64', 'int32'], ts: ({ a, b }) => a.pow(b), py: 'a ** b' }),
  row({ name: 'pow Tensor_Scalar', covers: ['pow$Tensor_Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.pow(a, 3), py: 'torch.pow(a, 3)', grad: true }),
  row({ name: 'pow Tensor_Scalar fractional', covers: ['pow$Tensor_Scalar'], inputs: { a: inp([3, 4], positive()) }, dtypes: FLOAT, ts: ({ a }) => a.pow(0.5), py: 'torch.pow(a, 0.5)', grad: true, gradcheck: true }),
  row({ name: 'pow Scalar', covers: ['pow$Scalar'], inputs: { b: inp([3, 4], uniform(-2, 2)) }, dtypes: FLOAT, ts: ({ b }) => T.pow(2, b), py: 'torch.pow(2, b)', grad: true, gradcheck: true }),
  row({ name: 'pow_ Tensor', covers: ['pow_$Tensor'], inputs: { a: inp([3, 4], positive()), b: inp([4], uniform(-2, 2)) }, dtypes: FLOAT, ts: ({ a, b }) => a.clone().pow_(b), py: 'a.clone().pow_(b)', grad: true }),
  row({ name: 'pow_ Scalar', covers: ['pow_$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.pow_(a.clone(), 2), py: 'a.clone().pow_(2)', grad: true }),

  // ---- unary math ----
  unary('neg', ['neg'], (a) => a.neg(), 'torch.neg(a)', { dtypes: [...FLOAT_INT, 'bfloat16', 'int8'] }),
  unary('neg_', ['neg_'], (a) => T.neg_(a.clone()), 'a.clone().neg_()', { dtypes: FLOAT_LONG }),
  unary('abs', ['abs'], (a) => T.abs(a), 'torch.abs(a)', { dtypes: [...FLOAT_INT, 'int8'], gen: nonzero(), gradcheck: true }),
  unary('abs_', ['abs_'], (a) => a.clone().abs_(), 'a.clone().abs_()', { dtypes: FLOAT_LONG, gen: nonzero() }),
  unary('sign', ['sign'], (a) => a.sign(), 'torch.sign(a)', { dtypes: [...FLOAT_LONG, 'bool'], gen: values([-2, 0, 1.5, -0.25, 3, 0]) }),
  unary('reciprocal', ['reciprocal'], (a) => T.reciprocal(a), 'torch.reciprocal(a)', { dtypes: FLOAT_LONG, gen: nonzero(), gradcheck: true }),
  unary('sqrt', ['sqrt'], (a) => T.sqrt(a), 'torch.sqrt(a)', { dtypes: [...FLOAT_LONG, 'bfloat16'], gen: positive(), gradcheck: true }),
  unary('sqrt negative', ['sqrt'], (a) => a.sqrt(), 'torch.sqrt(a)', { gen: values([-1, 4, 0, -0.0]), grad: false }),
  unary('sqrt_', ['sqrt_'], (a) => a.clone().sqrt_(), 'a.clone().sqrt_()', { gen: positive() }),
  unary('rsqrt', ['rsqrt'], (a) => a.rsqrt(), 'torch.rsqrt(a)', { dtypes: FLOAT_LONG, gen: positive(), gradcheck: true }),
  unary('square', ['square'], (a) => T.square(a), 'torch.square(a)', { dtypes: [...FLOAT_INT, 'bool'] }),
  unary('exp', ['exp'], (a) => T.exp(a), 'torch.exp(a)', { dtypes: [...FLOAT_LONG, 'bfloat16'], gradcheck: true }),
  unary('exp_', ['exp_'], (a) => a.clone().exp_(), 'a.clone().exp_()'),
  unary('expm1', ['expm1'], (a) => a.expm1(), 'torch.expm1(a)', { gen: uniform(-1e-3, 1e-3), gradcheck: true }),
  unary('log', ['log'], (a) => T.log(a), 'torch.log(a)', { dtypes: FLOAT_LONG, gen: positive(), gradcheck: true }),
  unary('log_', ['log_'], (a) => a.clone().log_(), 'a.clone().log_()', { gen: positive() }),
  unary('log2', ['log2'], (a) => a.log2(), 'torch.log2(a)', { dtypes: FLOAT_LONG, gen: positive() }),
  unary('log10', ['log10'], (a) => T.log10(a), 'torch.log10(a)', { gen: positive() }),
  unary('log1p', ['log1p'], (a) => a.log1p(), 'torch.log1p(a)', { gen: uniform(-0.5, 2), gradcheck: true }),
  unary('sin', ['sin'], (a) => T.sin(a), 'torch.sin(a)', { dtypes: FLOAT_LONG, gradcheck: true }),
  unary('cos', ['cos'], (a) => a.cos(), 'torch.cos(a)', { gradcheck: true }),
  unary('tanh', ['tanh'], (a) => T.tanh(a), 'torch.tanh(a)', { dtypes: BF, gradcheck: true }),
  unary('tanh_', ['tanh_'], (a) => a.clone().tanh_(), 'a.clone().tanh_()'),
  unary('sigmoid', ['sigmoid'], (a) => a.sigmoid(), 'torch.sigmoid(a)', { dtypes: [...FLOAT_LONG, 'bfloat16'], gradcheck: true }),
  unary('sigmoid_', ['sigmoid_'], (a) => T.sigmoid_(a.clone()), 'a.clone().sigmoid_()'),
  unary('erf', ['erf'], (a) => T.erf(a), 'torch.erf(a)', { gradcheck: true }),
  unary('erfinv', ['erfinv'], (a) => T.erfinv(a), 'torch.erfinv(a)', { gen: uniform(-0.9, 0.9), gradcheck: true }),
  unary('erfinv_', ['erfinv_'], (a) => a.clone().erfinv_(), 'a.clone().erfinv_()', { gen: uniform(-0.9, 0.9) }),
  unary('floor', ['floor'], (a) => a.floor(), 'torch.floor(a)', { dtypes: FLOAT_LONG, gen: uniform(-5, 5) }),
  unary('ceil', ['ceil'], (a) => T.ceil(a), 'torch.ceil(a)', { dtypes: FLOAT_LONG, gen: uniform(-5, 5) }),
  unary('round', ['round'], (a) => a.round(), 'torch.round(a)', { dtypes: FLOAT_LONG, gen: values([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 3.7, -3.2, 0, 7]) }),
  unary('trunc', ['trunc'], (a) => T.trunc(a), 'torch.trunc(a)', { dtypes: FLOAT_LONG, gen: uniform(-5, 5) }),
  unary('frac', ['frac'], (a) => a.frac(), 'torch.frac(a)', { gen: uniform(-5, 5) }),

  // ---- binary and ternary math ----
  row({ name: 'atan2', covers: ['atan2'], inputs: { a: inp([3, 4]), b: inp([4], nonzero()) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.atan2(a, b), py: 'torch.atan2(a, b)', grad: true, gradcheck: true }),
  row({ name: 'lerp Scalar', covers: ['lerp$Scalar'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => T.lerp(a, b, 0.3), py: 'torch.lerp(a, b, 0.3)', grad: true, gradcheck: true }),
  row({ name: 'lerp Tensor', covers: ['lerp$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]), w: inp([3, 1], uniform(0, 1)) }, dtypes: FLOAT, ts: ({ a, b, w }) => a.lerp(b, w), py: 'torch.lerp(a, b, w)', grad: true, gradcheck: true }),
  row({ name: 'lerp_ Scalar', covers: ['lerp_$Scalar'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b }) => a.clone().lerp_(b, 0.75), py: 'a.clone().lerp_(b, 0.75)', grad: true }),
  row({ name: 'lerp_ Tensor', covers: ['lerp_$Tensor'], inputs: { a: inp([3, 4]), b: inp([3, 4]), w: inp([4], uniform(0, 1)) }, dtypes: FLOAT, ts: ({ a, b, w }) => T.lerp_(a.clone(), b, w), py: 'a.clone().lerp_(b, w)', grad: true }),
  row({ name: 'addcmul', covers: ['addcmul'], inputs: { a: inp([3, 4]), b: inp([3, 4]), c: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b, c }) => T.addcmul(a, b, c, { value: 2 }), py: 'torch.addcmul(a, b, c, value=2)', grad: true, gradcheck: true }),
  row({ name: 'addcmul_', covers: ['addcmul_'], inputs: { a: inp([3, 4]), b: inp([3, 4]), c: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a, b, c }) => a.clone().addcmul_(b, c), py: 'a.clone().addcmul_(b, c)', grad: true }),
  row({ name: 'addcdiv', covers: ['addcdiv'], inputs: { a: inp([3, 4]), b: inp([3, 4]), c: inp([4], nonzero()) }, dtypes: FLOAT, ts: ({ a, b, c }) => a.addcdiv(b, c, { value: -0.5 }), py: 'torch.addcdiv(a, b, c, value=-0.5)', grad: true, gradcheck: true }),
  row({ name: 'addcdiv_', covers: ['addcdiv_'], inputs: { a: inp([3, 4]), b: inp([3, 4]), c: inp([3, 4], nonzero()) }, dtypes: FLOAT, ts: ({ a, b, c }) => T.addcdiv_(a.clone(), b, c, { value: 3 }), py: 'a.clone().addcdiv_(b, c, value=3)', grad: true }),
  row({ name: 'xlogy Tensor', covers: ['xlogy$Tensor'], inputs: { a: inp([3, 4], values([0, 1, -2, 0.5])), b: inp([3, 4], positive()) }, dtypes: FLOAT, ts: ({ a, b }) => T.xlogy(a, b), py: 'torch.xlogy(a, b)', grad: true, gradcheck: true }),
  row({ name: 'xlogy Scalar_Other', covers: ['xlogy$Scalar_Other'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.xlogy(2.5), py: 'torch.xlogy(a, 2.5)', grad: true }),

  // ---- clamp ----
  row({ name: 'clamp Tensor', covers: ['clamp$Tensor'], inputs: { a: inp([3, 4], awayFrom([-0.5, 0.5])), lo: inp([4], values([-0.5])), hi: inp([3, 1], values([0.5])) }, dtypes: FLOAT_LONG, ts: ({ a, lo, hi }) => T.clamp(a, lo, hi), py: 'torch.clamp(a, lo, hi)', grad: true }),
  row({ name: 'clamp Tensor options max', covers: ['clamp$Tensor'], inputs: { a: inp([3, 4]), hi: inp([4]) }, dtypes: FLOAT, ts: ({ a, hi }) => a.clamp({ max: hi }), py: 'torch.clamp(a, max=hi)', grad: true }),
  row({ name: 'clamp Scalar', covers: ['clamp'], inputs: { a: inp([3, 4], awayFrom([-0.5, 0.5])) }, dtypes: FLOAT_INT, ts: ({ a }) => T.clamp(a, -0.5, 0.5), py: 'torch.clamp(a, -0.5, 0.5)', grad: true, gradcheck: true }),
  row({ name: 'clamp Scalar options min', covers: ['clamp'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.clamp({ min: 0 }), py: 'torch.clamp(a, min=0)' }),
  row({ name: 'clamp Scalar max only', covers: ['clamp'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.clamp(a, null, 1), py: 'torch.clamp(a, None, 1)' }),
  row({ name: 'clamp_ Tensor', covers: ['clamp_$Tensor'], inputs: { a: inp([3, 4]), lo: inp([4]) }, dtypes: FLOAT, ts: ({ a, lo }) => a.clone().clamp_(lo), py: 'a.clone().clamp_(lo)', grad: true }),
  row({ name: 'clamp_ Scalar', covers: ['clamp_'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.clamp_(a.clone(), -1, 1), py: 'a.clone().clamp_(-1, 1)', grad: true }),
  row({ name: 'clamp_min Tensor', covers: ['clamp_min$Tensor'], inputs: { a: inp([3, 4]), m: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, m }) => T.clampMin(a, m), py: 'torch.clamp_min(a, m)', grad: true }),
  row({ name: 'clamp_min Scalar', covers: ['clamp_min'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.clampMin(0.25), py: 'torch.clamp_min(a, 0.25)', grad: true }),
  row({ name: 'clamp_max Tensor', covers: ['clamp_max$Tensor'], inputs: { a: inp([3, 4]), m: inp([3, 1]) }, dtypes: FLOAT_LONG, ts: ({ a, m }) => a.clampMax(m), py: 'torch.clamp_max(a, m)', grad: true }),
  row({ name: 'clamp_max Scalar', covers: ['clamp_max'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.clampMax(a, -0.25), py: 'torch.clamp_max(a, -0.25)', grad: true }),
  row({ name: 'maximum', covers: ['maximum'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: [...FLOAT_INT, 'bool'], ts: ({ a, b }) => T.maximum(a, b), py: 'torch.maximum(a, b)', grad: true, gradcheck: true }),
  row({ name: 'minimum', covers: ['minimum'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT_INT, ts: ({ a, b }) => a.minimum(b), py: 'torch.minimum(a, b)', grad: true }),

  // ---- non-finite values ----
  row({ name: 'nan_to_num defaults', covers: ['nan_to_num'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: FLOAT, ts: ({ a }) => T.nanToNum(a), py: 'torch.nan_to_num(a)' }),
  row({ name: 'nan_to_num values', covers: ['nan_to_num'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: FLOAT, ts: ({ a }) => T.nanToNum(a, 0.5, 100, { neginf: -100 }), py: 'torch.nan_to_num(a, 0.5, 100, -100)' }),
  row({ name: 'nan_to_num options', covers: ['nan_to_num'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: FLOAT, ts: ({ a }) => a.nanToNum({ posinf: 7 }), py: 'torch.nan_to_num(a, posinf=7)' }),
  row({ name: 'isnan', covers: ['isnan'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: [...FLOAT, 'int64'], ts: ({ a }) => T.isnan(a), py: 'torch.isnan(a)' }),
  row({ name: 'isinf', covers: ['isinf'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: [...FLOAT, 'int64'], ts: ({ a }) => a.isinf(), py: 'torch.isinf(a)' }),
  row({ name: 'isfinite', covers: ['isfinite'], inputs: { a: inp([8], values(SPECIAL)) }, dtypes: [...FLOAT, 'int64'], ts: ({ a }) => T.isfinite(a), py: 'torch.isfinite(a)' }),
];
