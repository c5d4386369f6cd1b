// Python-style number formatting used by toString(): the expected strings are Python's repr().
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { pyFloat, pyIntOrTuple, pyNumber, pyTuple } from '../../src/nn/repr.js';

it("pyFloat matches Python's repr(float)", () => {
  const cases: [number, string][] = [
    [1e-5, '1e-05'], [1e16, '1e+16'], [1e15, '1000000000000000.0'], [0.1, '0.1'], [1, '1.0'], [1e-4, '0.0001'], [1.5e-7, '1.5e-07'],
    [123456789012345680, '1.2345678901234568e+17'], [0.30000000000000004, '0.30000000000000004'], [-2.5e-5, '-2.5e-05'], [5e-324, '5e-324'],
    [NaN, 'nan'], [-Infinity, '-inf'], [-0, '-0.0'],
  ];
  for (const [x, s] of cases) assert.equal(pyFloat(x), s, String(x));
});

it('ints, tuples and None as Python prints them', () => {
  assert.equal(pyNumber(20), '20');
  assert.equal(pyNumber(0.5), '0.5');
  assert.equal(pyTuple([3]), '(3,)');
  assert.equal(pyTuple([3, null]), '(3, None)');
  assert.equal(pyIntOrTuple(2), '2');
  assert.equal(pyIntOrTuple(null), 'None');
});
