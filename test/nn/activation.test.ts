// Parity with PyTorch: activation modules (values, gradients, repr).
import { nn } from '../../src/index.js';
import { normal } from '../conformance/spec.js';
import { layerSuite, type LayerCase } from './harness.js';

const X = [{ shape: [3, 4], gen: normal(2.5) }]; // wide enough to reach every piece (hardtanh, relu6, hardswish)

const simple = (name: string, ts: () => nn.Module, py: string): LayerCase => ({ name, ts, py, inputs: X, steps: ['train'] });

const CASES: LayerCase[] = [
  simple('ReLU', () => new nn.ReLU(), 'nn.ReLU()'),
  simple('ReLU6', () => new nn.ReLU6(), 'nn.ReLU6()'),
  simple('LeakyReLU', () => new nn.LeakyReLU(), 'nn.LeakyReLU()'),
  simple('LeakyReLU 0.2', () => new nn.LeakyReLU(0.2), 'nn.LeakyReLU(0.2)'),
  simple('ELU', () => new nn.ELU(), 'nn.ELU()'),
  simple('ELU alpha', () => new nn.ELU(0.5), 'nn.ELU(0.5)'),
  simple('SELU', () => new nn.SELU(), 'nn.SELU()'),
  simple('CELU', () => new nn.CELU(1.5), 'nn.CELU(1.5)'),
  simple('GELU', () => new nn.GELU(), 'nn.GELU()'),
  simple('GELU tanh', () => new nn.GELU('tanh'), "nn.GELU(approximate='tanh')"),
  simple('SiLU', () => new nn.SiLU(), 'nn.SiLU()'),
  simple('Mish', () => new nn.Mish(), 'nn.Mish()'),
  simple('Sigmoid', () => new nn.Sigmoid(), 'nn.Sigmoid()'),
  simple('Tanh', () => new nn.Tanh(), 'nn.Tanh()'),
  simple('Hardswish', () => new nn.Hardswish(), 'nn.Hardswish()'),
  simple('Hardsigmoid', () => new nn.Hardsigmoid(), 'nn.Hardsigmoid()'),
  simple('Hardtanh', () => new nn.Hardtanh(), 'nn.Hardtanh()'),
  simple('Hardtanh range', () => new nn.Hardtanh(-2, 0.5), 'nn.Hardtanh(-2.0, 0.5)'),
  simple('Softplus', () => new nn.Softplus(), 'nn.Softplus()'),
  simple('Softplus beta threshold', () => new nn.Softplus(2, 3), 'nn.Softplus(2, 3)'),
  simple('LogSigmoid', () => new nn.LogSigmoid(), 'nn.LogSigmoid()'),
  simple('Softsign', () => new nn.Softsign(), 'nn.Softsign()'),
  simple('Tanhshrink', () => new nn.Tanhshrink(), 'nn.Tanhshrink()'),
  simple('GLU', () => new nn.GLU(), 'nn.GLU()'),
  { name: 'GLU dim 0', ts: () => new nn.GLU(0), py: 'nn.GLU(0)', inputs: [{ shape: [4, 3] }], steps: ['train'] },
  simple('Softmax dim 1', () => new nn.Softmax(1), 'nn.Softmax(1)'),
  simple('LogSoftmax dim -1', () => new nn.LogSoftmax(-1), 'nn.LogSoftmax(dim=-1)'),
  simple('Softmax implicit dim (2-D: 1)', () => new nn.Softmax(), 'nn.Softmax()'),
  { name: 'LogSoftmax implicit dim (3-D: 0)', ts: () => new nn.LogSoftmax(), py: 'nn.LogSoftmax()', inputs: [{ shape: [2, 3, 2] }], steps: ['train'] },
  { name: 'PReLU', ts: () => new nn.PReLU(), py: 'nn.PReLU()', inputs: X, steps: ['train'] },
  { name: 'PReLU per channel', ts: () => new nn.PReLU(3, 0.1), py: 'nn.PReLU(3, 0.1)', inputs: [{ shape: [2, 3, 4] }], steps: ['train'] },
];

layerSuite('nn activations vs PyTorch', CASES);
