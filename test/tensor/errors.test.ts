// Bad calls throw typed errors naming the op and carrying LibTorch's message; the process lives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  add, conv2d, crossEntropyLoss, DisposedTensorError, indexSelect, matmul, ones, randn, tensor, TorchError, TorchIndexError,
  TorchValueError, zeros, type Tensor,
} from '../../src/index.js';

interface BadCall {
  name: string;
  call: () => unknown;
  /** Error class expected. */
  error: abstract new (...args: never[]) => Error;
  /** The op named in the error, if it came from the native side. */
  op?: string;
  /** Part of the message (LibTorch's own words, or ours). */
  message: RegExp;
}

const disposed = (): Tensor => {
  const t = ones([2]);
  t.dispose();
  return t;
};

const TABLE: BadCall[] = [
  { name: 'shape mismatch in broadcasting', call: () => add(ones([2, 3]), ones([4])), error: TorchError, op: 'add.Tensor', message: /size of tensor a \(3\) must match the size of tensor b \(4\)/ },
  { name: 'matmul inner dimensions differ', call: () => matmul(ones([2, 3]), ones([4, 5])), error: TorchError, op: 'matmul', message: /cannot be multiplied|shapes/ },
  { name: 'conv2d weight/input channel mismatch', call: () => conv2d(ones([1, 3, 8, 8]), ones([4, 2, 3, 3])), error: TorchError, op: 'conv2d', message: /expected input.*to have 2 channels/ },
  { name: 'wrong dtype: integer input to a float-only op', call: () => crossEntropyLoss(ones([2, 3]), tensor([0.5, 1.5])), error: TorchError, op: 'cross_entropy_loss', message: /Float|Long|dtype|scalar type/i },
  { name: 'out-of-range index', call: () => indexSelect(ones([3]), 0, tensor([5])), error: TorchIndexError, op: 'index_select', message: /out of range/ },
  { name: 'dimension out of range', call: () => ones([2, 2]).sum(5), error: TorchIndexError, op: 'sum.dim_IntList', message: /Dimension out of range/ },
  { name: 'target class out of range', call: () => crossEntropyLoss(ones([2, 3]), tensor([0, 7])), error: TorchIndexError, op: 'cross_entropy_loss', message: /out of bounds/ },
  { name: 'disposed tensor as self', call: () => disposed().add(1), error: DisposedTensorError, op: 'add.Scalar', message: /argument 'self' is a disposed tensor/ },
  { name: 'disposed tensor as other', call: () => add(ones([2]), disposed()), error: DisposedTensorError, op: 'add.Tensor', message: /argument 'other' is a disposed tensor/ },
  { name: 'disposed tensor metadata', call: () => disposed().shape, error: DisposedTensorError, message: /disposed/ },
  { name: 'wrong device name', call: () => ones([2]).to('tpu:0'), error: TypeError, message: /'tpu:0' is not a device/ },
  { name: 'unavailable device', call: () => ones([2]).to('cuda:0'), error: TorchError, op: 'to.device', message: /CUDA|cuda/ },
  { name: 'non-integer where an int is required', call: () => ones([2, 2]).sum(0.5), error: TorchValueError, op: 'sum.dim_IntList', message: /argument 'dim' must be an integer/ },
  { name: 'string where a Tensor is required', call: () => add(ones([2]), 'x' as unknown as number), error: TypeError, message: /expected one of/ },
  { name: 'misspelt option name', call: () => conv2d(ones([1, 1, 4, 4]), ones([1, 1, 3, 3]), { paddng: 1 } as unknown as { padding: number }), error: TypeError, message: /conv2d\(\) got .*\{paddng\}.*expected one of/s },
  { name: 'invalid reshape', call: () => ones([6]).reshape([4, 2]), error: TorchError, op: 'reshape', message: /shape '\[4, 2\]' is invalid for input of size 6/ },
  { name: 'negative size', call: () => zeros([-1, 2]), error: TorchError, op: 'zeros', message: /negative/ },
  { name: 'bad dtype name', call: () => zeros([2], { dtype: 'float8' as 'float32' }), error: TypeError, message: /'float8' is not a dtype/ },
  { name: 'bad reduction name', call: () => crossEntropyLoss(randn([2, 3]), tensor([0, 1]), { reduction: 'avg' as 'mean' }), error: TypeError, message: /'avg' is not a reduction/ },
  { name: 'backward on a non-scalar without gradient', call: () => randn([3], {}).requiresGrad_().mul(2).backward(), error: TorchError, op: 'backward', message: /grad can be implicitly created only for scalar outputs/ },
  { name: 'backward through a tensor that does not require grad', call: () => ones([1]).backward(), error: TorchError, op: 'backward', message: /does not require grad/ },
  { name: 'shape whose byte size overflows', call: () => tensor(new Float32Array(4), { shape: [2 ** 31, 2 ** 31] }), error: TorchValueError, op: 'fromBuffer', message: /is too large/ },
  { name: 'allocation larger than memory', call: () => zeros([1e6, 1e6]), error: TorchError, op: 'zeros', message: /can't allocate memory/ },
  { name: 'data buffer of the wrong size', call: () => tensor(new Float32Array(5), { shape: [2, 3] }), error: TorchValueError, op: 'fromBuffer', message: /data has 20 bytes but shape \[2, 3\] of Float needs 24/ },
];

describe('errors: bad calls throw and the process lives', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      assert.throws(row.call, (e: unknown) => {
        assert.ok(e instanceof row.error, `expected ${row.error.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        assert.match((e as Error).message, row.message);
        if (row.op) assert.equal((e as TorchError).op, row.op);
        return true;
      });
    });
  }

  it('still computes correctly after every error above', () => {
    using a = tensor([1, 2, 3], { dtype: 'float32' });
    using b = a.add(1);
    assert.deepEqual(b.toArray(), [2, 3, 4]);
  });
});
