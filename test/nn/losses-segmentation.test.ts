// Segmentation losses against PyTorch: Dice against segmentation_models.pytorch's DiceLoss written out
// in reference.py (smp is not installed here), DiceCE against F.cross_entropy + that Dice, and
// cross-entropy on N×C×H×W logits with 255 = ignore. Values and gradients, float32 and float64.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { nn, scope, tensor } from '../../src/index.js';
import { bools, ints, uniform, values, type Gen } from '../conformance/spec.js';
import { layerSuite, type Input, type LayerCase } from './harness.js';

const logits = (shape: number[]): Input => ({ shape });
/** Class indices in [0, C) with about `p` of them 255 (ignored), never class `absent` if given. */
const labels = (shape: number[], c: number, p = 0, absent?: number): Input => {
  const gen: Gen = (n, rng) =>
    Array.from({ length: n }, () => {
      if (rng() < p) return 255;
      let y = Math.floor(rng() * c);
      while (y === absent) y = Math.floor(rng() * c);
      return y;
    });
  return { shape, dtype: 'int64', gen };
};
const masks = (shape: number[]): Input => ({ shape, gen: bools(), grad: false });

const loss = (name: string, ts: () => nn.Module, py: string, inputs: Input[]): LayerCase => ({ name, ts, py, inputs, steps: ['train'] });

const CASES: LayerCase[] = [
  loss('DiceLoss multiclass', () => new nn.DiceLoss(), 'DiceLoss()', [logits([2, 4, 5, 6]), labels([2, 5, 6], 4)]),
  // Class 3 never occurs: its term is 0 but still counts in the mean; 255 is ignored everywhere.
  loss('DiceLoss ignore 255 smooth absent class', () => new nn.DiceLoss({ ignoreIndex: 255, smooth: 1 }), 'DiceLoss(ignore_index=255, smooth=1.0)', [logits([2, 4, 6, 5]), labels([2, 6, 5], 4, 0.2, 3)]),
  loss('DiceLoss log loss 1-D', () => new nn.DiceLoss({ logLoss: true, eps: 1e-6 }), 'DiceLoss(log_loss=True, eps=1e-6)', [logits([3, 3, 7]), labels([3, 7], 3)]),
  loss('DiceLoss from probabilities', () => new nn.DiceLoss({ fromLogits: false }), 'DiceLoss(from_logits=False)', [{ shape: [2, 3, 4, 4], gen: uniform(0.05, 0.95) }, labels([2, 4, 4], 3)]),
  loss('DiceLoss multilabel', () => new nn.DiceLoss({ mode: 'multilabel' }), "DiceLoss('multilabel')", [logits([2, 3, 4, 4]), masks([2, 3, 4, 4])]),
  loss('DiceLoss multilabel ignore -1 smooth', () => new nn.DiceLoss({ mode: 'multilabel', ignoreIndex: -1, smooth: 0.5 }), "DiceLoss('multilabel', ignore_index=-1, smooth=0.5)",
    [logits([2, 3, 5]), { shape: [2, 3, 5], gen: values([0, 1, -1, 1, 0, 0, 1]), grad: false }]),
  loss('DiceLoss binary', () => new nn.DiceLoss({ mode: 'binary' }), "DiceLoss('binary')", [logits([2, 1, 5, 5]), masks([2, 5, 5])]),
  loss('DiceCELoss (ignore 255)', () => new nn.DiceCELoss(), 'DiceCELoss()', [logits([2, 3, 6, 6]), labels([2, 6, 6], 3, 0.15)]),
  loss('DiceCELoss weights log loss', () => new nn.DiceCELoss({ ceWeight: 0.5, diceWeight: 2, logLoss: true, smooth: 1 }), 'DiceCELoss(ce_weight=0.5, dice_weight=2.0, log_loss=True, smooth=1.0)',
    [logits([2, 4, 3, 5]), labels([2, 3, 5], 4, 0.1)]),
  loss('CrossEntropyLoss N×C×H×W ignore 255', () => new nn.CrossEntropyLoss({ ignoreIndex: 255 }), 'nn.CrossEntropyLoss(ignore_index=255)', [logits([2, 3, 4, 5]), labels([2, 4, 5], 3, 0.25)]),
  loss('CrossEntropyLoss N×C×H×W ignore 255 weight sum', () => new nn.CrossEntropyLoss({ ignoreIndex: 255, weight: tensor([0.2, 1, 3]), reduction: 'sum' }),
    "nn.CrossEntropyLoss(weight=torch.tensor([0.2, 1.0, 3.0]), ignore_index=255, reduction='sum')", [logits([2, 3, 4, 5]), labels([2, 4, 5], 3, 0.25)]),
  // Errors: both sides refuse a label outside [0, C) that is not ignored.
  { ...loss('DiceLoss label out of range throws', () => new nn.DiceLoss(), 'DiceLoss()', [logits([1, 3, 2, 2]), { shape: [1, 2, 2], dtype: 'int64', gen: values([0, 1, 2, 5]) }]),
    throws: /RangeError: diceLoss\(multiclass\): target 5 is not a class index in \[0, 3\) \(pass ignoreIndex for labels to skip\)/, dtypes: ['float32'] },
  { ...loss('DiceLoss 255 without ignoreIndex throws', () => new nn.DiceLoss(), 'DiceLoss()', [logits([1, 3, 2, 2]), { shape: [1, 2, 2], dtype: 'int64', gen: values([0, 255, 2, 1]) }]),
    throws: /target 255 is not a class index in \[0, 3\)/, dtypes: ['float32'] },
];

layerSuite('segmentation losses vs PyTorch', CASES);

it('Dice on hard predictions is 1 − (per-class Dice coefficient), absent classes count as 0', () => {
  scope(() => {
    // Probabilities exactly one-hot (fromLogits: false): class 0 predicted on 3 pixels, 2 of them right.
    const probs = tensor([[[[1, 1, 1, 0]], [[0, 0, 0, 1]], [[0, 0, 0, 0]]]]); // (1, 3, 1, 4)
    const y = tensor([[[0, 0, 1, 1]]]); // (1, 1, 4): class 2 absent
    const d0 = (2 * 2) / (3 + 2);
    const d1 = (2 * 1) / (1 + 2);
    const got = nn.functional.diceLoss(probs, y, { fromLogits: false }).item() as number;
    assert.ok(Math.abs(got - ((1 - d0) + (1 - d1) + 0) / 3) < 1e-6, `dice loss ${got}`);
    // A perfect prediction has loss 0, whatever the ignored pixels hold.
    const perfect = tensor([[[[1, 0, 1]], [[0, 1, 0]]]]);
    assert.equal(nn.functional.diceLoss(perfect, tensor([[[0, 1, 255]]]), { fromLogits: false, ignoreIndex: 255 }).item(), 0);
  });
});

it('names the shapes and dtypes it refuses', () => {
  scope(() => {
    const x = tensor([[[[0.1, 0.2]], [[0.3, 0.4]]]]); // (1, 2, 1, 2)
    assert.throws(() => nn.functional.diceLoss(x, tensor([[0, 1]])), /diceLoss\(multiclass\): target must be \(N, …\) = \[1, 1, 2\] class indices for input \[1, 2, 1, 2\], got \[1, 2\]/);
    assert.throws(() => nn.functional.diceLoss(x, tensor([[[0.5, 1]]])), /target must hold integer class indices, got float32/);
    assert.throws(() => nn.functional.diceLoss(x, tensor([[[0, 1]]]), { mode: 'binary' }), /diceLoss\(binary\): input \[1, 2, 1, 2\] and target \[1, 1, 2\] must be \(N, 1, …\) and N·… values/);
    assert.throws(() => new nn.DiceLoss({ mode: 'soft' as 'binary' }), /mode must be 'multiclass', 'multilabel' or 'binary', got 'soft'/);
    // uint8 masks (as PNG masks decode) are accepted by both terms.
    const y8 = tensor(new Uint8Array([0, 255]), { shape: [1, 1, 2] });
    assert.ok(Number.isFinite(nn.functional.diceCrossEntropyLoss(x, y8).item() as number));
  });
});
