import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import type { DoctorReport } from '../../../src/data/doctor/report.js';
import { SOURCE_FORMS } from '../../../src/data/pipeline/source.js';
import { type CorruptCorpus, smoothImage, writeCorruptCorpus } from '../fixtures/corpus.js';

const bin = fileURLToPath(new URL('../../../../bin/tessera.js', import.meta.url));
const tessera = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*:\d+/);

async function cleanFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-clean-'));
  for (const [k, cls] of ['ant', 'bee', 'bee'].entries()) {
    mkdirSync(join(dir, cls), { recursive: true });
    writeFileSync(join(dir, cls, `${k}.png`), await sharp(smoothImage(300 + k, 64, 64), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
  }
  return dir;
}

describe('tessera data check', () => {
  let corpus: CorruptCorpus;
  before(async () => {
    corpus = await writeCorruptCorpus(mkdtempSync(join(tmpdir(), 'cli-corpus-')));
  });

  it('exits 1 on the corpus and lists every bad file with its reason', () => {
    const r = tessera('data', 'check', corpus.root, '--no-progress');
    assert.equal(r.status, 1, r.stderr);
    for (const f of corpus.files.filter((x) => x.expect === 'bad')) {
      assert.match(r.stdout, new RegExp(`${f.path.replace('.', '\\.')}\\s+ERROR ${f.reason}`), `${f.path} missing from:\n${r.stdout}`);
    }
    assert.match(r.stdout, /5 error\(s\), 2 warning\(s\)/);
    assert.match(r.stdout, /EXIF-rotated 7/);
  });

  it('--json prints the report and --out writes the same report', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cli-out-')), 'report.json');
    const r = tessera('data', 'check', corpus.root, '--json', '--out', out);
    assert.equal(r.status, 1, r.stderr);
    const printed = JSON.parse(r.stdout) as DoctorReport;
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), printed);
    assert.equal(printed.errors, 5);
    assert.equal(printed.files, corpus.files.length);
  });

  it('exits 0 on a clean folder and on a clean manifest', async () => {
    const dir = await cleanFolder();
    const r = tessera('data', 'check', dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 files, .*: clean/);
    writeFileSync(join(dir, 'm.jsonl'), '{"path":"ant/0.png","label":"ant"}\n{"path":"bee/1.png","label":"bee"}\n');
    assert.equal(tessera('data', 'check', join(dir, 'm.jsonl')).status, 0);
  });

  it('exits 1 on leakage against --test', async () => {
    const dir = await cleanFolder();
    const test = mkdtempSync(join(tmpdir(), 'cli-test-'));
    mkdirSync(join(test, 'bee'));
    writeFileSync(join(test, 'bee', 'again.png'), readFileSync(join(dir, 'bee', '1.png')));
    const r = tessera('data', 'check', dir, '--test', test);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /leakage: 1 duplicate pair/);
  });

  it('exits 2 with one clear sentence on usage errors and a missing path', () => {
    const missing = tessera('data', 'check', '/no/such/folder');
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trim(), `tessera: the data set /no/such/folder does not exist (give ${SOURCE_FORMS}).`);
    assert.equal(missing.stdout, '');
    const noArg = tessera('data', 'check');
    assert.equal(noArg.status, 2);
    assert.match(noArg.stderr, /missing required argument 'source'/);
    const badOpt = tessera('data', 'check', corpus.root, '--near-distance', 'far');
    assert.equal(badOpt.status, 2);
    assert.match(badOpt.stderr, /--near-distance must be an integer/);
    const badManifest = join(mkdtempSync(join(tmpdir(), 'cli-bad-')), 'm.csv');
    writeFileSync(badManifest, 'file,label\nx.png,a\n');
    const bad = tessera('data', 'check', badManifest);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^tessera: .*m\.csv:1: no column "path" in the header/);
    for (const r of [missing, noArg, badOpt, bad]) noStack(r.stderr);
  });
});
