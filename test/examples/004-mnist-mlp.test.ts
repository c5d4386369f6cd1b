// Example 004 (seed article 004: the PyTorch MLP 784-500-10 and its hand-written SGD loop) on the
// installed Fashion-MNIST (MNIST's format and shapes; MNIST itself is not installed), cut short with
// --limit / --test-limit.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { failedCleanly, idx, printed, runExample, succeeded, tempDir } from './helpers.js';

describe('examples/004-mnist-mlp', () => {
  const tmp = tempDir('ex004');
  after(() => tmp.remove());

  it('runs the loop, the mean loss falls, and the test accuracy is far above chance', (t) => {
    assert.ok(existsSync('/usr/share/datasets/fashion-mnist'), 'dataset-fashion-mnist must be installed (scripts/setup.sh does it)');
    const out = succeeded(runExample('004-mnist-mlp', ['--epochs', '2', '--limit', '6000', '--test-limit', '1000']));
    const losses = [...out.matchAll(/^epoch (\d)\/2: mean loss (\d+\.\d{4})$/gm)].map((m) => Number(m[2]));
    assert.equal(losses.length, 2, out);
    assert.ok((losses[1] as number) < (losses[0] as number), `the loss did not fall: ${losses.join(' → ')}`);
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`losses ${losses.join(' → ')}, test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.5, `test accuracy ${accuracy} is not clearly above chance (0.1)`);
  });

  it('repeats itself exactly under the same --seed, and not under another', () => {
    const args = ['--epochs', '1', '--limit', '2000', '--test-limit', '500'];
    const a = succeeded(runExample('004-mnist-mlp', args));
    const b = succeeded(runExample('004-mnist-mlp', args));
    const c = succeeded(runExample('004-mnist-mlp', [...args, '--seed', '1']));
    const result = (out: string) => out.split('\n').filter((l) => /^(epoch|Test accuracy)/.test(l)).join('\n');
    assert.equal(result(a), result(b));
    assert.notEqual(result(a), result(c));
  });

  it('rejects a folder without IDX files, images without 784 pixels and a bad --batch-size', () => {
    failedCleanly(runExample('004-mnist-mlp', [tmp.dir]), /has no train-images-idx3-ubyte\.gz or train-labels-idx1-ubyte\.gz/);
    const small = join(tmp.dir, 'small');
    mkdirSync(small);
    for (const [prefix, n] of [['train', 8], ['t10k', 4]] as const) {
      writeFileSync(join(small, `${prefix}-images-idx3-ubyte.gz`), idx([n, 20, 20], new Uint8Array(n * 400)));
      writeFileSync(join(small, `${prefix}-labels-idx1-ubyte.gz`), idx([n], new Uint8Array(n)));
    }
    failedCleanly(runExample('004-mnist-mlp', [small]), /train images are 20×20; fc1 = Linear\(784, 500\) needs 28×28 = 784 pixels/);
    failedCleanly(runExample('004-mnist-mlp', ['--batch-size=-3']), /--batch-size must be a positive integer, got '-3'/);
    failedCleanly(runExample('004-mnist-mlp', ['--bogus', '1']), /^004-mnist-mlp: Unknown option '--bogus'\.\nusage: /);
  });
});
