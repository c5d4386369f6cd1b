// The corrupt corpus (zero-byte, random bytes, truncated JPEG/PNG, text named .png, next to CMYK,
// 16-bit, palette, grey+alpha, animated GIF, EXIF-rotated and 1×1 images) through a whole training
// run: no crash, every bad file reported by path, every good one used.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { resolveConfig } from '../../src/config/load.js';
import { escapeHtml } from '../../src/report/escape.js';
import { runTraining } from '../../src/run/train.js';
import { writeCorruptCorpus } from '../data/fixtures/corpus.js';

test('a training run over the corrupt corpus skips and reports every bad file, and finishes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-corpus-run-'));
  const corpus = await writeCorruptCorpus(join(root, 'corpus'));
  const bad = corpus.files.filter((f) => f.expect === 'bad');
  assert.ok(bad.length >= 4, 'the corpus has bad files');
  const lines: string[] = [];
  const config = resolveConfig({
    overrides: [
      ['data.source', JSON.stringify(corpus.root)],
      ['data.imageSize', '[16,16]'],
      ['data.channels', '3'],
      ['data.valSplit', '0'],
      ['data.testSplit', '0'],
      ['model.name', 'mlp'],
      ['train.epochs', '2'],
      ['train.batchSize', '4'],
      ['train.threads', '1'],
      ['outDir', JSON.stringify(join(root, 'runs'))],
      ['name', '"corpus"'],
    ],
  });
  const summary = await runTraining(config, { log: (l) => lines.push(l), progressStream: Object.assign({ write: () => true }, { isTTY: false }) as unknown as NodeJS.WritableStream });
  assert.ok(existsSync(join(summary.dir, 'model.safetensors')), 'the run finished and saved its model');
  const warnings = lines.filter((l) => l.startsWith('warning: skipping bad sample'));
  for (const f of bad) {
    const path = join(corpus.root, f.path);
    assert.ok(warnings.some((w) => w.includes(path)), `${f.path} (${f.reason}) is reported: ${warnings.join('\n')}`);
  }
  for (const f of corpus.files.filter((x) => x.expect === 'good'))
    assert.ok(!warnings.some((w) => w.includes(join(corpus.root, f.path) + ' ')), `${f.path} is a good file and is not reported`);
  // The skipped files, with their reasons, reach report.json, metrics.json and the page itself.
  type Skipped = { id: string; reason: string; split: string };
  const report = JSON.parse(readFileSync(join(summary.dir, 'report.json'), 'utf8')) as { skipped?: Skipped[] };
  const metrics = JSON.parse(readFileSync(join(summary.dir, 'metrics.json'), 'utf8')) as { skipped_files: Skipped[] };
  const html = readFileSync(join(summary.dir, 'report.html'), 'utf8');
  for (const f of bad) {
    const path = join(corpus.root, f.path);
    for (const [where, list] of [['report.json', report.skipped ?? []], ['metrics.json', metrics.skipped_files]] as const)
      assert.ok(list.some((s) => s.id === path && s.reason.length > 0 && s.split === 'train'), `${f.path} is listed in ${where}`);
    assert.ok(html.includes(escapeHtml(path)), `${f.path} is listed in report.html`);
  }
  assert.equal(metrics.skipped_files.length, report.skipped?.length);
});
