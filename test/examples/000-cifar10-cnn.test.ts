// Example 000 (seed article 000, Keras CNN on CIFAR-10) on CIFAR-format binary batches written here:
// 3073-byte records (label, then R, G and B planes of 32×32) of four colour classes.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { failedCleanly, noisyImage, printed, rng, runExample, succeeded, tempDir } from './helpers.js';

const CLASSES = 4;

/** `count` CIFAR-10 records of random classes 0..3. */
function cifarBatch(count: number, random: () => number): Buffer {
  const out = Buffer.alloc(count * 3073);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(random() * CLASSES);
    const hwc = noisyImage(k, 32, 32, random);
    const at = i * 3073;
    out[at] = k;
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[at + 1 + c * 1024 + p] = hwc[p * 3 + c] as number; // planes R, G, B
  }
  return out;
}

describe('examples/000-cifar10-cnn', () => {
  const tmp = tempDir('ex000');
  const dir = join(tmp.dir, 'cifar-10-batches-bin');
  before(() => {
    const random = rng(0);
    mkdirSync(dir);
    for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), cifarBatch(60, random));
    writeFileSync(join(dir, 'test_batch.bin'), cifarBatch(120, random));
  });
  after(() => tmp.remove());

  it('trains on the first --limit images and prints the test accuracy, far above chance', (t) => {
    // The folder that holds cifar-10-batches-bin is accepted too, as for the unpacked archive.
    const out = succeeded(runExample('000-cifar10-cnn', [tmp.dir, '--epochs', '2', '--limit', '240']));
    assert.match(out, /^data: 240 samples of CIFAR-10 train .*\(300 images, 10 classes\); test: 120 samples/m);
    assert.match(out, /^epoch 2\/2: train_loss \S+ train_accuracy \S+/m);
    assert.match(out, /^evaluate: loss \d+\.\d{4} - accuracy \d\.\d{4}$/m);
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.6, `test accuracy ${accuracy} is not clearly above chance (${1 / CLASSES})`);
  });

  it('rejects a missing folder and a truncated batch with one sentence', () => {
    failedCleanly(runExample('000-cifar10-cnn', [join(tmp.dir, 'nowhere')]), /nowhere: no CIFAR binary batches here/);
    failedCleanly(runExample('000-cifar10-cnn', [], { CIFAR10_DIR: '' }), /give the CIFAR-10 folder/);
    const bad = join(tmp.dir, 'bad');
    mkdirSync(bad);
    for (let b = 1; b <= 5; b++) writeFileSync(join(bad, `data_batch_${b}.bin`), cifarBatch(2, rng(b)));
    writeFileSync(join(bad, 'test_batch.bin'), cifarBatch(2, rng(9)).subarray(0, 3073 + 100));
    failedCleanly(runExample('000-cifar10-cnn', [bad, '--epochs', '1']), /test_batch\.bin: size 3173 is not a multiple of the 3073-byte CIFAR-10 record/);
    failedCleanly(runExample('000-cifar10-cnn', [dir, '--epochs', '0']), /--epochs must be a positive integer, got '0'/);
  });
});
