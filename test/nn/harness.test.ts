// The harness checks itself: deliberately wrong cases must each fail with the expected problem, so
// a green layer test means the comparison really ran (tinygrad/conformance-style mutants).
import { manualSeed, nn, ones, persist } from '../../src/index.js';
import { layerSuite, type LayerCase } from './harness.js';

const base = { ts: () => new nn.Linear(3, 2), inputs: [{ shape: [4, 3] }], dtypes: ['float32'] } as const;

const MUTANTS: LayerCase[] = [
  { ...base, name: 'init drawn under another seed', ts: () => (manualSeed(1), new nn.Linear(3, 2)), py: 'nn.Linear(3, 2)', expectProblem: /^init weight: \d+ of 6 differ/ },
  { ...base, name: 'repr differs', ts: () => new nn.Conv1d(3, 2, 1, { padding: 'valid' }), py: 'nn.Conv1d(3, 2, 1)', inputs: [{ shape: [2, 3, 4] }], expectProblem: /^repr:/ },
  { ...base, name: 'state dict keys differ', py: 'nn.Linear(3, 2, bias=False)', expectProblem: /^init keys/ },
  { ...base, name: 'forward output differs', py: 'nn.Linear(3, 2)', call: { ts: (m, [x]) => (m as nn.Linear).forward(x!), py: 'm(x[0]) * 1.001' }, expectProblem: /^step 0 output 0/ },
  { ...base, name: 'input gradient differs', py: 'nn.Linear(3, 2)', call: { ts: (m, [x]) => (m as nn.Linear).forward(x!), py: 'm(x[0] * 1) + x[0].sum() * 0.01' }, expectProblem: /^step 0 input 0 grad/ },
  { ...base, name: 'parameter gradient differs', py: 'nn.Linear(3, 2)', call: { ts: (m, [x]) => (m as nn.Linear).forward(x!), py: 'm(x[0]) + m.bias * 0.5' }, expectProblem: /^step 0 grad of bias/ },
  { ...base, name: 'a leak is caught', py: 'nn.Linear(3, 2)', ts: () => (persist(ones([2])), new nn.Linear(3, 2)), expectProblem: /^leak: \d+ tensor/ },
  { ...base, name: 'running state differs', ts: () => new nn.BatchNorm1d(3), py: 'nn.BatchNorm1d(3, momentum=0.2)', expectProblem: /^step 0 state running_mean/ },
];

layerSuite('layer harness self-check (every case must fail as expected)', MUTANTS);
