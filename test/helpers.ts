// Shared test helpers.
import assert from 'node:assert/strict';

import type { Tensor } from '../src/index.js';

/** Asserts two tensors have the same shape and elementwise |a-b| <= atol + rtol*|b|. */
export function assertClose(actual: Tensor, expected: Tensor | ArrayLike<number>, opts: { rtol?: number; atol?: number; message?: string } = {}): void {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const a = Array.from(actual.data() as ArrayLike<number | bigint>, Number);
  const e = 'data' in expected && typeof (expected as Tensor).data === 'function'
    ? Array.from((expected as Tensor).data() as ArrayLike<number | bigint>, Number)
    : Array.from(expected as ArrayLike<number>);
  if ('shape' in expected && Array.isArray((expected as Tensor).shape)) assert.deepEqual(actual.shape, (expected as Tensor).shape, opts.message);
  assert.equal(a.length, e.length, `${opts.message ?? ''} element count`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = e[i] as number;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y)))
      assert.fail(`${opts.message ?? 'tensors differ'}: element ${i}: ${x} vs ${y} (rtol ${rtol}, atol ${atol})`);
  }
}
