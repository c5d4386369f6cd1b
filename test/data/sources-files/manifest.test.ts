import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CsvError, parseCsv } from '../../../src/data/sources/csv.js';
import { manifest } from '../../../src/data/sources/manifest.js';
import { DataError } from '../../../src/data/types.js';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return dir;
}

/** Asserts that `p` rejects with a DataError whose message matches `re`. */
async function rejectsWith(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('RFC 4180 CSV reader', () => {
  it('handles quotes, doubled quotes, commas and line breaks in fields, CRLF and a BOM', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""",plain\r\n"two\nlines",,"last"\n\n3,4,5';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'plain'] },
      { line: 3, fields: ['two\nlines', '', 'last'] },
      { line: 6, fields: ['3', '4', '5'] },
    ]);
  });

  it('names the line of malformed quoting', () => {
    assert.throws(() => parseCsv('a,b\n1,"open\n2,3\n', 'm.csv'), (e: unknown) => e instanceof CsvError && e.line === 2 && /unterminated quoted field/.test(e.message));
    assert.throws(() => parseCsv('a,b\n1,x"y\n', 'm.csv'), /^CsvError: m\.csv:2: quote inside an unquoted field .*character 4/);
    assert.throws(() => parseCsv('a,b\n"x"y,1\n', 'm.csv'), /m\.csv:2: text after a closing quote/);
  });
});

describe('manifest', () => {
  it('reads a CSV manifest: paths relative to it, classes sorted, groups, quoted paths', async () => {
    const dir = dirWith({
      'data/m.csv': 'path,label,group\nimgs/a.png,dog,p1\n"imgs/b, c.png",cat,p2\nimgs/d.png,dog,\n',
      'data/imgs/a.png': 'A',
    });
    const ds = await manifest(join(dir, 'data/m.csv'));
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    assert.deepEqual([...ds.labels()], [1, 0, 1]);
    assert.deepEqual(ds.paths, [join(dir, 'data/imgs/a.png'), join(dir, 'data/imgs/b, c.png'), join(dir, 'data/imgs/d.png')]);
    assert.deepEqual(ds.groups?.(), ['p1', 'p2', undefined]);
    assert.deepEqual(ds.lines, [2, 3, 4]);
    const rec = await ds.read(0);
    assert.equal(rec.group, 'p1');
    assert.equal(rec.label, 1);
    assert.equal(rec.input.kind === 'encoded' && Buffer.from(rec.input.bytes).toString(), 'A');
    await rejectsWith(ds.read(1), /b, c\.png: cannot read \(ENOENT\), listed at .*m\.csv:3$/);
    assert.match(ds.describe(), /^manifest .*m\.csv \(2 classes, 3 files\)$/);
  });

  it('picks a split; label indices agree across splits', async () => {
    const dir = dirWith({
      'm.jsonl': [
        '{"path":"t1.png","label":"zebra","split":"train"}',
        '{"path":"v1.png","label":"ant","split":"val"}',
        '',
        '{"path":"t2.png","label":"ant","split":"train"}',
        '{"path":"x1.png","label":"moth","split":"test"}',
      ].join('\n'),
    });
    const train = await manifest(join(dir, 'm.jsonl'), { split: 'train' });
    const test = await manifest(join(dir, 'm.jsonl'), { split: 'test' });
    assert.deepEqual(train.classes, ['ant', 'moth', 'zebra']);
    assert.deepEqual(test.classes, train.classes);
    assert.deepEqual([...train.labels()], [2, 0]);
    assert.deepEqual([...test.labels()], [1]);
    assert.deepEqual(train.lines, [1, 4]);
    assert.deepEqual(train.splitNames, ['test', 'train', 'val']);
    const all = await manifest(join(dir, 'm.jsonl'));
    assert.deepEqual(all.splits(), ['train', 'val', 'train', 'test']);
    await rejectsWith(manifest(join(dir, 'm.jsonl'), { split: 'holdout' }), /no rows in split "holdout" \(splits: test, train, val\)/);
  });

  it('accepts custom column names, explicit classes and integer labels', async () => {
    const dir = dirWith({
      'a.csv': 'file,y,fold\nx.png,1,a\ny.png,0,b\n',
      'b.jsonl': '{"path":"x.png","label":2}\n{"path":"y.png","label":"0"}\n',
      'c.csv': 'path,label\nx.png,b\ny.png,a\n',
    });
    const a = await manifest(join(dir, 'a.csv'), { columns: { path: 'file', label: 'y', split: 'fold' }, labelType: 'index', split: 'a' });
    assert.deepEqual([...a.labels()], [1]);
    assert.deepEqual(a.classes, ['0', '1']);
    const b = await manifest(join(dir, 'b.jsonl'), { labelType: 'index', classes: ['bg', 'cat', 'dog'] });
    assert.deepEqual([...b.labels()], [2, 0]);
    assert.deepEqual(b.classes, ['bg', 'cat', 'dog']);
    const c = await manifest(join(dir, 'c.csv'), { classes: ['b', 'a'] });
    assert.deepEqual([...c.labels()], [0, 1]);
  });

  it('names file:line and column for every error', async () => {
    const dir = dirWith({
      'nocol.csv': 'file,label\nx.png,a\n',
      'emptypath.csv': 'path,label\nx.png,a\n"",b\n',
      'width.csv': 'path,label\nx.png,a,extra\n',
      'badjson.jsonl': '{"path":"x.png","label":"a"}\n{"path": "y.png", label: "b"}\n',
      'nofield.jsonl': '{"path":"x.png","label":"a"}\n{"label":"b"}\n',
      'array.jsonl': '["x.png","a"]\n',
      'numlabel.jsonl': '{"path":"x.png","label":3}\n',
      'badindex.csv': 'path,label\nx.png,1\ny.png,-1\n',
      'm.txt': 'path,label\n',
      'header-only.csv': 'path,label\n',
    });
    const at = (f: string) => join(dir, f).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await rejectsWith(manifest(join(dir, 'nocol.csv')), new RegExp(`^${at('nocol.csv')}:1: no column "path" in the header \\(columns: file, label\\)$`));
    await rejectsWith(manifest(join(dir, 'emptypath.csv')), new RegExp(`^${at('emptypath.csv')}:3: column "path": empty path$`));
    await rejectsWith(manifest(join(dir, 'width.csv')), new RegExp(`^${at('width.csv')}:2: 3 field\\(s\\), but the header has 2`));
    await rejectsWith(manifest(join(dir, 'badjson.jsonl')), new RegExp(`^${at('badjson.jsonl')}:2: bad JSON`));
    await rejectsWith(manifest(join(dir, 'nofield.jsonl')), new RegExp(`^${at('nofield.jsonl')}:2: missing field "path"$`));
    await rejectsWith(manifest(join(dir, 'array.jsonl')), /array\.jsonl:1: each line must be a JSON object/);
    await rejectsWith(manifest(join(dir, 'numlabel.jsonl')), /numlabel\.jsonl:1: column "label": label 3 is a number; pass labelType: 'index'/);
    await rejectsWith(manifest(join(dir, 'badindex.csv'), { labelType: 'index' }), /badindex\.csv:3: column "label": label "-1" is not a non-negative integer/);
    await rejectsWith(manifest(join(dir, 'badindex.csv'), { labelType: 'index', classes: ['only'] }), /badindex\.csv:2: column "label": label 1 is out of range for 1 classes/);
    await rejectsWith(manifest(join(dir, 'emptypath.csv'), { classes: ['a'] }), /emptypath\.csv:3: column "path": empty path/);
    await rejectsWith(manifest(join(dir, 'nocol.csv'), { columns: { path: 'file' }, classes: ['b'] }), /nocol\.csv:2: column "label": unknown label "a" \(classes: b\)/);
    await rejectsWith(manifest(join(dir, 'm.txt')), /cannot tell the manifest format from "\.txt"/);
    await rejectsWith(manifest(join(dir, 'header-only.csv')), /lists no samples/);
    await rejectsWith(manifest(join(dir, 'missing.csv')), /missing\.csv: no such manifest file$/);
    await rejectsWith(manifest(join(dir, 'nocol.csv'), { columns: { path: 'file' }, split: 'train' }), /split "train" was asked for, but the manifest has no "split" column/);
  });
});
