// Deliberately wrong rows: each must make the harness report a specific kind of problem. They run
// in the same reference call as the op table and prove that every comparison the harness makes can
// fail (a harness that cannot fail would pass every binding bug).
import * as T from '../../src/index.js';
import { F32, FLOAT, inp, row, values, type OpRow } from './spec.js';

export interface Mutant {
  row: OpRow;
  /** The problem the harness must report for the row's first dtype. */
  expect: RegExp;
}

const mutant = (expect: RegExp, r: OpRow): Mutant => ({ row: { ...r, name: `mutant: ${r.name}` }, expect });

export const MUTANTS: readonly Mutant[] = [
  mutant(/output: 12 of 12 values differ/, row({ name: 'value off by 1e-3', covers: ['add$Tensor'], inputs: { a: inp([3, 4]), b: inp([3, 4]) }, dtypes: F32, ts: ({ a, b }) => T.add(a, b), py: 'a + b + 1e-3' })),
  mutant(/12 of 12 values differ \(rtol 0\.000001,/, row({ name: 'relative error 1e-5 in float32', covers: ['mul$Scalar'], inputs: { a: inp([3, 4], values([1, 2, 3])) }, dtypes: F32, ts: ({ a }) => a.mul(2), py: 'a * 2 * (1 + 1e-5)' })),
  mutant(/dtype float64, PyTorch float32/, row({ name: 'dtype', covers: ['to$dtype'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.to('float64'), py: 'a' })),
  mutant(/shape \[4, 3\], PyTorch \[3, 4\]/, row({ name: 'shape', covers: ['t'], inputs: { a: inp([3, 4]) }, dtypes: F32, ts: ({ a }) => a.t(), py: 'a' })),
  mutant(/6 of 6 values differ/, row({ name: 'int64 value', covers: ['clone'], inputs: { a: inp([6]) }, dtypes: ['int64'], ts: ({ a }) => a.clone(), py: 'a + 1' })),
  mutant(/\[0\] false vs true|\[\d+\] 0 vs 1/, row({ name: 'bool value', covers: ['gt$Scalar'], inputs: { a: inp([4], values([0, 1, -1, 0])) }, dtypes: F32, ts: ({ a }) => a.gt(0), py: 'a >= 0' })),
  mutant(/NaN vs 0|0 vs NaN/, row({ name: 'NaN against a number', covers: ['div$Tensor'], inputs: { a: inp([2], values([0])) }, dtypes: F32, ts: ({ a }) => a.div(a), py: 'a * 0' })),
  mutant(/grad a: .* values differ/, row({ name: 'gradient', covers: ['mul$Tensor'], inputs: { a: inp([3, 4]) }, dtypes: FLOAT, ts: ({ a }) => T.mul(a, a), py: 'a * a.detach()', grad: true })),
  mutant(/grad b: Tessera has none/, row({ name: 'missing gradient', covers: ['mul$Tensor'], inputs: { a: inp([3]), b: inp([3]) }, dtypes: FLOAT, ts: ({ a, b }) => a.mul(b.detach()), py: 'a * b', grad: true })),
  mutant(/output: requiresGrad true, PyTorch false/, row({ name: 'differentiable only in Tessera', covers: ['mul$Tensor'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.mul(a), py: 'a.detach() * a.detach()', grad: true })),
  mutant(/requiresGrad true, PyTorch false/, row({ name: 'requires_grad flag', covers: ['requires_grad_'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.clone().requiresGrad_(), py: 'a.clone()' })),
  mutant(/did not call sub\$Tensor/, row({ name: 'covers an entry point it does not call', covers: ['sub$Tensor'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.add(a.neg()), py: 'a - a' })),
  mutant(/output: 2 items, PyTorch 1/, row({ name: 'list length', covers: ['unbind$int'], inputs: { a: inp([2, 3]) }, dtypes: F32, ts: ({ a }) => T.unbind(a), py: 'torch.unbind(a)[:1]' })),
  mutant(/Tessera gave number .*, PyTorch tensor/, row({ name: 'number for a tensor', covers: ['sum'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.sum().item(), py: 'a.sum()' })),
  mutant(/Tessera threw: .*TypeError/, row({ name: 'Tessera throws', covers: ['add$Tensor'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => T.add(a, 'x' as unknown as number), py: 'a + 1' })),
  mutant(/values differ \(rtol 0, atol 0\)/, row({ name: 'different seed', covers: ['rand'], dtypes: F32, seed: 1, ts: () => T.rand([5]), py: '(torch.manual_seed(2), torch.rand([5]))[1]' })),
  mutant(/Tessera did not throw/, row({ name: 'error row that does not throw', covers: ['neg'], inputs: { a: inp([3]) }, dtypes: F32, throws: /TorchError/, ts: ({ a }) => a.neg(), py: 'torch.neg(None)' })),
  mutant(/PyTorch reference failed: NameError/, row({ name: 'reference error', covers: ['neg'], inputs: { a: inp([3]) }, dtypes: F32, ts: ({ a }) => a.neg(), py: 'torch.neg(b)' })),
];

/** A row whose Tessera gradient is wrong (the factor a.detach() hides half of d(a*a)/da): gradcheck must object. */
export const GRADCHECK_MUTANT: OpRow = row({ name: 'mutant: wrong analytic gradient', covers: ['mul$Tensor'], inputs: { a: inp([3, 2]) }, dtypes: ['float64'], ts: ({ a }) => a.mul(a.detach()), py: 'a * a', grad: true, gradcheck: true });
