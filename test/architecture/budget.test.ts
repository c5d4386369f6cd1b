// A budget for complexity (tinygrad keeps its core under a line count in CI): no hand-written file
// passes 600 lines; 400 is the aim. Generated code (native/generated, src/tensor/generated,
// src/export/generated) and data fixtures are not hand-written and are not counted.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const LIMIT = 600;
const SOURCE = new Set(['.ts', '.mts', '.cts', '.mjs', '.js', '.cc', '.h', '.py', '.sh']);
const FOLDERS = ['src', 'native', 'codegen', 'scripts', 'bench', 'examples', 'test', 'bin'];
const SKIP = /(^|\/)(generated|fixtures|node_modules|\.build)(\/|$)/;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (SKIP.test(relative(root, p))) continue;
    if (statSync(p).isDirectory()) yield* files(p);
    else if (SOURCE.has(extname(name))) yield p;
  }
}

test(`no hand-written file passes ${LIMIT} lines`, () => {
  const counted: string[] = [];
  const over: string[] = [];
  for (const folder of FOLDERS) {
    for (const f of files(join(root, folder))) {
      const lines = readFileSync(f, 'utf8').split('\n').length;
      counted.push(f);
      if (lines > LIMIT) over.push(`${relative(root, f)}: ${lines} lines`);
    }
  }
  assert.ok(counted.length > 300, `the walk found the sources (${counted.length} files)`);
  assert.deepEqual(over, [], `split these files where a concern separates (limit ${LIMIT} lines)`);
});
