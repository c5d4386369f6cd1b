import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { bindOps, camelCase, readAllowlist } from '../../codegen/model.js';
import { parseSchema } from '../../codegen/schema.js';

describe('codegen: schema parsing', () => {
  it('parses arguments, defaults, keyword-only markers and tuple returns', () => {
    const s = parseSchema('max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)', 'function, method');
    assert.equal(s.name, 'max');
    assert.equal(s.overload, 'dim');
    assert.deepEqual(s.args.map((a) => [a.name, a.type, a.default ?? null, a.kwOnly]), [
      ['self', 'Tensor', null, false],
      ['dim', 'int', null, false],
      ['keepdim', 'bool', 'False', false],
    ]);
    assert.equal(s.tupleReturn, true);
    assert.deepEqual(s.returns.map((r) => r.type), ['Tensor', 'Tensor']);
    assert.deepEqual(s.variants, { function: true, method: true });
  });

  it('keeps defaults containing commas and strips alias annotations', () => {
    const s = parseSchema('add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)', 'method');
    assert.equal(s.args[0]?.mutated, true);
    assert.equal(s.args[2]?.kwOnly, true);
    assert.equal(s.returns[0]?.mutated, true);
    const p = parseSchema('foo(Tensor self, int[2] padding=[0, 0], str mode="constant") -> Tensor');
    assert.equal(p.args[1]?.default, '[0, 0]');
    assert.equal(p.args[2]?.default, '"constant"');
    const v = parseSchema('retain_grad(Tensor(a!) self) -> ()');
    assert.deepEqual(v.returns, []);
  });

  it('camelCases names and keeps the in-place underscore', () => {
    assert.equal(camelCase('log_softmax'), 'logSoftmax');
    assert.equal(camelCase('masked_fill_'), 'maskedFill_');
    assert.equal(camelCase('add'), 'add');
  });
});

describe('codegen: allowlist', () => {
  const schemas = new Map([
    ['relu', parseSchema('relu(Tensor self) -> Tensor', 'function, method')],
    ['weird', parseSchema('weird(Tensor self, Dimname d) -> Tensor')],
    ['var', parseSchema('var(Tensor self) -> Tensor')],
  ]);
  const allow = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'allow-'));
    writeFileSync(join(dir, 'allowlist.txt'), text);
    return readAllowlist(join(dir, 'allowlist.txt'));
  };

  it('binds listed ops and reports every problem with its line', () => {
    assert.equal(bindOps(schemas, allow('# comment\nrelu\n'), 'a.txt')[0]?.jsName, 'relu');
    assert.throws(
      () => bindOps(schemas, allow('relu\nnope\nweird\nvar\nrelu\n'), 'a.txt'),
      (e: Error) =>
        /a\.txt:2: 'nope' is not in native_functions\.yaml/.test(e.message) &&
        /a\.txt:3: weird: argument 'd' has unsupported type 'Dimname'/.test(e.message) &&
        /a\.txt:4: 'var' is a reserved word/.test(e.message) &&
        /a\.txt:5: 'relu' is listed twice/.test(e.message),
    );
  });

  it('renames with `as`', () => {
    assert.equal(bindOps(schemas, allow('var as variance\n'), 'a.txt')[0]?.jsName, 'variance');
  });
});
