// Printing matches PyTorch's own `str(tensor)` for the same values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { arange, scope, tensor, type Tensor } from '../../src/index.js';

interface Case {
  name: string;
  ts: () => Tensor;
  py: string;
}

const CASES: Case[] = [
  { name: 'int64 vector', ts: () => tensor([1, 2, 3]), py: 'torch.tensor([1, 2, 3])' },
  { name: 'float matrix', ts: () => tensor([[0.5, -1.25], [3, 4.125]]), py: 'torch.tensor([[0.5, -1.25], [3, 4.125]])' },
  { name: 'integral floats', ts: () => tensor([1, 2, 30], { dtype: 'float32' }), py: 'torch.tensor([1., 2., 30.])' },
  { name: 'scientific notation', ts: () => tensor([1e-5, 1, 123456.0]), py: 'torch.tensor([1e-5, 1, 123456.0])' },
  { name: 'bool', ts: () => tensor([true, false, true]), py: 'torch.tensor([True, False, True])' },
  { name: 'float64 suffix', ts: () => tensor([0.25, 1], { dtype: 'float64' }), py: 'torch.tensor([0.25, 1], dtype=torch.float64)' },
  { name: 'int32 suffix', ts: () => tensor([7, -8], { dtype: 'int32' }), py: 'torch.tensor([7, -8], dtype=torch.int32)' },
  { name: 'scalar', ts: () => tensor(2.5), py: 'torch.tensor(2.5)' },
  { name: '3-d', ts: () => arange(12).reshape([2, 2, 3]), py: 'torch.arange(12).reshape(2, 2, 3)' },
  { name: 'requires grad', ts: () => tensor([1.5, 2], { requiresGrad: true }), py: 'torch.tensor([1.5, 2], requires_grad=True)' },
  { name: 'grad_fn', ts: () => tensor([1.5, 2], { requiresGrad: true }).mul(tensor(2)), py: 'torch.tensor([1.5, 2], requires_grad=True).mul(torch.tensor(2))' },
  { name: 'summarised', ts: () => arange(2000), py: 'torch.arange(2000)' },
  { name: 'summarised 2-d', ts: () => arange(4000).reshape([40, 100]).to('float32').div(7), py: 'torch.arange(4000).reshape(40, 100).float().div(7)' },
  { name: 'nan and inf', ts: () => tensor([0.5, NaN, Infinity, -Infinity]), py: "torch.tensor([0.5, float('nan'), float('inf'), float('-inf')])" },
];

describe('printing', () => {
  const script = `import torch, json, sys\nprint(json.dumps([str(eval(e)) for e in json.load(sys.stdin)]))`;
  const py = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(CASES.map((c) => c.py)), encoding: 'utf8' });
  const expected = py.status === 0 ? (JSON.parse(py.stdout) as string[]) : [];

  it('has PyTorch as the reference', () => assert.equal(py.status, 0, py.stderr));
  CASES.forEach((c, i) => {
    it(c.name, () => {
      scope(() => assert.equal(String(c.ts()), expected[i]));
    });
  });
});
