// Parity with PyTorch: LSTM, GRU and RNN (flat weight order, names, init, dropout between layers).
import { nn, type Tensor } from '../../src/index.js';
import { layerSuite, type LayerCase } from './harness.js';

const lstmWithState = { ts: (m: nn.Module, [x, h, c]: Tensor[]) => (m as nn.LSTM).forward(x!, [h!, c!]), py: 'm(x[0], (x[1], x[2]))' };
const withState = { ts: (m: nn.Module, [x, h]: Tensor[]) => (m as nn.GRU).forward(x!, h!), py: 'm(x[0], x[1])' };

const CASES: LayerCase[] = [
  { name: 'LSTM', ts: () => new nn.LSTM(4, 3), py: 'nn.LSTM(4, 3)', inputs: [{ shape: [5, 2, 4] }] },
  { name: 'LSTM batch_first with state', ts: () => new nn.LSTM(3, 2, { batchFirst: true }), py: 'nn.LSTM(3, 2, batch_first=True)', inputs: [{ shape: [2, 4, 3] }, { shape: [1, 2, 2] }, { shape: [1, 2, 2] }], call: lstmWithState },
  { name: 'LSTM two layers bidirectional', ts: () => new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true }), py: 'nn.LSTM(3, 4, num_layers=2, bidirectional=True)', inputs: [{ shape: [4, 2, 3] }], seed: 1 },
  {
    name: 'LSTM dropout between layers, no bias',
    ts: () => new nn.LSTM(3, 5, { numLayers: 3, dropout: 0.4, bias: false, batchFirst: true }),
    py: 'nn.LSTM(3, 5, num_layers=3, dropout=0.4, bias=False, batch_first=True)',
    inputs: [{ shape: [2, 6, 3] }],
    steps: ['train', 'train', 'eval'],
  },
  { name: 'LSTM unbatched', ts: () => new nn.LSTM(2, 3), py: 'nn.LSTM(2, 3)', inputs: [{ shape: [4, 2] }] },
  { name: 'GRU', ts: () => new nn.GRU(4, 3), py: 'nn.GRU(4, 3)', inputs: [{ shape: [5, 2, 4] }] },
  {
    name: 'GRU two layers bidirectional batch_first dropout with state',
    ts: () => new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.3 }),
    py: 'nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.3)',
    inputs: [{ shape: [2, 5, 3] }, { shape: [4, 2, 4] }],
    call: withState,
    steps: ['train', 'eval'],
  },
  { name: 'GRU no bias unbatched with state', ts: () => new nn.GRU(2, 3, { bias: false }), py: 'nn.GRU(2, 3, bias=False)', inputs: [{ shape: [3, 2] }, { shape: [1, 3] }], call: withState },
  { name: 'RNN tanh', ts: () => new nn.RNN(3, 4, { numLayers: 2 }), py: 'nn.RNN(3, 4, num_layers=2)', inputs: [{ shape: [4, 2, 3] }] },
  { name: 'RNN relu bidirectional', ts: () => new nn.RNN(3, 2, { nonlinearity: 'relu', bidirectional: true }), py: "nn.RNN(3, 2, nonlinearity='relu', bidirectional=True)", inputs: [{ shape: [3, 2, 3] }] },
];

layerSuite('nn recurrent layers vs PyTorch', CASES);
