// train.mixedPrecision 'auto' (the default): bf16 autocast on a CPU with native bf16 arithmetic,
// float32 elsewhere; explicit modes pass through; `tessera info` and the run's saved config say
// what was chosen.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';

import { resolveConfig } from '../../src/config/load.js';
import { FASHION_MNIST_DIR } from '../../src/data/sources/fashion-mnist.js';
import { prepareRun } from '../../src/run/data.js';
import { formatRuntimeInfo, runtimeInfo } from '../../src/runtime/info.js';
import { autocastOf, autoPrecision, cpuFlags, resolvePrecision } from '../../src/runtime/precision.js';

describe('mixed precision: auto', () => {
  it('bf16 where the CPU has avx512_bf16 or amx_bf16, float32 otherwise, and says why', () => {
    assert.equal(autoPrecision(new Set(['avx2', 'avx512f', 'avx512_bf16'])).precision, 'bf16');
    assert.equal(autoPrecision(new Set(['avx2', 'amx_bf16', 'amx_tile'])).precision, 'bf16');
    const plain = autoPrecision(new Set(['avx2', 'avx512f']));
    assert.equal(plain.precision, 'off');
    assert.match(plain.why, /no native bf16/);
    assert.equal(autoPrecision(new Set()).precision, 'off');
  });

  it('explicit modes pass through; autocastOf gives the trainer\'s setting', () => {
    for (const m of ['off', 'bf16', 'fp16'] as const) assert.equal(resolvePrecision(m, new Set(['avx512_bf16'])).precision, m);
    assert.equal(autocastOf('off'), false);
    assert.equal(autocastOf('bf16'), 'bf16');
    assert.equal(autocastOf('auto'), cpuFlags().has('avx512_bf16') || cpuFlags().has('amx_bf16') ? 'bf16' : false);
  });

  it('is the default, and `tessera info` reports the choice for this machine', () => {
    assert.equal(resolveConfig().train.mixedPrecision, 'auto');
    const info = runtimeInfo();
    assert.deepEqual(info.training.precision, autoPrecision());
    assert.match(formatRuntimeInfo(info), new RegExp(`precision +${info.training.precision.why.replace(/[()]/g, '\\$&')}`));
  });

  it("a run's saved config holds the resolved mode, and the log says it", { skip: !existsSync(FASHION_MNIST_DIR) && 'Fashion-MNIST is not installed' }, async () => {
    const lines: string[] = [];
    const { config, pipeline } = await prepareRun(resolveConfig(), { log: (l) => lines.push(l) });
    pipeline.close();
    assert.equal(config.train.mixedPrecision, autoPrecision().precision);
    assert.ok(lines.includes(`precision: ${autoPrecision().why} (--mixed-precision to choose)`), lines.join('\n'));
    const explicit = await prepareRun(resolveConfig({ overrides: [['train.mixedPrecision', '"off"']] }), { log: (l) => lines.push(l) });
    explicit.pipeline.close();
    assert.equal(explicit.config.train.mixedPrecision, 'off');
  });
});
