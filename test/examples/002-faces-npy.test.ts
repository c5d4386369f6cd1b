// Example 002 (seed article 002, faces from faces.npy + labels.npy) on arrays written by NumPy, as
// the article's np.load would read them: 250 colour images of 72×80 (so the resize is real) in
// five colour classes, uint8 NHWC, labels int64.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CLASS_COLOURS, failedCleanly, printed, runExample, succeeded, tempDir } from './helpers.js';

/** Runs NumPy: `code` sees `out` (the folder), `np`, and `colours` (the five class colours). */
function numpy(out: string, code: string): void {
  const script = `import numpy as np, sys, json\nout = sys.argv[1]\ncolours = np.array(json.loads(sys.argv[2]), dtype=np.float32)\nrng = np.random.default_rng(0)\n${code}`;
  execFileSync('/usr/bin/python3', ['-c', script, out, JSON.stringify(CLASS_COLOURS.slice(0, 5))], { stdio: 'pipe' });
}

const FACES = `
n = 250
y = rng.integers(0, 5, n)
x = colours[y][:, None, None, :] + rng.uniform(-70, 70, (n, 72, 80, 3))
np.save(out + '/faces.npy', np.clip(np.rint(x), 0, 255).astype(np.uint8))
np.save(out + '/labels.npy', y.astype(np.int64))
`;

describe('examples/002-faces-npy', () => {
  const tmp = tempDir('ex002');
  const good = join(tmp.dir, 'good');
  before(() => {
    mkdirSync(good);
    numpy(good, FACES);
  });
  after(() => tmp.remove());

  it('splits 80/20, trains with validation and prints the test loss and accuracy, far above chance', (t) => {
    const out = succeeded(runExample('002-faces-npy', [good, '--epochs', '2']));
    // int(0.8 × 250) = 200 training images, the other 50 for testing.
    assert.match(out, /^data: NumPy arrays .*\(250 images 72×80×3, 5 classes; .*\); train 200, test 50$/m);
    assert.match(out, /^model: seedFacesCnn, /m);
    assert.match(out, /^epoch 2\/2: train_loss \S+ train_accuracy \S+ lr \S+ val_loss \S+ val_accuracy \S+/m); // validation_data
    const accuracy = printed(out, /^Test Loss: \d+\.\d{4}, Test Accuracy: (\d\.\d{4})$/m);
    t.diagnostic(`test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.6, `test accuracy ${accuracy} is not clearly above chance (0.2)`);
  });

  it('reads faces.npy and labels.npy from the working directory by default; --limit cuts the training split', () => {
    const out = succeeded(runExample('002-faces-npy', ['--epochs', '1', '--limit', '40', '--test-limit', '20'], { FACES_DIR: '' }, good));
    assert.match(out, /; train 40, test 20$/m);
    assert.match(out, /^Test Loss: \d+\.\d{4}, Test Accuracy: \d\.\d{4}$/m);
  });

  it('rejects missing files, grey images, labels outside the five classes and mismatched counts', () => {
    failedCleanly(runExample('002-faces-npy', [tmp.dir]), /no faces\.npy in .* \(the program reads faces\.npy and labels\.npy/);
    const grey = join(tmp.dir, 'grey');
    mkdirSync(grey);
    numpy(grey, "np.save(out + '/faces.npy', np.zeros((10, 64, 64), np.uint8)); np.save(out + '/labels.npy', np.zeros(10, np.int64))");
    failedCleanly(runExample('002-faces-npy', [grey]), /faces\.npy holds grey images \(N×H×W\); the model takes colour images, N×H×W×3/);
    const six = join(tmp.dir, 'six');
    mkdirSync(six);
    numpy(six, "np.save(out + '/faces.npy', np.zeros((10, 64, 64, 3), np.uint8)); np.save(out + '/labels.npy', np.arange(10) % 7)");
    failedCleanly(runExample('002-faces-npy', [six]), /labels\.npy: label 6 is out of range for 5 classes/);
    const short = join(tmp.dir, 'short');
    mkdirSync(short);
    numpy(short, "np.save(out + '/faces.npy', np.zeros((10, 64, 64, 3), np.uint8)); np.save(out + '/labels.npy', np.zeros(9, np.int64))");
    failedCleanly(runExample('002-faces-npy', [short]), /9 labels for 10 images/);
  });
});
