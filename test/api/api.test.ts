// The public API is a deliberate list. Every name `import … from 'tessera'` reaches, with its kind,
// is in test/api/public-api.txt; a change to the surface (a new export, a rename, an internal that
// leaks) fails here until the list is rewritten with `node scripts/public-api.mjs --write` and the
// change reviewed. Also: the examples use the package as a user does — `import … from 'tessera'`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the public API is exactly test/api/public-api.txt', async () => {
  const { publicApi, SNAPSHOT } = (await import(join(root, 'scripts', 'public-api.mjs'))) as { publicApi(): string; SNAPSHOT: string };
  const want = readFileSync(SNAPSHOT, 'utf8').split('\n').filter(Boolean);
  const got = publicApi().split('\n').filter(Boolean);
  const added = got.filter((l) => !want.includes(l));
  const removed = want.filter((l) => !got.includes(l));
  assert.deepEqual(
    { added, removed },
    { added: [], removed: [] },
    'the public API changed; if that is deliberate, run `node scripts/public-api.mjs --write` and commit test/api/public-api.txt',
  );
});

test('internals stay out of the public API', async () => {
  const api = readFileSync(join(root, 'test', 'api', 'public-api.txt'), 'utf8');
  // Names the architecture issue found exported by accident; each is an implementation detail.
  for (const internal of ['report.escapeHtml', 'io.writeFileAtomic', 'io.mapFile', 'data.RngPurpose', 'data.isTensorBacked', 'data.doctor.phashHex', 'train.fingerprintOf'])
    assert.ok(!api.includes(`\n${internal}:`), `${internal} is internal`);
});

/** Module specifiers imported by a TypeScript file (static imports and re-exports). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
}

test("the examples import Tessera only as 'tessera' (public names), besides Node's modules and their own helper", () => {
  const dir = join(root, 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 6, 'the examples are there');
  for (const f of files) {
    const specifiers = importsOf(readFileSync(join(dir, f), 'utf8'));
    assert.ok(specifiers.length > 0, `${f} imports something`);
    for (const s of specifiers) assert.ok(s === 'tessera' || s.startsWith('node:') || /^\.\/[\w-]+\.js$/.test(s), `${f} imports '${s}': examples use the package as a user does (import … from 'tessera')`);
  }
});
