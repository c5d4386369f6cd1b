// Parity with PyTorch: batch, instance, layer and group normalization, running statistics included.
import { nn } from '../../src/index.js';
import { layerSuite, type LayerCase } from './harness.js';

const TRAIN_TWICE_EVAL = ['train', 'train', 'eval'] as const;

const CASES: LayerCase[] = [
  { name: 'BatchNorm1d (N, C)', ts: () => new nn.BatchNorm1d(3), py: 'nn.BatchNorm1d(3)', inputs: [{ shape: [4, 3] }], steps: TRAIN_TWICE_EVAL },
  { name: 'BatchNorm1d (N, C, L) cumulative average', ts: () => new nn.BatchNorm1d(3, { momentum: null }), py: 'nn.BatchNorm1d(3, momentum=None)', inputs: [{ shape: [4, 3, 5] }], steps: ['train', 'train', 'train', 'eval'] },
  { name: 'BatchNorm2d', ts: () => new nn.BatchNorm2d(3), py: 'nn.BatchNorm2d(3)', inputs: [{ shape: [2, 3, 4, 4] }], steps: TRAIN_TWICE_EVAL },
  { name: 'BatchNorm2d eps momentum no affine', ts: () => new nn.BatchNorm2d(2, { eps: 1e-3, momentum: 0.3, affine: false }), py: 'nn.BatchNorm2d(2, eps=1e-3, momentum=0.3, affine=False)', inputs: [{ shape: [3, 2, 3, 3] }], steps: TRAIN_TWICE_EVAL },
  { name: 'BatchNorm2d without running stats', ts: () => new nn.BatchNorm2d(2, { trackRunningStats: false }), py: 'nn.BatchNorm2d(2, track_running_stats=False)', inputs: [{ shape: [2, 2, 3, 3] }] },
  { name: 'BatchNorm1d eval first', ts: () => new nn.BatchNorm1d(4), py: 'nn.BatchNorm1d(4)', inputs: [{ shape: [1, 4] }], steps: ['eval'] },
  { name: 'LayerNorm', ts: () => new nn.LayerNorm(5), py: 'nn.LayerNorm(5)', inputs: [{ shape: [2, 3, 5] }] },
  { name: 'LayerNorm 2-D shape no affine', ts: () => new nn.LayerNorm([3, 4], { eps: 1e-6, elementwiseAffine: false }), py: 'nn.LayerNorm([3, 4], eps=1e-6, elementwise_affine=False)', inputs: [{ shape: [2, 3, 4] }] },
  { name: 'GroupNorm', ts: () => new nn.GroupNorm(2, 6), py: 'nn.GroupNorm(2, 6)', inputs: [{ shape: [2, 6, 3, 3] }] },
  { name: 'GroupNorm no affine 3-D', ts: () => new nn.GroupNorm(3, 3, { eps: 1e-4, affine: false }), py: 'nn.GroupNorm(3, 3, eps=1e-4, affine=False)', inputs: [{ shape: [2, 3, 5] }] },
  { name: 'InstanceNorm2d', ts: () => new nn.InstanceNorm2d(3), py: 'nn.InstanceNorm2d(3)', inputs: [{ shape: [2, 3, 4, 4] }] },
  { name: 'InstanceNorm2d affine running stats', ts: () => new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true, momentum: 0.2 }), py: 'nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2)', inputs: [{ shape: [2, 3, 3, 4] }], steps: TRAIN_TWICE_EVAL },
  { name: 'InstanceNorm2d unbatched', ts: () => new nn.InstanceNorm2d(2, { affine: true }), py: 'nn.InstanceNorm2d(2, affine=True)', inputs: [{ shape: [2, 3, 3] }] },
  // Errors: both sides must refuse.
  { name: 'BatchNorm1d batch of one in training throws', ts: () => new nn.BatchNorm1d(4), py: 'nn.BatchNorm1d(4)', inputs: [{ shape: [1, 4] }], steps: ['train'], throws: /Expected more than 1 value per channel when training/, dtypes: ['float32'] },
  { name: 'BatchNorm2d 3-D input throws', ts: () => new nn.BatchNorm2d(4), py: 'nn.BatchNorm2d(4)', inputs: [{ shape: [2, 4, 3] }], steps: ['train'], throws: /expected 4D input \(got 3D input\)/, dtypes: ['float32'] },
];

layerSuite('nn normalization layers vs PyTorch', CASES);
