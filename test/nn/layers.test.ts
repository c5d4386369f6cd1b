// Parity with PyTorch: dropout, pooling, reshaping, upsampling and embedding layers.
import { nn } from '../../src/index.js';
import { distinct, ints, values } from '../conformance/spec.js';
import { layerSuite, type LayerCase } from './harness.js';

const D = distinct(0.13); // no ties: max pooling has one argmax per window

const CASES: LayerCase[] = [
  // Dropout draws its mask from the seeded generator: the same masks as PyTorch under the same seed.
  { name: 'Dropout', ts: () => new nn.Dropout(), py: 'nn.Dropout()', inputs: [{ shape: [4, 10] }], steps: ['train', 'train', 'eval'] },
  { name: 'Dropout p=0.2', ts: () => new nn.Dropout(0.2), py: 'nn.Dropout(0.2)', inputs: [{ shape: [3, 4, 5] }] },
  { name: 'Dropout2d', ts: () => new nn.Dropout2d(0.3), py: 'nn.Dropout2d(0.3)', inputs: [{ shape: [4, 6, 3, 3] }], steps: ['train', 'eval'] },
  { name: 'MaxPool2d', ts: () => new nn.MaxPool2d(2), py: 'nn.MaxPool2d(2)', inputs: [{ shape: [2, 3, 6, 6], gen: D }] },
  { name: 'MaxPool2d options', ts: () => new nn.MaxPool2d([3, 2], { stride: 1, padding: 1, dilation: [1, 2], ceilMode: true }), py: 'nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=(1, 2), ceil_mode=True)', inputs: [{ shape: [1, 2, 5, 6], gen: D }] },
  { name: 'AvgPool2d', ts: () => new nn.AvgPool2d(2), py: 'nn.AvgPool2d(2)', inputs: [{ shape: [2, 3, 6, 6] }] },
  { name: 'AvgPool2d options', ts: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), py: 'nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)', inputs: [{ shape: [1, 2, 6, 7] }] },
  { name: 'AvgPool2d divisor_override', ts: () => new nn.AvgPool2d([2, 3], { divisorOverride: 4 }), py: 'nn.AvgPool2d((2, 3), divisor_override=4)', inputs: [{ shape: [1, 1, 4, 6] }] },
  { name: 'AdaptiveAvgPool2d', ts: () => new nn.AdaptiveAvgPool2d([3, 2]), py: 'nn.AdaptiveAvgPool2d((3, 2))', inputs: [{ shape: [2, 3, 7, 5] }] },
  { name: 'AdaptiveAvgPool2d global', ts: () => new nn.AdaptiveAvgPool2d(1), py: 'nn.AdaptiveAvgPool2d(1)', inputs: [{ shape: [2, 4, 3, 3] }] },
  { name: 'AdaptiveAvgPool2d None', ts: () => new nn.AdaptiveAvgPool2d([2, null]), py: 'nn.AdaptiveAvgPool2d((2, None))', inputs: [{ shape: [1, 2, 5, 3] }] },
  { name: 'Flatten', ts: () => new nn.Flatten(), py: 'nn.Flatten()', inputs: [{ shape: [2, 3, 2, 2] }] },
  { name: 'Flatten dims', ts: () => new nn.Flatten(0, 2), py: 'nn.Flatten(0, 2)', inputs: [{ shape: [2, 3, 2, 2] }] },
  { name: 'Unflatten', ts: () => new nn.Unflatten(1, [2, 5]), py: 'nn.Unflatten(1, (2, 5))', inputs: [{ shape: [3, 10] }] },
  { name: 'Unflatten -1', ts: () => new nn.Unflatten(-1, [3, -1]), py: 'nn.Unflatten(-1, (3, -1))', inputs: [{ shape: [2, 12] }] },
  { name: 'Identity', ts: () => new nn.Identity(), py: 'nn.Identity()', inputs: [{ shape: [2, 3] }] },
  { name: 'Upsample nearest scale', ts: () => new nn.Upsample({ scaleFactor: 2 }), py: 'nn.Upsample(scale_factor=2)', inputs: [{ shape: [1, 2, 3, 4] }] },
  { name: 'Upsample nearest size', ts: () => new nn.Upsample({ size: [5, 7] }), py: 'nn.Upsample(size=(5, 7))', inputs: [{ shape: [1, 2, 3, 4] }] },
  { name: 'Upsample nearest fractional scale', ts: () => new nn.Upsample({ scaleFactor: [1.5, 2.5] }), py: 'nn.Upsample(scale_factor=(1.5, 2.5))', inputs: [{ shape: [1, 1, 4, 3] }] },
  { name: 'Upsample bilinear', ts: () => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), py: "nn.Upsample(scale_factor=2, mode='bilinear')", inputs: [{ shape: [2, 2, 3, 3] }] },
  { name: 'Upsample bilinear align_corners size', ts: () => new nn.Upsample({ size: 5, mode: 'bilinear', alignCorners: true }), py: "nn.Upsample(size=5, mode='bilinear', align_corners=True)", inputs: [{ shape: [1, 2, 3, 4] }] },
  { name: 'Upsample bilinear fractional', ts: () => new nn.Upsample({ scaleFactor: 1.7, mode: 'bilinear', alignCorners: false }), py: "nn.Upsample(scale_factor=1.7, mode='bilinear', align_corners=False)", inputs: [{ shape: [1, 1, 4, 5] }] },
  { name: 'Embedding', ts: () => new nn.Embedding(10, 3), py: 'nn.Embedding(10, 3)', inputs: [{ shape: [2, 4], dtype: 'int64', gen: ints(0, 9) }] },
  {
    name: 'Embedding padding_idx negative',
    ts: () => new nn.Embedding(6, 4, { paddingIdx: -1 }),
    py: 'nn.Embedding(6, 4, padding_idx=-1)',
    inputs: [{ shape: [7], dtype: 'int64', gen: values([5, 0, 5, 2, 3, 5, 1]) }],
    seed: 7,
  },
  { name: 'Embedding scale_grad_by_freq', ts: () => new nn.Embedding(5, 2, { paddingIdx: 0, scaleGradByFreq: true }), py: 'nn.Embedding(5, 2, padding_idx=0, scale_grad_by_freq=True)', inputs: [{ shape: [3, 3], dtype: 'int64', gen: ints(0, 4) }] },
];

layerSuite('nn dropout, pooling, shape, upsample and embedding layers vs PyTorch', CASES);
