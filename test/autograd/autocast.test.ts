import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import {
  autocast, autocastDtype, autocastGuard, conv2d, isAutocastEnabled, linear, manualSeed, models, nn, randn, scope, tensor, type Tensor,
} from '../../src/index.js';
import { assertClose } from '../helpers.js';

describe('autocast', () => {
  it('runs linear and conv2d in bfloat16 on CPU and restores the state', () => {
    scope(() => {
      const x = randn([4, 8]);
      const w = randn([3, 8]);
      const y = autocast(() => linear(x, w));
      assert.equal(y.dtype, 'bfloat16');
      assert.equal(linear(x, w).dtype, 'float32');
      assert.equal(isAutocastEnabled(), false);
      const img = randn([1, 2, 5, 5]);
      const k = randn([3, 2, 3, 3]);
      assert.equal(autocast(() => conv2d(img, k)).dtype, 'bfloat16');
    });
  });

  it('keeps float32 for ops on its fp32 list and restores after a throw', () => {
    scope(() => {
      const x = randn([4, 8]);
      assert.equal(autocast(() => x.exp().sum()).dtype, 'float32');
      assert.throws(() => autocast(() => {
        throw new Error('inside');
      }), /inside/);
      assert.equal(isAutocastEnabled(), false);
      assert.equal(autocastDtype(), 'bfloat16');
    });
  });

  it('nests, can be disabled inside, and works as a using guard', () => {
    scope(() => {
      const x = randn([2, 4]);
      const w = randn([2, 4]);
      autocast(() => {
        assert.equal(autocast(() => linear(x, w), { enabled: false }).dtype, 'float32');
        assert.equal(isAutocastEnabled(), true);
      });
      {
        using _g = autocastGuard();
        assert.equal(linear(x, w).dtype, 'bfloat16');
      }
      assert.equal(isAutocastEnabled(), false);
    });
  });

  it('the ReLU6, Hardtanh and Mish layers take bf16 inputs (no bf16 kernel in LibTorch 1.13): float32 values and gradients, rounded', () => {
    scope(() => {
      const x = randn([64]).mul(5);
      const cases: [string, (t: Tensor) => Tensor][] = [
        ['relu6', (t) => new nn.ReLU6().forward(t)],
        ['hardtanh', (t) => new nn.Hardtanh(-2, 3).forward(t)],
        ['mish', (t) => new nn.Mish().forward(t)],
      ];
      for (const [name, f] of cases) {
        const xb = x.to({ dtype: 'bfloat16' }).detach().requiresGrad_();
        const y = f(xb);
        assert.equal(y.dtype, 'bfloat16', name);
        y.float().square().sum().backward();
        const xf = xb.float().detach().requiresGrad_();
        const yf = f(xf);
        yf.square().sum().backward();
        assertClose(y.float(), yf.to({ dtype: 'bfloat16' }).float(), { rtol: 0, atol: 0 });
        assertClose(xb.grad as Tensor, (xf.grad as Tensor).to({ dtype: 'bfloat16' }), { rtol: 0.01, atol: 0.05 });
      }
    });
  });

  it('MobileNetV2 (ReLU6) trains a step under bf16 autocast', () => {
    scope(() => {
      manualSeed(0);
      const m = models.mobilenetV2({ numClasses: 3, widthMult: 0.25 }).train();
      const loss = autocast(() => nn.functional.crossEntropy(m.forward(randn([2, 3, 32, 32])), tensor([0, 2])));
      loss.backward();
      assert.ok(m.parameters().every((p) => p.grad !== null && p.grad.isfinite().all().item()), 'every parameter has a finite gradient');
      m.dispose();
    });
  });

  it('refuses float16 on CPU and async bodies', () => {
    assert.throws(() => autocast(() => 1, { dtype: 'float16' }), /CPU supports only bfloat16/);
    assert.throws(() => autocast(async () => 1), /synchronous/);
    assert.equal(isAutocastEnabled(), false);
  });

  it('matches PyTorch CPU autocast numerically (bf16 linear, gradients in float32)', () => {
    scope(() => {
      manualSeed(3);
      const x = randn([4, 8]);
      const w = randn([3, 8]).requiresGrad_();
      const y = autocast(() => linear(x, w));
      y.float().sum().backward();
      const py = spawnSync('/usr/bin/python3', ['-c', `
import torch, json, sys
torch.manual_seed(3)
x = torch.randn(4, 8); w = torch.randn(3, 8).requires_grad_()
with torch.autocast('cpu', dtype=torch.bfloat16):
    y = torch.nn.functional.linear(x, w)
y.float().sum().backward()
print(json.dumps({'y': y.float().flatten().tolist(), 'g': w.grad.flatten().tolist(), 'gdtype': str(w.grad.dtype)}))`], { encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      const ref = JSON.parse(py.stdout) as { y: number[]; g: number[]; gdtype: string };
      assertClose(y.float(), ref.y, { rtol: 0, atol: 0 });
      assert.equal(ref.gdtype, 'torch.float32');
      assertClose(w.grad as Tensor, ref.g, { rtol: 0, atol: 0 });
    });
  });
});
