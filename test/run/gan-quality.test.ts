// The quality figure's feature space (src/run/gan/quality.ts): a saved classifier run's penultimate
// features (the input of its last Linear) and logits for images in a generator's range, with the
// range, channels, size and normalisation mapped onto the classifier's input exactly as documented;
// the model is left as it was; a model that is not a classifier is refused.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { Preprocessing, fitTransforms } from '../../src/data/pipeline/preprocessing.js';
import { adaptiveAvgPool2d, manualSeed, models, nn, noGrad, rand, scope, tensor, type Tensor } from '../../src/index.js';
import { saveRunModel } from '../../src/run/saved-model.js';
import { FeatureSpace } from '../../src/run/gan/quality.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-gan-quality-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MEAN = [0.3, 0.4, 0.5];
const STD = [0.2, 0.25, 0.3];

const preprocessing = (channels: 1 | 3) =>
  Preprocessing.of({ channels, height: 8, width: 8, transforms: fitTransforms(8, 8), mean: MEAN.slice(0, channels), std: STD.slice(0, channels), memoryFormat: 'contiguous', classes: ['a', 'b', 'c', 'd'] });

/** A fashion-net run of `channels` at 8×8 (4 classes), saved as `tessera train` saves one. */
function savedRun(name: string, channels: 1 | 3): { dir: string; net: models.FashionNet } {
  manualSeed(channels);
  const net = models.fashionNet({ inChannels: channels, numClasses: 4 });
  const dir = join(root, name);
  mkdirSync(dir);
  saveRunModel(dir, net, { name: 'fashion-net', options: { classes: 4, inChannels: channels, imageSize: 8 }, preprocessing: preprocessing(channels) });
  return { dir, net: net.eval() as models.FashionNet };
}

/** fashion-net's forward up to its head's input, on an input already prepared. */
function pooled(net: models.FashionNet, x: Tensor): Tensor {
  return adaptiveAvgPool2d(net.stage2.forward(net.stage1.forward(net.stem.forward(x))), [1, 1]).flatten(1);
}

const norm = (x: Tensor, c: number) => x.sub(tensor(Float32Array.from(MEAN.slice(0, c)), { shape: [1, c, 1, 1] })).div(tensor(Float32Array.from(STD.slice(0, c)), { shape: [1, c, 1, 1] }));
const close = (a: Tensor, b: Tensor, what: string) => assert.ok((scope(() => a.sub(b).abs().max().item()) as number) < 1e-5, what);

describe('FeatureSpace', () => {
  it("gives the head's input and the logits for images in [-1, 1], mapped to [0, 1] and normalised as the classifier was trained", () => {
    const { dir, net } = savedRun('grey', 1);
    const space = FeatureSpace.load(dir);
    scope(() => {
      const images = rand([5, 1, 8, 8]).mul(2).sub(1);
      const { features, logits } = space.embed(images, [-1, 1]);
      const x = norm(images.add(1).div(2), 1);
      noGrad(() => {
        close(features, pooled(net, x), 'features');
        close(logits, net.forward(x), 'logits');
      });
      assert.deepEqual(features.shape, [5, 128]);
    });
    const head = net.head.at(1) as nn.Module;
    assert.equal(Object.hasOwn(head, 'forward'), false, "the head's own forward is back");
    space.dispose();
  });

  it('grey images for an RGB classifier are repeated; RGB for a grey one weighted as PIL (0.299, 0.587, 0.114); other sizes are averaged down or interpolated up', () => {
    const rgb = savedRun('rgb', 3);
    const grey = savedRun('grey2', 1);
    const [toRgb, toGrey] = [FeatureSpace.load(rgb.dir), FeatureSpace.load(grey.dir)];
    scope(() =>
      noGrad(() => {
        const g = rand([3, 1, 8, 8]);
        close(toRgb.embed(g, [0, 1]).features, pooled(rgb.net, norm(g.expand([-1, 3, -1, -1]), 3)), 'grey → RGB');
        const c = rand([3, 3, 8, 8]);
        const luma = c.mul(tensor(Float32Array.from([0.299, 0.587, 0.114]), { shape: [1, 3, 1, 1] })).sum([1], { keepdim: true });
        close(toGrey.embed(c, [0, 1]).features, pooled(grey.net, norm(luma, 1)), 'RGB → grey');
        const big = rand([2, 1, 16, 16]);
        close(toGrey.embed(big, [0, 1]).features, pooled(grey.net, norm(adaptiveAvgPool2d(big, [8, 8]), 1)), '16×16 → 8×8 by area');
        const small = rand([2, 1, 4, 4]);
        close(toGrey.embed(small, [0, 1]).features, pooled(grey.net, norm(nn.functional.interpolate(small, { size: [8, 8], mode: 'bilinear' }), 1)), '4×4 → 8×8 bilinear');
        const out = rand([2, 1, 8, 8]).mul(3).sub(1); // a ReLU generator's values beyond the range are clamped
        close(toGrey.embed(out, [0, 1]).features, pooled(grey.net, norm(out.clamp(0, 1), 1)), 'clamped to the range');
      }),
    );
    toRgb.dispose();
    toGrey.dispose();
  });

  it('refuses a run whose model is not a classifier, and a missing run', () => {
    const dir = join(root, 'autoencoder');
    mkdirSync(dir);
    const options = { classes: 4, inChannels: 1, imageSize: 8 };
    saveRunModel(dir, models.createModel('conv-autoencoder', options), { name: 'conv-autoencoder', options, preprocessing: preprocessing(1) });
    assert.throws(() => FeatureSpace.load(dir), /conv-autoencoder is not a classifier \(its task is reconstruct\); the quality figure needs a run of `tessera train` on classes/);
    assert.throws(() => FeatureSpace.load(join(root, 'nothing')), /no trained model at .*nothing: expected .*model\.json/);
  });
});
