// Parity with PyTorch: every loss module (and so every loss function), with each reduction.
// Focal losses have no torch.nn twin: the binary one is checked against torchvision's
// sigmoid_focal_loss, the multi-class one against the paper's formula written in reference.py.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { nn, scope, tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { bools, ints, uniform, values } from '../conformance/spec.js';
import { layerSuite, type Input, type LayerCase } from './harness.js';

const logits = (shape: number[]): Input => ({ shape });
const classes = (shape: number[], c: number): Input => ({ shape, dtype: 'int64', gen: ints(0, c - 1) });
const probs = (shape: number[]): Input => ({ shape, gen: uniform(0.05, 0.95), grad: false });
const w3 = 'torch.tensor([0.2, 1.0, 0.7])';
const W3 = () => tensor([0.2, 1.0, 0.7]);

const loss = (name: string, ts: () => nn.Module, py: string, inputs: Input[]): LayerCase => ({ name, ts, py, inputs, steps: ['train'] });

const CASES: LayerCase[] = [
  loss('CrossEntropyLoss', () => new nn.CrossEntropyLoss(), 'nn.CrossEntropyLoss()', [logits([5, 4]), classes([5], 4)]),
  loss('CrossEntropyLoss weight', () => new nn.CrossEntropyLoss({ weight: W3() }), `nn.CrossEntropyLoss(weight=${w3})`, [logits([6, 3]), classes([6], 3)]),
  loss('CrossEntropyLoss ignore_index sum', () => new nn.CrossEntropyLoss({ ignoreIndex: 1, reduction: 'sum' }), "nn.CrossEntropyLoss(ignore_index=1, reduction='sum')", [logits([6, 3]), { shape: [6], dtype: 'int64', gen: values([0, 1, 2, 1, 2, 0]) }]),
  loss('CrossEntropyLoss label smoothing weight none', () => new nn.CrossEntropyLoss({ weight: W3(), labelSmoothing: 0.1, reduction: 'none' }), `nn.CrossEntropyLoss(weight=${w3}, label_smoothing=0.1, reduction='none')`, [logits([4, 3]), classes([4], 3)]),
  loss('CrossEntropyLoss label smoothing ignore mean', () => new nn.CrossEntropyLoss({ labelSmoothing: 0.2, ignoreIndex: -100 }), 'nn.CrossEntropyLoss(label_smoothing=0.2)', [logits([5, 3]), { shape: [5], dtype: 'int64', gen: values([0, -100, 2, 1, -100]) }]),
  loss('CrossEntropyLoss K-dim', () => new nn.CrossEntropyLoss(), 'nn.CrossEntropyLoss()', [logits([2, 3, 4, 4]), classes([2, 4, 4], 3)]),
  loss('CrossEntropyLoss soft targets', () => new nn.CrossEntropyLoss(), 'nn.CrossEntropyLoss()', [logits([5, 4]), probs([5, 4])]),
  loss('CrossEntropyLoss soft targets weight smoothing sum', () => new nn.CrossEntropyLoss({ weight: W3(), labelSmoothing: 0.1, reduction: 'sum' }), `nn.CrossEntropyLoss(weight=${w3}, label_smoothing=0.1, reduction='sum')`, [logits([4, 3]), probs([4, 3])]),
  loss('NLLLoss', () => new nn.NLLLoss(), 'nn.NLLLoss()', [logits([5, 4]), classes([5], 4)]),
  loss('NLLLoss weight ignore', () => new nn.NLLLoss({ weight: W3(), ignoreIndex: 0 }), `nn.NLLLoss(weight=${w3}, ignore_index=0)`, [logits([6, 3]), classes([6], 3)]),
  loss('NLLLoss 3-D none', () => new nn.NLLLoss({ reduction: 'none' }), "nn.NLLLoss(reduction='none')", [logits([2, 3, 5]), classes([2, 5], 3)]),
  loss('NLLLoss 4-D', () => new nn.NLLLoss(), 'nn.NLLLoss()', [logits([2, 3, 2, 3]), classes([2, 2, 3], 3)]),
  loss('NLLLoss 5-D weight sum', () => new nn.NLLLoss({ weight: W3(), reduction: 'sum' }), `nn.NLLLoss(weight=${w3}, reduction='sum')`, [logits([2, 3, 2, 2, 2]), classes([2, 2, 2, 2], 3)]),
  loss('BCELoss', () => new nn.BCELoss(), 'nn.BCELoss()', [{ shape: [4, 3], gen: uniform(0.05, 0.95) }, { shape: [4, 3], gen: bools(), grad: false }]),
  loss('BCELoss weight broadcast none', () => new nn.BCELoss({ weight: W3(), reduction: 'none' }), `nn.BCELoss(weight=${w3}, reduction='none')`, [{ shape: [4, 3], gen: uniform(0.05, 0.95) }, probs([4, 3])]),
  loss('BCEWithLogitsLoss', () => new nn.BCEWithLogitsLoss(), 'nn.BCEWithLogitsLoss()', [logits([4, 3]), { shape: [4, 3], gen: bools(), grad: false }]),
  loss('BCEWithLogitsLoss weight pos_weight sum', () => new nn.BCEWithLogitsLoss({ weight: W3(), posWeight: tensor([3, 0.5, 1]), reduction: 'sum' }), `nn.BCEWithLogitsLoss(weight=${w3}, pos_weight=torch.tensor([3.0, 0.5, 1.0]), reduction='sum')`, [logits([5, 3]), probs([5, 3])]),
  loss('BCEWithLogitsLoss pos_weight', () => new nn.BCEWithLogitsLoss({ posWeight: tensor([2, 1, 0.25]) }), 'nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 0.25]))', [logits([2, 4, 3]), { shape: [2, 4, 3], gen: bools(), grad: false }]),
  loss('MSELoss', () => new nn.MSELoss(), 'nn.MSELoss()', [logits([4, 3]), logits([4, 3])]),
  loss('MSELoss sum', () => new nn.MSELoss('sum'), "nn.MSELoss(reduction='sum')", [logits([4, 3]), logits([4, 3])]),
  loss('MSELoss none', () => new nn.MSELoss('none'), "nn.MSELoss(reduction='none')", [logits([4, 3]), logits([4, 3])]),
  loss('L1Loss', () => new nn.L1Loss(), 'nn.L1Loss()', [logits([4, 3]), logits([4, 3])]),
  loss('L1Loss none', () => new nn.L1Loss('none'), "nn.L1Loss(reduction='none')", [logits([4, 3]), logits([4, 3])]),
  loss('SmoothL1Loss', () => new nn.SmoothL1Loss(), 'nn.SmoothL1Loss()', [logits([5, 3]), logits([5, 3])]),
  loss('SmoothL1Loss beta sum', () => new nn.SmoothL1Loss({ beta: 0.5, reduction: 'sum' }), "nn.SmoothL1Loss(beta=0.5, reduction='sum')", [logits([5, 3]), logits([5, 3])]),
  loss('SmoothL1Loss beta 0', () => new nn.SmoothL1Loss({ beta: 0 }), 'nn.SmoothL1Loss(beta=0.0)', [logits([5, 3]), logits([5, 3])]),
  loss('HuberLoss', () => new nn.HuberLoss(), 'nn.HuberLoss()', [logits([5, 3]), logits([5, 3])]),
  loss('HuberLoss delta none', () => new nn.HuberLoss({ delta: 0.5, reduction: 'none' }), "nn.HuberLoss(delta=0.5, reduction='none')", [logits([5, 3]), logits([5, 3])]),
  loss('KLDivLoss batchmean', () => new nn.KLDivLoss({ reduction: 'batchmean' }), "nn.KLDivLoss(reduction='batchmean')", [logits([4, 3]), probs([4, 3])]),
  loss('KLDivLoss mean', () => new nn.KLDivLoss(), 'nn.KLDivLoss()', [logits([4, 3]), probs([4, 3])]),
  loss('KLDivLoss log_target sum', () => new nn.KLDivLoss({ reduction: 'sum', logTarget: true }), "nn.KLDivLoss(reduction='sum', log_target=True)", [logits([4, 3]), { shape: [4, 3], grad: false }]),
  loss('KLDivLoss none', () => new nn.KLDivLoss({ reduction: 'none' }), "nn.KLDivLoss(reduction='none')", [logits([4, 3]), probs([4, 3])]),
  loss('SigmoidFocalLoss', () => new nn.SigmoidFocalLoss(), 'SigmoidFocalLoss()', [logits([6, 3]), { shape: [6, 3], gen: bools(), grad: false }]),
  loss('SigmoidFocalLoss no alpha gamma 1 sum', () => new nn.SigmoidFocalLoss({ alpha: -1, gamma: 1, reduction: 'sum' }), "SigmoidFocalLoss(-1, 1.0, 'sum')", [logits([6, 3]), { shape: [6, 3], gen: bools(), grad: false }]),
  loss('SigmoidFocalLoss none', () => new nn.SigmoidFocalLoss({ alpha: 0.5, reduction: 'none' }), "SigmoidFocalLoss(0.5, 2.0, 'none')", [logits([4, 2]), probs([4, 2])]),
  loss('FocalLoss', () => new nn.FocalLoss(), 'FocalLoss()', [logits([6, 4]), classes([6], 4)]),
  loss('FocalLoss alpha per class ignore', () => new nn.FocalLoss({ alpha: W3(), ignoreIndex: 2 }), `FocalLoss(alpha=${w3}, ignore_index=2)`, [logits([6, 3]), classes([6], 3)]),
  loss('FocalLoss scalar alpha K-dim sum', () => new nn.FocalLoss({ alpha: 0.25, gamma: 1.5, reduction: 'sum' }), "FocalLoss(1.5, 0.25, reduction='sum')", [logits([2, 3, 2, 2]), classes([2, 2, 2], 3)]),
  loss('FocalLoss none', () => new nn.FocalLoss({ reduction: 'none' }), "FocalLoss(reduction='none')", [logits([3, 4]), classes([3], 4)]),
  // Errors: both sides refuse.
  { ...loss('BCELoss shape mismatch throws', () => new nn.BCELoss(), 'nn.BCELoss()', [{ shape: [4, 3], gen: uniform(0.1, 0.9) }, probs([4, 1])]), throws: /different to the input size/, dtypes: ['float32'] },
];

layerSuite('nn losses vs PyTorch', CASES);

it('focal loss with γ = 0 is cross-entropy (per-class α = class weights)', () => {
  scope(() => {
    const x = tensor([[0.2, -1, 0.5], [1.5, 0.3, -0.2], [0, 0.1, 0.2], [-1, 2, 0.5]]);
    const y = tensor([2n, 0n, 1n, 1n]);
    const w = tensor([0.3, 1, 2]);
    assertClose(nn.functional.focalLoss(x, y, { gamma: 0 }), nn.functional.crossEntropy(x, y));
    assertClose(nn.functional.focalLoss(x, y, { gamma: 0, alpha: w }), nn.functional.crossEntropy(x, y, { weight: w }));
    assertClose(nn.functional.focalLoss(x, y, { gamma: 0, alpha: w, reduction: 'none' }), nn.functional.crossEntropy(x, y, { weight: w, reduction: 'none' }));
    // Focusing lowers the loss of every example (1 - p ≤ 1).
    const focused = nn.functional.focalLoss(x, y, { gamma: 2, reduction: 'none' }).data();
    const plain = nn.functional.crossEntropy(x, y, { reduction: 'none' }).data();
    focused.forEach((v, i) => assert.ok((v as number) < (plain[i] as number)));
  });
});
