// Rows: resampling (upsampling, grid sampling) and recurrent layers.
import * as T from '../../../src/index.js';
import { FLOAT, inp, row, uniform, type OpRow } from '../spec.js';

const W = uniform(-0.5, 0.5);
/** LSTM sizes: batch 2, sequence 3, input 4, hidden 3. */
const lstmInputs = {
  x: inp([2, 3, 4]),
  h0: inp([1, 2, 3]),
  c0: inp([1, 2, 3]),
  wih: inp([12, 4], W),
  whh: inp([12, 3], W),
  bih: inp([12], W),
  bhh: inp([12], W),
};

export const RECURRENT_ROWS: OpRow[] = [
  // ---- resampling ----
  row({ name: 'upsample_nearest2d size', covers: ['upsample_nearest2d$vec'], inputs: { x: inp([1, 2, 3, 4]) }, dtypes: FLOAT, ts: ({ x }) => T.upsampleNearest2d(x, [6, 6], null), py: 'torch.ops.aten.upsample_nearest2d.vec(x, [6, 6], None)', grad: true }),
  row({ name: 'upsample_nearest2d scale', covers: ['upsample_nearest2d$vec'], inputs: { x: inp([1, 2, 3, 4]) }, dtypes: FLOAT, ts: ({ x }) => T.upsampleNearest2d(x, null, [2, 1.5]), py: "F.interpolate(x, scale_factor=[2, 1.5], mode='nearest')", grad: true }),
  row({ name: 'upsample_bilinear2d', covers: ['upsample_bilinear2d$vec'], inputs: { x: inp([1, 2, 3, 4]) }, dtypes: FLOAT, ts: ({ x }) => T.upsampleBilinear2d(x, [5, 7], false, null), py: "F.interpolate(x, size=[5, 7], mode='bilinear', align_corners=False)", grad: true, gradcheck: true }),
  row({ name: 'upsample_bilinear2d align_corners scale', covers: ['upsample_bilinear2d$vec'], inputs: { x: inp([1, 1, 3, 3]) }, dtypes: FLOAT, ts: ({ x }) => T.upsampleBilinear2d(x, null, true, [2, 2]), py: 'torch.ops.aten.upsample_bilinear2d.vec(x, None, True, [2.0, 2.0])', grad: true }),
  row({ name: 'grid_sampler bilinear zeros', covers: ['grid_sampler'], inputs: { x: inp([1, 2, 4, 5]), g: inp([1, 3, 2, 2], uniform(-1.1, 1.1)) }, dtypes: FLOAT, ts: ({ x, g }) => T.gridSampler(x, g, 0, 0, false), py: 'torch.grid_sampler(x, g, 0, 0, False)', grad: true, gradcheck: true }),
  row({ name: 'grid_sampler nearest border', covers: ['grid_sampler'], inputs: { x: inp([2, 1, 3, 3]), g: inp([2, 2, 2, 2], uniform(-1.3, 1.3)) }, dtypes: FLOAT, ts: ({ x, g }) => T.gridSampler(x, g, 1, 1, true), py: "F.grid_sample(x, g, mode='nearest', padding_mode='border', align_corners=True)", grad: true }),
  row({ name: 'grid_sampler bicubic reflection', covers: ['grid_sampler'], inputs: { x: inp([1, 1, 4, 4]), g: inp([1, 2, 3, 2], uniform(-1, 1)) }, dtypes: FLOAT, ts: ({ x, g }) => T.gridSampler(x, g, 2, 2, false), py: "F.grid_sample(x, g, mode='bicubic', padding_mode='reflection', align_corners=False)", grad: true }),
  row({ name: 'affine_grid_generator', covers: ['affine_grid_generator'], inputs: { th: inp([2, 2, 3]) }, dtypes: FLOAT, ts: ({ th }) => T.affineGridGenerator(th, [2, 1, 3, 4], false), py: 'F.affine_grid(th, [2, 1, 3, 4], align_corners=False)', grad: true, gradcheck: true }),

  // ---- recurrent ----
  row({
    name: 'lstm batch_first',
    covers: ['lstm$input'],
    inputs: lstmInputs,
    dtypes: FLOAT,
    ts: ({ x, h0, c0, wih, whh, bih, bhh }) => T.lstm(x, [h0, c0], [wih, whh, bih, bhh], true, 1, 0, false, false, true),
    py: 'torch.lstm(x, (h0, c0), [wih, whh, bih, bhh], True, 1, 0.0, False, False, True)',
    grad: true,
    gradcheck: true,
  }),
  row({
    name: 'lstm bidirectional no bias',
    covers: ['lstm$input'],
    inputs: { x: inp([3, 2, 4]), h0: inp([2, 2, 3]), c0: inp([2, 2, 3]), wf: inp([12, 4], W), uf: inp([12, 3], W), wb: inp([12, 4], W), ub: inp([12, 3], W) },
    dtypes: FLOAT,
    ts: ({ x, h0, c0, wf, uf, wb, ub }) => T.lstm(x, [h0, c0], [wf, uf, wb, ub], false, 1, 0, true, true, false),
    py: 'torch.lstm(x, (h0, c0), [wf, uf, wb, ub], False, 1, 0.0, True, True, False)',
    grad: true,
  }),
  row({
    name: 'gru two layers',
    covers: ['gru$input'],
    inputs: { x: inp([3, 2, 4]), h0: inp([2, 2, 3]), w1: inp([9, 4], W), u1: inp([9, 3], W), b1: inp([9], W), c1: inp([9], W), w2: inp([9, 3], W), u2: inp([9, 3], W), b2: inp([9], W), c2: inp([9], W) },
    dtypes: FLOAT,
    ts: ({ x, h0, w1, u1, b1, c1, w2, u2, b2, c2 }) => T.gru(x, h0, [w1, u1, b1, c1, w2, u2, b2, c2], true, 2, 0, false, false, false),
    py: 'torch.gru(x, h0, [w1, u1, b1, c1, w2, u2, b2, c2], True, 2, 0.0, False, False, False)',
    grad: true,
    gradcheck: true,
  }),
  row({
    name: 'rnn_tanh bidirectional',
    covers: ['rnn_tanh$input'],
    inputs: { x: inp([2, 3, 4]), h0: inp([2, 2, 3]), wf: inp([3, 4], W), uf: inp([3, 3], W), bf: inp([3], W), cf: inp([3], W), wb: inp([3, 4], W), ub: inp([3, 3], W), bb: inp([3], W), cb: inp([3], W) },
    dtypes: FLOAT,
    ts: ({ x, h0, wf, uf, bf, cf, wb, ub, bb, cb }) => T.rnnTanh(x, h0, [wf, uf, bf, cf, wb, ub, bb, cb], true, 1, 0, false, true, true),
    py: 'torch.rnn_tanh(x, h0, [wf, uf, bf, cf, wb, ub, bb, cb], True, 1, 0.0, False, True, True)',
    grad: true,
    gradcheck: true,
  }),
  row({
    name: 'rnn_relu',
    covers: ['rnn_relu$input'],
    inputs: { x: inp([3, 2, 4]), h0: inp([1, 2, 3]), w: inp([3, 4], W), u: inp([3, 3], W), b: inp([3], W), c: inp([3], W) },
    dtypes: FLOAT,
    ts: ({ x, h0, w, u, b, c }) => T.rnnRelu(x, h0, [w, u, b, c], true, 1, 0, false, false, false),
    py: 'torch.rnn_relu(x, h0, [w, u, b, c], True, 1, 0.0, False, False, False)',
    grad: true,
  }),
  row({
    name: 'lstm dropout train',
    covers: ['lstm$input'],
    inputs: { x: inp([3, 2, 4]), h0: inp([2, 2, 3]), c0: inp([2, 2, 3]), w1: inp([12, 4], W), u1: inp([12, 3], W), w2: inp([12, 3], W), u2: inp([12, 3], W) },
    dtypes: FLOAT,
    seed: 5,
    ts: ({ x, h0, c0, w1, u1, w2, u2 }) => T.lstm(x, [h0, c0], [w1, u1, w2, u2], false, 2, 0.5, true, false, false),
    py: 'torch.lstm(x, (h0, c0), [w1, u1, w2, u2], False, 2, 0.5, True, False, False)',
    grad: true,
    tol: { rtol: 1e-6, atol: 1e-7 },
  }),
  row({ name: 'lstm_cell', covers: ['lstm_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), c: inp([2, 3]), wih: inp([12, 4], W), whh: inp([12, 3], W), bih: inp([12], W), bhh: inp([12], W) }, dtypes: FLOAT, ts: ({ x, h, c, wih, whh, bih, bhh }) => T.lstmCell(x, [h, c], wih, whh, bih, bhh), py: 'torch.lstm_cell(x, (h, c), wih, whh, bih, bhh)', grad: true, gradcheck: true }),
  row({ name: 'lstm_cell no bias', covers: ['lstm_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), c: inp([2, 3]), wih: inp([12, 4], W), whh: inp([12, 3], W) }, dtypes: FLOAT, ts: ({ x, h, c, wih, whh }) => T.lstmCell(x, [h, c], wih, whh), py: 'torch.lstm_cell(x, (h, c), wih, whh)', grad: true }),
  row({ name: 'gru_cell', covers: ['gru_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), wih: inp([9, 4], W), whh: inp([9, 3], W), bih: inp([9], W), bhh: inp([9], W) }, dtypes: FLOAT, ts: ({ x, h, wih, whh, bih, bhh }) => T.gruCell(x, h, wih, whh, bih, bhh), py: 'torch.gru_cell(x, h, wih, whh, bih, bhh)', grad: true, gradcheck: true }),
  row({ name: 'gru_cell options', covers: ['gru_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), wih: inp([9, 4], W), whh: inp([9, 3], W), bhh: inp([9], W) }, dtypes: FLOAT, ts: ({ x, h, wih, whh, bhh }) => T.gruCell(x, h, wih, whh, { bHh: bhh }), py: 'torch.gru_cell(x, h, wih, whh, None, bhh)', grad: true }),
  row({ name: 'rnn_tanh_cell', covers: ['rnn_tanh_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), wih: inp([3, 4], W), whh: inp([3, 3], W), bih: inp([3], W), bhh: inp([3], W) }, dtypes: FLOAT, ts: ({ x, h, wih, whh, bih, bhh }) => T.rnnTanhCell(x, h, wih, whh, bih, bhh), py: 'torch.rnn_tanh_cell(x, h, wih, whh, bih, bhh)', grad: true, gradcheck: true }),
  row({ name: 'rnn_relu_cell', covers: ['rnn_relu_cell'], inputs: { x: inp([2, 4]), h: inp([2, 3]), wih: inp([3, 4], W), whh: inp([3, 3], W), bih: inp([3], W), bhh: inp([3], W) }, dtypes: FLOAT, ts: ({ x, h, wih, whh, bih, bhh }) => T.rnnReluCell(x, h, wih, whh, bih, bhh), py: 'torch.rnn_relu_cell(x, h, wih, whh, bih, bhh)', grad: true }),
];
