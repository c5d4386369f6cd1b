// docs/cli.md and docs/config.md are what the code says: every command and flag as commander
// defines them, every config field with its type, default, flag and the comment above it in the
// schema. A flag or field added, renamed or removed fails here until `npm run gen:docs` is run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { program } from '../../src/cli/main.js';
import { cliReference, commandsOf } from '../../src/cli/reference.js';
import { SHORTHANDS } from '../../src/config/flags.js';
import { configFields, configReference } from '../../src/config/reference.js';

const schemaSource = readFileSync('src/config/schema.ts', 'utf8');
const hint = 'out of date: run `npm run gen:docs` and commit the result';

describe('the reference documents', () => {
  it('docs/cli.md is the commands as defined', () => {
    assert.equal(readFileSync('docs/cli.md', 'utf8'), cliReference(program), `docs/cli.md is ${hint}`);
  });

  it('docs/config.md is the schema as defined', () => {
    assert.equal(readFileSync('docs/config.md', 'utf8'), configReference(schemaSource), `docs/config.md is ${hint}`);
  });

  it('every command and every flag of it is in docs/cli.md', () => {
    const doc = readFileSync('docs/cli.md', 'utf8');
    const commands = commandsOf(program);
    assert.ok(commands.length >= 11, `${commands.length} commands`);
    for (const c of commands) {
      const names = [];
      for (let p: typeof c | null = c; p?.parent; p = p.parent) names.unshift(p.name());
      assert.ok(doc.includes(`\n## tessera ${names.join(' ')}\n`), `tessera ${names.join(' ')} has a section`);
      for (const o of c.options) if (o.long) assert.ok(doc.includes(`\`${o.flags}\``), `${names.join(' ')} ${o.long} is listed`);
    }
  });

  it('every config field has a comment in the schema, and every shorthand flag names a field', () => {
    const fields = configFields(schemaSource);
    for (const f of fields) assert.ok(f.description.length > 0, `${f.path} has a /** comment */ in src/config/schema.ts`);
    const paths = new Set(fields.map((f) => f.path));
    for (const s of SHORTHANDS) assert.ok(paths.has(s.path), `${s.flag} sets ${s.path}, a field of the schema`);
    const train = program.commands.find((c) => c.name() === 'train')!;
    for (const s of SHORTHANDS) assert.ok(train.options.some((o) => o.flags === s.flag), `train has ${s.flag}`);
  });
});
