// Issue #14's segmentation check: a U-Net trained from the command line on generated shapes
// (circles, squares and triangles of random colours on noise; examples/shapes-segmentation.ts)
// reaches a test mean IoU of at least 0.9. One thread, 700 images of 32×32, a U-Net of width 16 and
// depth 3, 20 epochs: about 50 s of CPU time (the slowest test of this folder; the wall time it
// prints grows with the load of the machine).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { shapesTrainArgs, writeShapes } from '../../examples/shapes-segmentation.js';

const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));

test('tessera train <shapes> --task segmentation --model unet reaches a test mean IoU ≥ 0.9', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-shapes-'));
  try {
    const data = join(root, 'shapes');
    await writeShapes(data, { count: 700, size: 32 });
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...shapesTrainArgs(data, { size: 32, epochs: 20, outDir: join(root, 'runs'), name: 'shapes', threads: 1 })], { encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
    const metrics = JSON.parse(readFileSync(join(root, 'runs', 'shapes', 'metrics.json'), 'utf8')) as { test_miou: number; test_samples: number };
    console.log(`shapes: test mean IoU ${(metrics.test_miou * 100).toFixed(2)}% on ${metrics.test_samples} images after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    assert.ok(metrics.test_miou >= 0.9, `test mean IoU ${metrics.test_miou}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
