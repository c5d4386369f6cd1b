// GradScaler against torch.cuda.amp.GradScaler. PyTorch 1.13 has no CPU kernels for
// _amp_update_scale_ and _amp_foreach_non_finite_check_and_unscale_, so reference.py runs the real
// GradScaler class (scale/unscale_/step/update bookkeeping) with those two kernels replaced by
// Python transcriptions of their CUDA source (AmpKernels.cu). Both sides train two float32
// parameters with SGD on loss·S, with infs and nans injected at fixed iterations; the scale, the
// growth tracker, whether each step happened, and the parameters must agree.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { optim, scope, type Tensor } from '../../src/index.js';
import { Deviation, fromWire, Rng, runReference, toleranceFor, values, wireValues, type WireTensor } from './harness.js';

interface ScalerCase {
  name: string;
  options: Record<string, number>;
  iterations: number;
  /** Iteration → what to put in the first loss coefficient ('inf' or 'nan'). */
  poison: Map<number, 'inf' | 'nan'>;
  /** Iterations that call unscale_ and clip before step. */
  clipAt: Set<number>;
  recordParams: boolean;
}

const CASES: ScalerCase[] = [
  {
    name: 'growth interval 3, infs and nans, unscale_ + clipping on some iterations',
    options: { init_scale: 1024, growth_interval: 3 },
    iterations: 40,
    poison: new Map([[2, 'inf'], [3, 'nan'], [4, 'inf'], [11, 'inf'], [20, 'nan'], [21, 'inf'], [22, 'inf'], [35, 'inf']]),
    clipAt: new Set([1, 3, 10, 11, 12, 30]),
    recordParams: true,
  },
  {
    name: 'custom factors',
    options: { init_scale: 3.0, growth_factor: 1.5, backoff_factor: 0.3, growth_interval: 2 },
    iterations: 30,
    poison: new Map([[0, 'inf'], [7, 'inf'], [8, 'inf'], [9, 'inf'], [25, 'nan']]),
    clipAt: new Set(),
    recordParams: true,
  },
  {
    name: 'defaults (65536, ×2 after 2000 good steps, ×0.5 on overflow)',
    options: {},
    iterations: 2004,
    poison: new Map([[1, 'inf']]),
    clipAt: new Set(),
    recordParams: false,
  },
];

const CAMEL: Record<string, string> = { init_scale: 'initScale', growth_factor: 'growthFactor', backoff_factor: 'backoffFactor', growth_interval: 'growthInterval' };
const SHAPES = [[3, 2], [4]];

function wireCase(c: ScalerCase, seed: number) {
  const rng = new Rng(seed);
  const params = SHAPES.map((s) => rng.wire(s, 'float32'));
  const iterations = Array.from({ length: c.iterations }, (_, i) => {
    const coefs = SHAPES.map((s) => rng.wire(s, 'float32'));
    const poison = c.poison.get(i);
    if (poison) (coefs[0] as WireTensor).values[0] = poison;
    return { coefs, clip: c.clipAt.has(i) };
  });
  return { options: c.options, params, iterations, recordParams: c.recordParams };
}

type Wire = ReturnType<typeof wireCase>;
interface Iteration {
  scale: number;
  tracker: number;
  stepped: boolean;
  params?: WireTensor[];
}

function runOurs(w: Wire): { iterations: Iteration[]; stateDict: unknown; stepsTaken: number } {
  return scope(() => {
    const params = w.params.map((p) => fromWire(p).requiresGrad_());
    const opt = new optim.SGD(params, { lr: 0.1, momentum: 0.9 });
    // The documented way to keep a schedule in step with real optimizer steps.
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 1 });
    const options = Object.fromEntries(Object.entries(w.options).map(([k, v]) => [CAMEL[k] as string, v]));
    const scaler = new optim.GradScaler(options);
    const out: Iteration[] = [];
    for (const it of w.iterations) {
      scope(() => {
        opt.zeroGrad();
        const terms = params.map((p, i) => p.mul(fromWire(it.coefs[i] as WireTensor)).sum());
        const loss = terms.reduce((a, b) => a.add(b));
        scaler.scale(loss).backward();
        if (it.clip) {
          scaler.unscale_(opt);
          optim.clipGradNorm_(params, 1.0);
        }
        const stepped = scaler.step(opt);
        if (stepped) sched.step();
        scaler.update();
        out.push({ scale: scaler.getScale(), tracker: scaler.getGrowthTracker(), stepped, ...(w.recordParams ? { params: params.map((p) => ({ dtype: 'float32', shape: p.shape, values: values(p) })) } : {}) });
      });
    }
    const result = { iterations: out, stateDict: scaler.stateDict(), stepsTaken: sched.lastEpoch };
    opt.dispose();
    return result;
  });
}

describe('GradScaler matches torch.cuda.amp.GradScaler (its kernels transcribed)', () => {
  const wires = CASES.map((c, i) => wireCase(c, 3000 + i));
  let reference: { iterations: Iteration[]; stateDict: unknown }[] = [];
  before(() => {
    reference = runReference('scaler', wires);
  });

  CASES.forEach((c, ci) => {
    it(c.name, (t) => {
      const py = reference[ci] as (typeof reference)[number];
      const ours = runOurs(wires[ci] as Wire);
      const dev = new Deviation();
      ours.iterations.forEach((o, i) => {
        const e = py.iterations[i] as Iteration;
        assert.deepEqual([o.scale, o.tracker, o.stepped], [e.scale, e.tracker, e.stepped], `iteration ${i}: [scale, tracker, stepped]`);
        o.params?.forEach((p, k) => dev.check(wireValues(p), wireValues((e.params as WireTensor[])[k] as WireTensor), toleranceFor('float32'), `iteration ${i} param ${k}`));
      });
      assert.deepEqual(ours.stateDict, py.stateDict);
      assert.equal(ours.stepsTaken, ours.iterations.filter((x) => x.stepped).length, 'the schedule stepped once per real step');
      t.diagnostic(`parameters vs PyTorch: ${dev.toString()}`);
    });
  });

  it('enforces the order unscale_ → step → update', () => {
    scope(() => {
      const p = fromWire({ dtype: 'float32', shape: [2], values: [1, 2] }).requiresGrad_();
      const opt = new optim.SGD([p], { lr: 0.1 });
      const scaler = new optim.GradScaler();
      scaler.scale(p.sum()).backward();
      scaler.unscale_(opt);
      assert.throws(() => scaler.unscale_(opt), /already been called/);
      assert.equal(scaler.step(opt), true);
      assert.throws(() => scaler.step(opt), /already been called/);
      assert.throws(() => scaler.unscale_(opt), /after step/);
      scaler.update();
      assert.deepEqual(values(p.grad as Tensor), [1, 1], 'gradients were unscaled');
      assert.throws(() => scaler.update(), /no inf checks/);
      opt.dispose();
    });
  });

  it('scales in float32 even for a float16 loss, and refuses float16 gradients', () => {
    scope(() => {
      const loss = fromWire({ dtype: 'float32', shape: [], values: [60000] }).half();
      const scaled = new optim.GradScaler().scale(loss);
      assert.equal(scaled.dtype, 'float32');
      assert.equal(scaled.item(), 60000 * 65536);
      const p = fromWire({ dtype: 'float32', shape: [2], values: [1, 2] }).half().requiresGrad_();
      p.grad = fromWire({ dtype: 'float32', shape: [2], values: [1, 1] }).half();
      assert.throws(() => new optim.GradScaler().step(new optim.SGD([p], { lr: 1 })), /FP16 gradients/);
    });
  });

  it('state dict round trip, and a disabled scaler passes through', () => {
    const a = new optim.GradScaler({ initScale: 8, growthInterval: 5 });
    const b = new optim.GradScaler();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())) as optim.GradScalerStateDict);
    assert.deepEqual(b.stateDict(), a.stateDict());
    const off = new optim.GradScaler({ enabled: false });
    assert.deepEqual(off.stateDict(), {});
    assert.equal(off.getScale(), 1);
    scope(() => {
      const loss = fromWire({ dtype: 'float32', shape: [], values: [3] });
      assert.equal(off.scale(loss), loss);
    });
  });
});

