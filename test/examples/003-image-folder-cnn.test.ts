// Example 003 (seed article 003, Keras CNN on 64×64 images from a folder) on an image folder written
// here with sharp: three class folders of colour-class images, PNG and JPEG, of sizes around 64×64
// (so the resize to the model's 64×64 is real).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { failedCleanly, noisyImage, printed, rng, runExample, succeeded, tempDir } from './helpers.js';

const NAMES = ['cat', 'dog', 'fox'];
const SIZES: readonly (readonly [number, number])[] = [[64, 64], [80, 60], [56, 72]];

/** `perClass` images of each class under root/<class>/. */
async function writeFolder(root: string, perClass: number, seed: number, names = NAMES): Promise<void> {
  const random = rng(seed);
  for (const [k, name] of names.entries()) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [width, height] = SIZES[i % SIZES.length] as readonly [number, number];
      const img = sharp(noisyImage(k, width, height, random), { raw: { width, height, channels: 3 } });
      await (i % 2 ? img.jpeg({ quality: 90 }) : img.png()).toFile(join(root, name, `${i}.${i % 2 ? 'jpg' : 'png'}`));
    }
  }
}

describe('examples/003-image-folder-cnn', () => {
  const tmp = tempDir('ex003');
  const images = join(tmp.dir, 'images');
  before(() => writeFolder(images, 40, 1));
  after(() => tmp.remove());

  it('holds out 20%, trains on the rest and prints the test accuracy, far above chance', (t) => {
    // The article's model sees raw 0–255 pixels (no rescaling), so its first epochs swing hard
    // (a first-batch loss near 50): after 2 epochs the held-out accuracy is 0.58 or 1.0 depending on
    // the decoder's last bits (it moved when JPEGs went to the PIL-exact native path); after 3 it is 1.0.
    const out = succeeded(runExample('003-image-folder-cnn', [images, '--epochs', '3']));
    assert.match(out, /^data: image folder .* \(3 classes, 120 files\); train 96, test 24$/m);
    assert.match(out, /^model: seedImagenet64Cnn, 3 classes, /m);
    assert.match(out, /^epoch 3\/3: train_loss /m);
    assert.match(out, /^evaluate: loss \d+\.\d{4} - accuracy \d\.\d{4}$/m);
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`test accuracy ${accuracy}`);
    assert.ok(accuracy > 0.6, `test accuracy ${accuracy} is not clearly above chance (${1 / 3})`);
  });

  it('takes test images from --test; rejects a missing folder and a test folder with other classes', async (t) => {
    const test = join(tmp.dir, 'test');
    await writeFolder(test, 10, 2);
    // --limit keeps the first N of the shuffled file list, so 60 images still show every class.
    const out = succeeded(runExample('003-image-folder-cnn', [images, '--test', test, '--epochs', '2', '--limit', '60']));
    assert.match(out, /; train 60, test 30$/m);
    const accuracy = printed(out, /^Test accuracy: (\d(?:\.\d+)?)$/m);
    t.diagnostic(`test accuracy with --test ${accuracy}`);
    assert.ok(accuracy > 0.6, `test accuracy ${accuracy} on the --test folder is not clearly above chance (${1 / 3})`);

    failedCleanly(runExample('003-image-folder-cnn', [join(tmp.dir, 'nowhere')]), /nowhere: no such folder/);
    const other = join(tmp.dir, 'other');
    await writeFolder(other, 1, 3, ['cat', 'dog']);
    failedCleanly(runExample('003-image-folder-cnn', [images, '--test', other]), /has classes \[cat, dog\] but .* has \[cat, dog, fox\]; both need the same sub-folders/);
  });
});
