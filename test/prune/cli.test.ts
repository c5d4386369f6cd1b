// `tessera prune <run>` on a trained fashion-net (Fashion-MNIST subset, test/export/trained-run.ts):
// structured pruning with fine-tuning gives a new run that is smaller in parameters and
// multiply-adds and that eval, export and export --quantize take as any run; global magnitude
// pruning zeroes round(amount · n) conv/linear weights and keeps the shapes; the report holds
// the before/after figures; bad flags are one sentence and leave no directory.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { io } from '../../src/index.js';
import type { PruneReport } from '../../src/prune/run.js';
import { fashionSubset, tessera, trainRun } from '../export/trained-run.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-prune-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tessera prune', () => {
  let data: string;
  let run: string;
  const runs = join(dir, 'runs');

  before(() => {
    data = fashionSubset(join(dir, 'fashion-1500'), 1500);
    run = trainRun(data, runs, 'fn', 'fashion-net');
  });

  it('--structured --finetune-epochs 1: a smaller run that eval, export and export --quantize take', () => {
    const r = tessera('prune', run, '--amount', '0.5', '--structured', '--finetune-epochs', '1', '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    const pruned = join(runs, 'fn-pruned');
    assert.match(r.stdout, new RegExp(`^wrote ${pruned.replace(/[.]/g, '\\.')} \\(50% of the channels of 5 groups removed\\)$`, 'm'));
    assert.match(r.stdout, /^parameters +463\.6 k +116\.6 k +0\.25×$/m);
    assert.match(r.stdout, /^multiply-adds \/ image +36\.35 M +9\.15 M +0\.25×$/m);
    assert.match(r.stdout, /^latency, batch 1 +[\d.]+ ms +[\d.]+ ms +[\d.]+× (faster|slower) \(Tessera, 1 thread, median of 20\)$/m);
    assert.match(r.stdout, /^top-1 accuracy +[\d.]+% +[\d.]+% +[−+][\d.]+ points on the validation split \(150 images\)$/m);
    assert.match(r.stdout, /^[\d.]+% right after pruning; fine-tuned 1 epoch at lr 0\.01$/m);
    assert.deepEqual(readdirSync(pruned).sort(), ['config.json', 'model.json', 'model.safetensors', 'prune.json', 'splits.json']);
    const report = JSON.parse(readFileSync(join(pruned, 'prune.json'), 'utf8')) as PruneReport;
    assert.equal(report.method, 'channels');
    assert.equal(report.finetune?.history.length, 1);
    assert.ok(report.after.multiplyAdds < 0.3 * report.before.multiplyAdds);
    assert.ok(report.after.accuracy >= report.prunedAccuracy - 0.05, `fine-tuning does not lose much: ${report.prunedAccuracy} → ${report.after.accuracy}`);
    const saved = (JSON.parse(readFileSync(join(pruned, 'model.json'), 'utf8')) as { model: { shapes: Record<string, number[]>; testFlip?: boolean } }).model;
    assert.equal(saved.testFlip, true, 'the pruned run keeps the test-time flip its source trained for');
    const shapes = saved.shapes;
    assert.deepEqual(shapes['stage1.1.weight'], [32, 16, 3, 3]);
    assert.deepEqual(shapes['head.1.weight'], [10, 64]);

    let x = tessera('eval', pruned, '--threads', '1');
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /^on the test split held out of the training source .*\n150 images: accuracy/);
    x = tessera('export', pruned);
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /ONNX Runtime matches Tessera at batch 1 and 7/);
    x = tessera('export', pruned, '--quantize', 'int8', '--calibrate', data, '--calibration-samples', '128', '--threads', '1', '--max-accuracy-drop', '1');
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /runs the int8 file as 14 QLinearConv/); // the model twice: the test-time flip
  });

  it('global magnitude: round(amount · n) conv and linear weights zeroed, shapes kept, the next free name', () => {
    const r = tessera('prune', run, '--amount', '0.6', '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PruneReport;
    assert.equal(report.dir, join(runs, 'fn-pruned-2'));
    assert.equal(report.method, 'global-magnitude');
    assert.equal(report.finetune, null);
    assert.equal(report.after.parameters, report.before.parameters);
    assert.equal(report.after.multiplyAdds, report.before.multiplyAdds);
    const weights = io.loadStateDictFile(join(report.dir, 'model.safetensors'));
    let total = 0;
    let zeros = 0;
    for (const t of weights.values()) {
      if (t.ndim < 2) continue; // conv (4-d) and linear (2-d) weights; batch norms are 1-d
      const v = t.data() as Float32Array;
      total += v.length;
      zeros += v.reduce((n, w) => n + (w === 0 ? 1 : 0), 0);
    }
    // stem 32·9, stage 1 64·32·9 + 2·64·64·9, stage 2 128·64·9 + 2·128·128·9, head 10·128
    assert.equal(total, 288 + 18_432 + 73_728 + 73_728 + 294_912 + 1_280);
    assert.equal(zeros, Math.round(0.6 * total));
    assert.equal(report.before.nonzeroParameters - report.after.nonzeroParameters, zeros);
    assert.equal((JSON.parse(readFileSync(join(report.dir, 'model.json'), 'utf8')) as { model: { shapes?: unknown } }).model.shapes, undefined);
  });

  it('global magnitude with --finetune-epochs 1: the weights pruned stay zero through fine-tuning, the others move', () => {
    const r = tessera('prune', run, '--amount', '0.5', '--finetune-epochs', '1', '--finetune-lr', '0.005', '--threads', '1', '--json', '--name', 'fn-masked-tuned');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PruneReport;
    assert.equal(report.method, 'global-magnitude');
    assert.equal(report.finetune?.epochs, 1);
    assert.equal(report.finetune?.lr, 0.005);
    assert.equal(report.finetune?.history.length, 1);
    const source = io.loadStateDictFile(join(run, 'model.safetensors'));
    const tuned = io.loadStateDictFile(join(report.dir, 'model.safetensors'));
    let total = 0;
    let zeros = 0;
    let moved = 0;
    for (const [key, t] of tuned) {
      if (t.ndim < 2) continue; // conv and linear weights only
      const v = t.data() as Float32Array;
      const v0 = (source.get(key) as typeof t).data() as Float32Array;
      total += v.length;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === 0) zeros++;
        else if (v[i] !== v0[i]) moved++;
      }
    }
    // Masks applied after every step: exactly half the weights end at zero (a trained weight that
    // lands on 0.0 exactly by chance would make this one more; not seen in float32 SGD steps).
    assert.equal(zeros, Math.round(0.5 * total));
    assert.ok(moved > 0.9 * (total - zeros), `fine-tuning trained the kept weights: ${moved} of ${total - zeros} moved`);
    assert.equal(report.after.nonzeroParameters, report.before.nonzeroParameters - zeros);
  });

  it('bad input: one sentence naming the flag or path, a non-zero exit, no new directory', () => {
    const before = readdirSync(runs).sort();
    const cases: [string[], RegExp][] = [
      [['prune', run], /required option '--amount <x>' not specified/],
      [['prune', run, '--amount', '0'], /--amount must be a number between 0 and 1 \(exclusive\)/],
      [['prune', run, '--amount', '1.5'], /--amount must be a number between 0 and 1 \(exclusive\)/],
      [['prune', run, '--amount', '0.5', '--finetune-lr', '0.01'], /--finetune-lr goes with --finetune-epochs/],
      [['prune', run, '--amount', '0.5', '--finetune-epochs', '1.5'], /--finetune-epochs must be an integer from 0 to 10000/],
      [['prune', run, '--amount', '0.5', '--name', 'fn-pruned'], /fn-pruned already exists; choose another --name/],
      [['prune', run, '--amount', '0.5', '--name', '../escape'], /--name must be a directory name/],
      [['prune', join(dir, 'nowhere'), '--amount', '0.5'], /no trained model at .*nowhere: expected .*model\.json/],
    ];
    for (const [args, message] of cases) {
      const r = tessera(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.deepEqual(readdirSync(runs).sort(), before);
    assert.ok(!existsSync(join(dir, 'escape')));
  });
});
