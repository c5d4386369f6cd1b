#!/usr/bin/env node
// Writes docs/cli.md (every command and flag) and docs/config.md (every run-config field) from the
// code that defines them; `--check` exits 1 when a file differs (the tests check the same).
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { program } = await import(new URL('dist/src/cli/main.js', root).href);
const { cliReference } = await import(new URL('dist/src/cli/reference.js', root).href);
const { configReference } = await import(new URL('dist/src/config/reference.js', root).href);

const files = {
  'docs/cli.md': cliReference(program),
  'docs/config.md': configReference(readFileSync(new URL('src/config/schema.ts', root), 'utf8')),
};
let stale = 0;
for (const [file, text] of Object.entries(files)) {
  const url = new URL(file, root);
  let current = '';
  try {
    current = readFileSync(url, 'utf8');
  } catch {}
  if (current === text) continue;
  if (process.argv.includes('--check')) {
    console.error(`${file} is out of date: run npm run gen:docs`);
    stale++;
  } else {
    writeFileSync(url, text);
    console.log(`wrote ${file}`);
  }
}
process.exitCode = stale ? 1 : 0;
