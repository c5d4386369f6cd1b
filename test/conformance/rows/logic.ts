// Rows: comparisons, logic, bitwise ops and where.
import * as T from '../../../src/index.js';
import { FLOAT, FLOAT_LONG, inp, ints, mask, row, type DTypeList, type OpRow } from '../spec.js';

/** Small integers (as floats for floating dtypes), so that comparisons meet ties. */
const TIES = ints(-2, 2);
const CMP: DTypeList = [...FLOAT_LONG, 'int32', 'uint8'];
const LOGIC: DTypeList = ['bool', 'float32', 'int64'];
const BITS: DTypeList = ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];

export const LOGIC_ROWS: OpRow[] = [
  row({ name: 'eq Tensor', covers: ['eq$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: [...CMP, 'bool'], ts: ({ a, b }) => T.eq(a, b), py: 'torch.eq(a, b)' }),
  row({ name: 'eq Scalar', covers: ['eq$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => a.eq(1), py: 'a == 1' }),
  row({ name: 'ne Tensor', covers: ['ne$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a, b }) => a.ne(b), py: 'a != b' }),
  row({ name: 'ne Scalar', covers: ['ne$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => T.ne(a, 0), py: 'torch.ne(a, 0)' }),
  row({ name: 'lt Tensor', covers: ['lt$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: CMP, ts: ({ a, b }) => T.lt(a, b), py: 'torch.lt(a, b)' }),
  row({ name: 'lt Scalar', covers: ['lt$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => a.lt(0.5), py: 'a < 0.5' }),
  row({ name: 'le Tensor', covers: ['le$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([3, 1], TIES) }, dtypes: CMP, ts: ({ a, b }) => a.le(b), py: 'a <= b' }),
  row({ name: 'le Scalar', covers: ['le$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => T.le(a, 1), py: 'torch.le(a, 1)' }),
  row({ name: 'gt Tensor', covers: ['gt$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: CMP, ts: ({ a, b }) => T.gt(a, b), py: 'torch.gt(a, b)' }),
  row({ name: 'gt Scalar', covers: ['gt$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => a.gt(-1), py: 'a > -1' }),
  row({ name: 'ge Tensor', covers: ['ge$Tensor'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: CMP, ts: ({ a, b }) => a.ge(b), py: 'a >= b' }),
  row({ name: 'ge Scalar', covers: ['ge$Scalar'], inputs: { a: inp([3, 4], TIES) }, dtypes: CMP, ts: ({ a }) => T.ge(a, 2), py: 'torch.ge(a, 2)' }),
  row({ name: 'equal same', covers: ['equal'], inputs: { a: inp([3, 4]) }, dtypes: [...FLOAT_LONG, 'bool'], ts: ({ a }) => T.equal(a, a.clone()), py: 'torch.equal(a, a.clone())' }),
  row({ name: 'equal different', covers: ['equal'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.equal(b), py: 'torch.equal(a, b)' }),
  row({ name: 'allclose', covers: ['allclose'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a }) => [T.allclose(a, a.add(1e-3)), T.allclose(a, a.add(1e-3), { atol: 1e-2 }), a.allclose(a.mul(1.001), 1e-2)], py: '[torch.allclose(a, a + 1e-3), torch.allclose(a, a + 1e-3, atol=1e-2), torch.allclose(a, a * 1.001, 1e-2)]' }),
  row({ name: 'isclose', covers: ['isclose'], inputs: { a: inp([3, 4]), b: inp([3, 4], undefined) }, dtypes: FLOAT, ts: ({ a, b }) => T.isclose(a, a.add(b.mul(1e-3)), 1e-5, 1e-3), py: 'torch.isclose(a, a + b * 1e-3, 1e-5, 1e-3)' }),
  row({ name: 'isclose equal_nan', covers: ['isclose'], inputs: {}, dtypes: FLOAT, ts: (_, dtype) => T.isclose(T.tensor([NaN, 1, NaN], { dtype }), T.tensor([NaN, 1, 2], { dtype }), { equalNan: true }), py: "torch.isclose(torch.tensor([math.nan, 1, math.nan], dtype=dtype), torch.tensor([math.nan, 1, 2], dtype=dtype), equal_nan=True)" }),
  row({ name: 'logical_and', covers: ['logical_and'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: LOGIC, ts: ({ a, b }) => T.logicalAnd(a, b), py: 'torch.logical_and(a, b)' }),
  row({ name: 'logical_or', covers: ['logical_or'], inputs: { a: inp([3, 4], TIES), b: inp([3, 4], TIES) }, dtypes: LOGIC, ts: ({ a, b }) => a.logicalOr(b), py: 'torch.logical_or(a, b)' }),
  row({ name: 'logical_xor', covers: ['logical_xor'], inputs: { a: inp([3, 4], TIES), b: inp([4], TIES) }, dtypes: LOGIC, ts: ({ a, b }) => T.logicalXor(a, b), py: 'torch.logical_xor(a, b)' }),
  row({ name: 'logical_not', covers: ['logical_not'], inputs: { a: inp([3, 4], TIES) }, dtypes: LOGIC, ts: ({ a }) => a.logicalNot(), py: 'torch.logical_not(a)' }),
  row({ name: 'bitwise_and Tensor', covers: ['bitwise_and$Tensor'], inputs: { a: inp([3, 4]), b: inp([4]) }, dtypes: BITS, ts: ({ a, b }) => T.bitwiseAnd(a, b), py: 'torch.bitwise_and(a, b)' }),
  row({ name: 'bitwise_and Scalar', covers: ['bitwise_and$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: BITS.slice(0, 5), ts: ({ a }) => a.bitwiseAnd(6), py: 'torch.bitwise_and(a, 6)' }),
  row({ name: 'bitwise_or Tensor', covers: ['bitwise_or$Tensor'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: BITS, ts: ({ a, b }) => a.bitwiseOr(b), py: 'a | b' }),
  row({ name: 'bitwise_or Scalar', covers: ['bitwise_or$Scalar'], inputs: { a: inp([3, 4]) }, dtypes: BITS.slice(0, 5), ts: ({ a }) => T.bitwiseOr(a, 9), py: 'torch.bitwise_or(a, 9)' }),
  row({ name: 'bitwise_not', covers: ['bitwise_not'], inputs: { a: inp([3, 4]) }, dtypes: BITS, ts: ({ a }) => T.bitwiseNot(a), py: 'torch.bitwise_not(a)' }),
  row({ name: 'where self', covers: ['where$self'], inputs: { c: mask([3, 4]), a: inp([3, 4]), b: inp([4]) }, dtypes: [...FLOAT_LONG, 'bool'], ts: ({ c, a, b }) => T.where(c, a, b), py: 'torch.where(c, a, b)', grad: true, gradcheck: true }),
  row({ name: 'where ScalarOther', covers: ['where$ScalarOther'], inputs: { c: mask([3, 4]), a: inp([3, 4]) }, dtypes: FLOAT, ts: ({ c, a }) => T.where(c, a, 0.5), py: 'torch.where(c, a, 0.5)', grad: true }),
  row({ name: 'where ScalarSelf', covers: ['where$ScalarSelf'], inputs: { c: mask([3, 4]), b: inp([3, 4]) }, dtypes: FLOAT, ts: ({ c, b }) => T.where(c, -2, b), py: 'torch.where(c, -2, b)', grad: true }),
  row({ name: 'where Scalar', covers: ['where$Scalar'], inputs: { c: mask([3, 4]) }, dtypes: FLOAT, ts: ({ c }) => T.where(c, 1.5, -1.5), py: 'torch.where(c, 1.5, -1.5)' }),
  row({ name: 'where Scalar ints', covers: ['where$Scalar'], inputs: { c: mask([5]) }, dtypes: FLOAT, ts: ({ c }) => T.where(c, 1, 0), py: 'torch.where(c, 1, 0)' }),
];
