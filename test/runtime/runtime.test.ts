import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';

import {
  detectBlas, getNumThreads, getRngState, initialSeed, manualSeed, rand, randn, runtimeInfo, scope, setNumThreads, setRngState,
} from '../../src/index.js';
import { defaultNumThreads } from '../../src/runtime/threads.js';

describe('threads', () => {
  it('default to every core, overridable by TESSERA_NUM_THREADS / OMP_NUM_THREADS', () => {
    assert.equal(defaultNumThreads({}), availableParallelism());
    assert.equal(defaultNumThreads({ TESSERA_NUM_THREADS: '3' }), 3);
    assert.equal(defaultNumThreads({ OMP_NUM_THREADS: '1' }), 1);
    assert.equal(defaultNumThreads({ TESSERA_NUM_THREADS: 'x' }), availableParallelism());
  });

  it('can be read and set', () => {
    const before = getNumThreads();
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    setNumThreads(before);
    assert.equal(getNumThreads(), before);
    assert.throws(() => setNumThreads(0), RangeError);
  });
});

describe('random state', () => {
  it('manualSeed makes random ops repeat', () => {
    scope(() => {
      manualSeed(42);
      const a = randn([5]).toArray();
      manualSeed(42);
      const b = randn([5]).toArray();
      assert.deepEqual(a, b);
      assert.equal(initialSeed(), 42);
    });
  });

  it('getRngState/setRngState resume the exact stream (for checkpoints)', () => {
    scope(() => {
      manualSeed(7);
      rand([3]);
      const state = getRngState();
      assert.equal(state.dtype, 'uint8');
      const expected = rand([4]).toArray();
      rand([10]);
      setRngState(state);
      assert.deepEqual(rand([4]).toArray(), expected);
    });
  });

  it('refuses bad seeds', () => {
    assert.throws(() => manualSeed(-1), RangeError);
    assert.throws(() => manualSeed(1.5), RangeError);
  });
});

describe('info', () => {
  it('reports the LibTorch version, threads and the BLAS in use', () => {
    const info = runtimeInfo();
    assert.match(info.libtorch.version, /^\d+\.\d+/);
    assert.equal(info.threads.intraOp, getNumThreads());
    assert.ok(['openblas', 'mkl', 'blis', 'reference', 'none'].includes(info.blas.kind));
    assert.equal(info.mallocTuned, process.env.TESSERA_MALLOC_TUNING !== '0');
  });

  it('recognises OpenBLAS and warns about the reference BLAS', () => {
    const line = (p: string) => `7f00-7f01 r-xp 00000000 08:01 123 ${p}`;
    const openblas = detectBlas(line('/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so'));
    assert.deepEqual([openblas.kind, openblas.variant, openblas.slow], ['openblas', 'openmp', false]);
    const reference = detectBlas(line('/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'));
    assert.deepEqual([reference.kind, reference.slow], ['reference', true]);
    assert.equal(detectBlas(line('/usr/lib/libc.so.6')).kind, 'none');
  });
});
