import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { expandBraces } from '../../../src/data/formats/braces.js';

describe('brace expansion', () => {
  it('expands ranges keeping zero padding, lists, several and nested groups', () => {
    const shards = expandBraces('shard-{000..127}.tar');
    assert.equal(shards.length, 128);
    assert.deepEqual([shards[0], shards[9], shards[127]], ['shard-000.tar', 'shard-009.tar', 'shard-127.tar']);
    assert.deepEqual(expandBraces('{train,val}-{8..10}.tar'), ['train-8.tar', 'train-9.tar', 'train-10.tar', 'val-8.tar', 'val-9.tar', 'val-10.tar']);
    assert.deepEqual(expandBraces('{a,b{1..2}}x'), ['ax', 'b1x', 'b2x']);
    assert.deepEqual(expandBraces('s{3..1}'), ['s3', 's2', 's1']);
    assert.deepEqual(expandBraces('http://h/{a,b}.tar'), ['http://h/a.tar', 'http://h/b.tar']);
  });

  it('leaves what is not a group literal, as bash does', () => {
    assert.deepEqual(expandBraces('plain.tar'), ['plain.tar']);
    assert.deepEqual(expandBraces('a{x}b'), ['a{x}b']);
    assert.deepEqual(expandBraces('a{b'), ['a{b']);
  });

  it('refuses an expansion too large to be meant', () => {
    assert.throws(() => expandBraces('s-{0..99999999}.tar'), /has 100000000 values \(limit 1000000\)/);
    assert.throws(() => expandBraces('{0..999}{0..999}{0..9}'), /expands to .* names \(limit 1000000\)/);
  });
});
