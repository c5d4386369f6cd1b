// Example 001 (seed article 001: create_cnn((28, 28, 1)) and create_fcn()) on the installed
// Fashion-MNIST, which has MNIST's format and shapes (MNIST itself is not installed), cut short with
// --limit / --test-limit; and on IDX files of the wrong shape written here.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { failedCleanly, idx, printed, runExample, succeeded, tempDir } from './helpers.js';

const FASHION = '/usr/share/datasets/fashion-mnist';

describe('examples/001-mnist-cnn', () => {
  const tmp = tempDir('ex001');
  after(() => tmp.remove());

  it('trains create_cnn on Fashion-MNIST and prints the test accuracy, far above chance', (t) => {
    assert.ok(existsSync(FASHION), 'dataset-fashion-mnist must be installed (scripts/setup.sh does it)');
    const out = succeeded(runExample('001-mnist-cnn', ['--epochs', '1', '--limit', '4000', '--test-limit', '500']));
    assert.match(out, /^model: create_cnn\(\(28, 28, 1\)\), 110,474 parameters$/m); // Keras' model.summary() count for create_cnn
    // create_gan with its two changes: 100·48+48 (generator) + 896 + 18,496 + 73,856 + 129 (discriminator).
    assert.match(out, /^gan: create_gan\(\) made to run, 98,225 parameters; D\(G\(z\)\) for 4 noise vectors has shape \[4\]$/m);
    assert.match(out, /^data: train .*\(4,000 images 28×28×1 in memory, 10 classes\); test: .*\(500 images/m);
    assert.match(out, /^epoch 1\/1: train_loss /m);
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.5, `test accuracy ${accuracy} is not clearly above chance (0.1)`);
  });

  it('--model fcn trains create_fcn instead', (t) => {
    const out = succeeded(runExample('001-mnist-cnn', [FASHION, '--model', 'fcn', '--epochs', '1', '--limit', '3000', '--test-limit', '500']));
    assert.match(out, /^model: create_fcn\(\), 101,770 parameters$/m); // 784·128+128 + 128·10+10
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.5, `test accuracy ${accuracy} is not clearly above chance (0.1)`);
  });

  it('rejects a folder without IDX files, images that are not 28×28 and an unknown --model', () => {
    failedCleanly(runExample('001-mnist-cnn', [tmp.dir]), /has no train-images-idx3-ubyte\.gz or train-labels-idx1-ubyte\.gz/);
    const big = join(tmp.dir, 'big');
    mkdirSync(big);
    for (const [prefix, n] of [['train', 8], ['t10k', 4]] as const) {
      writeFileSync(join(big, `${prefix}-images-idx3-ubyte.gz`), idx([n, 32, 32], new Uint8Array(n * 32 * 32)));
      writeFileSync(join(big, `${prefix}-labels-idx1-ubyte.gz`), idx([n], new Uint8Array(n)));
    }
    failedCleanly(runExample('001-mnist-cnn', [big]), /train images are 32×32; create_cnn\(\(28, 28, 1\)\) needs 28×28/);
    failedCleanly(runExample('001-mnist-cnn', ['--model', 'gan']), /--model must be 'cnn' or 'fcn', got 'gan'/);
  });
});
