// ModelEMA against its formula written in Python (reference.py, run_ema): a module with a float
// parameter, a float buffer and an integer buffer changes through a fixed sequence of states; the
// average after each update must match. Also copyTo and the state-dict round trip.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { nn, noGrad, optim, scope, tensor, type Tensor } from '../../src/index.js';
import { Deviation, fromWire, Rng, runReference, toleranceFor, values, wireValues, type FloatDType, type WireTensor } from './harness.js';

/** weight (3, 2) and bias (2) parameters, a float buffer and an int64 counter buffer. */
class Tiny extends nn.Module {
  readonly weight: Tensor;

  constructor(dtype: FloatDType) {
    super();
    this.weight = this.registerParameter('weight', tensor([[0, 0], [0, 0], [0, 0]], { dtype }));
    this.registerParameter('bias', tensor([0, 0], { dtype }));
    this.registerBuffer('running', tensor([0, 0, 0, 0], { dtype }));
    this.registerBuffer('count', tensor([0], { dtype: 'int64' }));
  }

  forward(x: Tensor): Tensor {
    return x;
  }
}

interface EMACase {
  name: string;
  options: optim.EMAOptions;
  dtype?: FloatDType;
}

const CASES: EMACase[] = [
  { name: 'constant decay 0.9', options: { decay: 0.9 } },
  { name: 'warm-up (γ 1, p 2/3) capped at 0.999', options: { decay: 0.999, warmup: true } },
  { name: 'warm-up γ 2, p 3/4, minDecay 0.3, float64', options: { decay: 0.99, warmup: { gamma: 2, power: 0.75 }, minDecay: 0.3 }, dtype: 'float64' },
];

const UPDATES = 30;

function snapshots(dtype: FloatDType, seed: number): [string, WireTensor][][] {
  const rng = new Rng(seed);
  return Array.from({ length: UPDATES }, (_, n) => [
    ['weight', rng.wire([3, 2], dtype)],
    ['bias', rng.wire([2], dtype)],
    ['running', rng.wire([4], dtype)],
    ['count', { dtype: 'int64', shape: [1], values: [n + 1] }],
  ]);
}

function setState(model: nn.Module, snapshot: [string, WireTensor][]): void {
  scope(() => model.loadStateDict(new Map(snapshot.map(([k, w]) => [k, fromWire(w)]))));
}

describe('ModelEMA follows its formula', () => {
  const data = CASES.map((c, i) => snapshots(c.dtype ?? 'float32', 4000 + i));
  let reference: { averages: [string, WireTensor][][] }[] = [];
  before(() => {
    reference = runReference(
      'ema',
      CASES.map((c, i) => {
        const w = c.options.warmup;
        const warmup = w === undefined || w === false ? null : { gamma: (w === true ? undefined : w.gamma) ?? 1, power: (w === true ? undefined : w.power) ?? 2 / 3 };
        const initial = [...new Tiny(c.dtype ?? 'float32').stateDict()].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, values: values(t).map(Number) }]);
        return { initial, snapshots: data[i], decay: c.options.decay, warmup, minDecay: c.options.minDecay ?? 0 };
      }),
    );
  });

  CASES.forEach((c, ci) => {
    it(c.name, (t) => {
      const model = new Tiny(c.dtype ?? 'float32');
      const ema = new optim.ModelEMA(model, c.options);
      const dev = new Deviation();
      (data[ci] as [string, WireTensor][][]).forEach((snapshot, n) => {
        setState(model, snapshot);
        ema.update(model);
        const expected = new Map((reference[ci] as { averages: [string, WireTensor][][] }).averages[n]);
        for (const [k, avg] of ema.weights) dev.check(values(avg).map(Number), wireValues(expected.get(k) as WireTensor), toleranceFor(c.dtype ?? 'float32'), `update ${n + 1} ${k}`);
      });
      assert.equal(ema.updates, UPDATES);
      t.diagnostic(`vs formula: ${dev.toString()}`);
      ema.dispose();
      model.dispose();
    });
  });

  it('copyTo writes the average into a model; the state dict resumes exactly', () => {
    const model = new Tiny('float32');
    const ema = new optim.ModelEMA(model, { decay: 0.8, warmup: true });
    const snaps = data[0] as [string, WireTensor][][];
    snaps.slice(0, 10).forEach((s) => {
      setState(model, s);
      ema.update(model);
    });
    const resumed = new optim.ModelEMA(model, { decay: 0.8, warmup: true });
    resumed.loadStateDict(ema.stateDict());
    for (const s of snaps.slice(10)) {
      setState(model, s);
      ema.update(model);
      resumed.update(model);
    }
    for (const [k, v] of ema.weights) assert.deepEqual(values(resumed.weights.get(k) as Tensor), values(v), k);
    const target = new Tiny('float32');
    ema.copyTo(target);
    for (const [k, v] of target.stateDict()) assert.deepEqual(values(v), values(ema.weights.get(k) as Tensor), k);
    noGrad(() => target.weight.add_(1)); // the copy is independent of the average
    assert.notDeepEqual(values(target.weight), values(ema.weights.get('weight') as Tensor));
    for (const m of [ema, resumed, model, target]) m.dispose();
  });
});
