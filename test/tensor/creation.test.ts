import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ALL_DTYPES, fromBufferShared, ones, tensor, zeros } from '../../src/index.js';

describe('tensor creation', () => {
  it('infers shape and dtype from nested arrays like PyTorch', () => {
    using a = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.dtype, 'int64');
    using b = tensor([0.5, 1]);
    assert.equal(b.dtype, 'float32');
    using c = tensor([true, false]);
    assert.equal(c.dtype, 'bool');
    using d = tensor(3.5);
    assert.deepEqual(d.shape, []);
    assert.equal(d.item(), 3.5);
  });

  it('refuses ragged arrays, naming the row at fault', () => {
    assert.throws(() => tensor([[1, 2], [3]]), /data\[1\] has length 1, expected 2/);
    assert.throws(() => tensor([1, 'x' as unknown as number]), /data\[1\] is string/);
  });

  it('copies TypedArrays by default', () => {
    const src = new Float32Array([1, 2, 3, 4]);
    using t = tensor(src, { shape: [2, 2] });
    src[0] = 100;
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4]]);
  });

  it('shares memory only through fromBufferShared', () => {
    const src = new Float32Array([1, 2, 3]);
    using t = fromBufferShared(src);
    src[1] = 7;
    assert.deepEqual(t.toArray(), [1, 7, 3]);
    t.mul_(2);
    assert.deepEqual(Array.from(src), [2, 14, 6]);
  });

  it('round-trips every dtype through data()', () => {
    for (const dtype of ALL_DTYPES) {
      using t = tensor([0, 1, 1, 0], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), dtype === 'bool' ? [false, true, true, false] : [0, 1, 1, 0], dtype);
    }
  });

  it('builds factories with dtype options', () => {
    using z = zeros([2, 3], { dtype: 'float64' });
    assert.equal(z.dtype, 'float64');
    assert.deepEqual(z.shape, [2, 3]);
    using o = ones([4]);
    assert.equal(o.sum().item(), 4);
  });
});
