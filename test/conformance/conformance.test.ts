// Op conformance against PyTorch: one test per (row, dtype) of the op table, a float64 gradcheck
// per differentiable row that asks for one, and the coverage of every native entry point.
import './trace-env.js'; // first: makes Tessera load the call-recording addon stand-in

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { getNumThreads, memoryStats, runtimeInfo, setNumThreads } from '../../src/index.js';
import { NATIVE_OP_NAMES } from '../../src/tensor/generated/native-names.js';
import { caseId, gradcheck, knownIssueFor, runConformance, tracingActive, type ConformanceRun } from './harness.js';
import { GRADCHECK_MUTANT, MUTANTS } from './mutants.js';
import { EXEMPT, OP_TABLE } from './optable.js';

// One intra-op thread, like the reference: on a busy 2-core machine OpenMP barriers across two
// threads made the tiny kernels here 50x slower (4.5 s instead of 0.09 s for the gradchecks), and
// single-threaded reductions sum in the same order on both sides.
const threads = getNumThreads();
before(() => setNumThreads(1));
after(() => setNumThreads(threads));

let run: ConformanceRun | undefined;
let liveBefore = 0;
let liveAfter = 0;

describe('op conformance vs PyTorch', () => {
  before(() => {
    liveBefore = memoryStats().liveTensors;
    // The mutants ride along in the same reference call (see the self-check below).
    run = runConformance([...OP_TABLE, ...MUTANTS.map((m) => m.row)]);
    liveAfter = memoryStats().liveTensors;
  });

  for (const row of OP_TABLE) {
    for (const dtype of row.dtypes) {
      it(caseId(row, dtype), (t) => {
        const outcome = run?.outcomes.get(caseId(row, dtype));
        assert.ok(outcome, 'the case did not run');
        const issue = knownIssueFor(row, dtype);
        if (issue === undefined) {
          if (outcome.problems.length) assert.fail(outcome.problems.join('\n'));
          return;
        }
        // A known binding defect: the case must still fail, on Tessera's side.
        assert.ok(!outcome.referenceFailed, `the PyTorch reference itself fails, so the row is wrong:\n${outcome.problems.join('\n')}`);
        assert.ok(outcome.problems.length > 0, `known issue no longer reproduces; remove knownIssue from the row: ${issue}`);
        t.diagnostic(`known issue: ${issue}`);
        t.diagnostic(`still failing: ${outcome.problems[0] ?? ''}`);
      });
    }
  }
});

describe('gradcheck (float64 central differences)', () => {
  for (const row of OP_TABLE.filter((r) => r.gradcheck)) {
    it(row.name, () => {
      const problems = gradcheck(row);
      const issue = knownIssueFor(row, 'float64');
      if (issue !== undefined) return; // its conformance case already asserts the defect
      if (problems.length) assert.fail(problems.slice(0, 8).join('\n'));
    });
  }
});

describe('harness self-check: deliberately wrong rows are caught', () => {
  for (const m of MUTANTS) {
    it(m.row.name, () => {
      const dtype = m.row.dtypes[0];
      assert.ok(dtype);
      const outcome = run?.outcomes.get(caseId(m.row, dtype));
      assert.ok(outcome, 'the mutant did not run');
      assert.ok(outcome.problems.some((p) => m.expect.test(p)), `expected a problem matching ${m.expect}, got:\n${outcome.problems.join('\n') || '(none)'}`);
    });
  }
  it(GRADCHECK_MUTANT.name, () => {
    const problems = gradcheck(GRADCHECK_MUTANT);
    assert.ok(problems.some((p) => /analytic .* numeric/.test(p)), `gradcheck accepted a wrong gradient: ${problems.join('; ') || '(no problems)'}`);
  });
});

describe('op table coverage', () => {
  const covered = new Set(OP_TABLE.flatMap((r) => r.covers));

  it('covers every native entry point, or exempts it with a reason', () => {
    const missing = NATIVE_OP_NAMES.filter((n) => !covered.has(n) && !EXEMPT[n]?.trim());
    assert.deepEqual(missing, [], `entry points without a row or an exemption: ${missing.join(', ')}`);
  });

  it('exempts only entry points that exist and that no row covers', () => {
    const known = new Set<string>(NATIVE_OP_NAMES);
    for (const [name, reason] of Object.entries(EXEMPT)) {
      assert.ok(known.has(name), `EXEMPT names '${name}', which is not a native entry point`);
      assert.ok(reason && reason.trim().length > 0, `EXEMPT['${name}'] needs a reason`);
      assert.ok(!covered.has(name as (typeof NATIVE_OP_NAMES)[number]), `'${name}' is both covered and exempt`);
    }
  });

  it('has unique row names and a dtype for every row', () => {
    const names = OP_TABLE.map((r) => r.name);
    assert.equal(new Set(names).size, names.length, 'duplicate row names');
    for (const r of OP_TABLE) assert.ok(r.dtypes.length > 0 && r.covers.length > 0, `${r.name}: no dtypes or no covers`);
  });

  it('records native calls, so "covers" is checked against what each row really calls', () => {
    assert.ok(tracingActive(), 'the recording addon stand-in is not loaded: import ./trace-env.js first');
  });

  it('calls every covered entry point in at least one passing case', () => {
    assert.ok(run, 'the conformance run did not happen');
    const called = new Set<string>();
    for (const o of run.outcomes.values()) if (o.problems.length === 0) for (const c of o.calls ?? []) called.add(c);
    const never = [...covered].filter((n) => !called.has(n) && !OP_TABLE.some((r) => r.covers.includes(n) && r.knownIssue !== undefined));
    assert.deepEqual(never, [], `covered but never called by a passing case: ${never.join(', ')}`);
  });

  it('leaks no tensor handles', () => {
    assert.equal(liveAfter, liveBefore, `live tensors: ${liveBefore} before the run, ${liveAfter} after`);
  });

  it('compares against a PyTorch of the same LibTorch version', (t) => {
    assert.ok(run);
    const ours = runtimeInfo().libtorch.version;
    t.diagnostic(`LibTorch ${ours}, torch ${run.torch}; Tessera ${run.seconds.tessera.toFixed(2)} s, reference ${run.seconds.reference.toFixed(2)} s, ${run.outcomes.size} cases, ${run.gradCases} with gradients`);
    assert.notEqual(run.torch, 'unavailable', 'the PyTorch reference could not run (apt-get install python3-torch)');
    const majorMinor = (v: string) => v.split('.').slice(0, 2).join('.');
    assert.equal(majorMinor(run.torch), majorMinor(ours), 'random rows compare exactly only against the same LibTorch');
  });
});
