// The CUDA path: runs where LibTorch was built with CUDA and a GPU is present; on CPU-only
// machines each test is reported as skipped with the reason (never as passed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { conv2d, cuda, manualSeed, randn, scope, type Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const noGpu = cuda.isAvailable() ? false : 'no CUDA device (CPU-only LibTorch or no GPU on this machine)';

describe('cuda', () => {
  it('moves tensors to the GPU and back', { skip: noGpu }, () => {
    scope(() => {
      const x = randn([4, 5]);
      const g = x.to('cuda:0');
      assert.equal(g.device, 'cuda:0');
      assert.equal(g.isCuda, true);
      assertClose(g.cpu(), x);
    });
  });

  it('computes conv2d forward and backward on the GPU like on the CPU', { skip: noGpu }, () => {
    scope(() => {
      manualSeed(0);
      const x = randn([2, 3, 8, 8]);
      const w = randn([4, 3, 3, 3]);
      const run = (device: string) => {
        const xd = x.to(device).requiresGrad_();
        const wd = w.to(device).requiresGrad_();
        const y = conv2d(xd, wd, { padding: 1 });
        y.pow(2).sum().backward();
        return [y.cpu(), (xd.grad as Tensor).cpu(), (wd.grad as Tensor).cpu()];
      };
      const [cy, cgx, cgw] = run('cpu');
      const [gy, ggx, ggw] = run('cuda:0');
      assertClose(gy as Tensor, cy as Tensor, { rtol: 1e-3, atol: 1e-3 });
      assertClose(ggx as Tensor, cgx as Tensor, { rtol: 1e-3, atol: 1e-3 });
      assertClose(ggw as Tensor, cgw as Tensor, { rtol: 1e-3, atol: 1e-3 });
    });
  });

  it('refuses ops mixing devices with a clear error', { skip: noGpu }, () => {
    scope(() => {
      assert.throws(() => randn([2]).add(randn([2]).to('cuda:0')), /Expected all tensors to be on the same device/);
    });
  });
});
