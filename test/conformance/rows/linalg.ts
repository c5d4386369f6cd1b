// Rows: matrix products and triangular/diagonal helpers.
import * as T from '../../../src/index.js';
import { FLOAT, FLOAT_LONG, inp, row, type OpRow } from '../spec.js';

export const LINALG_ROWS: OpRow[] = [
  row({ name: 'matmul 2d', covers: ['matmul'], inputs: { a: inp([3, 4]), b: inp([4, 5]) }, dtypes: [...FLOAT_LONG, 'bfloat16'], ts: ({ a, b }) => T.matmul(a, b), py: 'torch.matmul(a, b)', grad: true, gradcheck: true, tol: { rtol: 1e-5, atol: 1e-5 } }),
  row({ name: 'matmul batched broadcast', covers: ['matmul'], inputs: { a: inp([2, 3, 4]), b: inp([4, 2]) }, dtypes: FLOAT, ts: ({ a, b }) => a.matmul(b), py: 'a @ b', grad: true, gradcheck: true }),
  row({ name: 'matmul vector', covers: ['matmul'], inputs: { a: inp([4]), b: inp([2, 4, 3]) }, dtypes: FLOAT, ts: ({ a, b }) => T.matmul(a, b), py: 'torch.matmul(a, b)', grad: true }),
  row({ name: 'mm', covers: ['mm'], inputs: { a: inp([3, 4]), b: inp([4, 2]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.mm(a, b), py: 'torch.mm(a, b)', grad: true, gradcheck: true }),
  row({ name: 'bmm', covers: ['bmm'], inputs: { a: inp([2, 3, 4]), b: inp([2, 4, 2]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.bmm(b), py: 'torch.bmm(a, b)', grad: true, gradcheck: true }),
  row({ name: 'mv', covers: ['mv'], inputs: { a: inp([3, 4]), v: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, v }) => T.mv(a, v), py: 'torch.mv(a, v)', grad: true }),
  row({ name: 'dot', covers: ['dot'], inputs: { a: inp([5]), b: inp([5]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => a.dot(b), py: 'torch.dot(a, b)', grad: true }),
  row({ name: 'outer', covers: ['outer'], inputs: { a: inp([3]), b: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.outer(a, b), py: 'torch.outer(a, b)', grad: true }),
  row({ name: 'addmm', covers: ['addmm'], inputs: { c: inp([2]), a: inp([3, 4]), b: inp([4, 2]) }, dtypes: FLOAT, ts: ({ c, a, b }) => T.addmm(c, a, b, { beta: 0.5, alpha: 2 }), py: 'torch.addmm(c, a, b, beta=0.5, alpha=2)', grad: true, gradcheck: true }),
  row({ name: 'addmm defaults', covers: ['addmm'], inputs: { c: inp([3, 2]), a: inp([3, 4]), b: inp([4, 2]) }, dtypes: FLOAT_LONG, ts: ({ c, a, b }) => c.addmm(a, b), py: 'torch.addmm(c, a, b)', grad: true }),
  row({ name: 'addmm_', covers: ['addmm_'], inputs: { c: inp([3, 2]), a: inp([3, 4]), b: inp([4, 2]) }, dtypes: FLOAT, ts: ({ c, a, b }) => c.clone().addmm_(a, b, { alpha: -1 }), py: 'c.clone().addmm_(a, b, alpha=-1)', grad: true }),
  row({ name: 'baddbmm', covers: ['baddbmm'], inputs: { c: inp([3, 2]), a: inp([2, 3, 4]), b: inp([2, 4, 2]) }, dtypes: FLOAT, ts: ({ c, a, b }) => T.baddbmm(c, a, b, { beta: 2, alpha: 0.5 }), py: 'torch.baddbmm(c, a, b, beta=2, alpha=0.5)', grad: true }),
  row({ name: 'einsum matmul', covers: ['einsum'], inputs: { a: inp([3, 4]), b: inp([4, 2]) }, dtypes: FLOAT, ts: ({ a, b }) => T.einsum('ij,jk->ik', [a, b]), py: "torch.einsum('ij,jk->ik', a, b)", grad: true }),
  row({ name: 'einsum batched trace', covers: ['einsum'], inputs: { a: inp([2, 3, 3]), b: inp([2, 3]) }, dtypes: FLOAT_LONG, ts: ({ a, b }) => T.einsum('bii,bj->bj', [a, b]), py: "torch.einsum('bii,bj->bj', a, b)", grad: true }),
  row({ name: 'linear', covers: ['linear'], inputs: { x: inp([2, 3, 4]), w: inp([5, 4]), b: inp([5]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.linear(x, w, b), py: 'F.linear(x, w, b)', grad: true, gradcheck: true }),
  row({ name: 'linear no bias', covers: ['linear'], inputs: { x: inp([3, 4]), w: inp([2, 4]) }, dtypes: FLOAT, ts: ({ x, w }) => T.linear(x, w), py: 'F.linear(x, w)', grad: true }),
  row({ name: 'linear options bias', covers: ['linear'], inputs: { x: inp([3, 4]), w: inp([2, 4]), b: inp([2]) }, dtypes: FLOAT, ts: ({ x, w, b }) => T.linear(x, w, { bias: b }), py: 'F.linear(x, w, b)', grad: true }),
  row({ name: 't', covers: ['t'], inputs: { a: inp([3, 4]) }, dtypes: [...FLOAT_LONG, 'bool'], ts: ({ a }) => a.t(), py: 'a.t()', grad: true }),
  row({ name: 'tril', covers: ['tril'], inputs: { a: inp([4, 5]) }, dtypes: [...FLOAT_LONG, 'bool'], ts: ({ a }) => T.tril(a), py: 'torch.tril(a)', grad: true }),
  row({ name: 'tril diagonal', covers: ['tril'], inputs: { a: inp([2, 4, 4]) }, dtypes: FLOAT, ts: ({ a }) => a.tril(-1), py: 'torch.tril(a, -1)', grad: true }),
  row({ name: 'triu diagonal', covers: ['triu'], inputs: { a: inp([4, 5]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.triu(a, { diagonal: 1 }), py: 'torch.triu(a, diagonal=1)', grad: true }),
  row({ name: 'diag of vector', covers: ['diag'], inputs: { a: inp([4]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.diag(a, 1), py: 'torch.diag(a, 1)', grad: true }),
  row({ name: 'diag of matrix', covers: ['diag'], inputs: { a: inp([4, 3]) }, dtypes: FLOAT_LONG, ts: ({ a }) => a.diag(), py: 'torch.diag(a)', grad: true }),
  row({ name: 'diagonal', covers: ['diagonal'], inputs: { a: inp([2, 4, 5]) }, dtypes: FLOAT_LONG, ts: ({ a }) => T.diagonal(a, { offset: 1, dim1: 1, dim2: 2 }), py: 'torch.diagonal(a, offset=1, dim1=1, dim2=2)', grad: true }),
  row({ name: 'linalg_qr', covers: ['linalg_qr'], inputs: { a: inp([5, 3]) }, dtypes: FLOAT, ts: ({ a }) => T.linalgQr(a), py: 'torch.linalg.qr(a)', grad: true, tol: { rtol: 1e-4, atol: 1e-5 } }),
  // eigh of a symmetric matrix (a + aᵀ): eigenvalues ascending; eigenvectors up to sign (compared as |v|,
  // and through V·diag(λ)·Vᵀ, which the sign does not change).
  row({ name: 'linalg_eigh eigenvalues', covers: ['linalg_eigh'], inputs: { a: inp([4, 4]) }, dtypes: FLOAT, ts: ({ a }) => T.linalgEigh(a.add(a.t()))[0], py: 'torch.linalg.eigh(a + a.t())[0]', grad: true, tol: { rtol: 1e-4, atol: 1e-5 } }),
  row({ name: 'linalg_eigh eigenvectors', covers: ['linalg_eigh'], inputs: { a: inp([5, 5]) }, dtypes: ['float64'], ts: ({ a }) => T.linalgEigh(a.add(a.t()))[1].abs(), py: 'torch.linalg.eigh(a + a.t())[1].abs()' }),
  row({ name: 'linalg_eigh UPLO U reconstructs', covers: ['linalg_eigh'], inputs: { a: inp([4, 4]) }, dtypes: ['float64'],
    ts: ({ a }) => { const [l, v] = T.linalgEigh(a, { UPLO: 'U' }); return v.mul(l).matmul(v.t()); }, py: "(lambda l, v: (v * l) @ v.t())(*torch.linalg.eigh(a, UPLO='U'))", grad: true }),
  row({ name: 'linalg_qr complete', covers: ['linalg_qr'], inputs: { a: inp([3, 4]) }, dtypes: ['float64'], ts: ({ a }) => T.linalgQr(a, 'complete'), py: "torch.linalg.qr(a, 'complete')" }),
];
