// The learning-rate range test (Leslie Smith, "Cyclical Learning Rates", 2017): train for a few
// batches while the lr grows exponentially from startLr to endLr,
//   lr_i = startLr · (endLr / startLr)^(i / (numIter − 1)),
// record the loss smoothed by an exponential moving average with bias correction,
//   s_i = β·s_{i−1} + (1 − β)·loss_i,   smoothed_i = s_i / (1 − β^(i+1)),
// and stop once it diverges (smoothed > divergeFactor × the best so far, or not finite). The
// model, the optimizer (state and lrs) and the RNG are put back as they were afterwards.
// Suggestions: 'steepest' — where the smoothed loss falls fastest per unit of log lr;
// 'valley' — halfway along the longest stretch over which the loss keeps decreasing.
import type { BatchSource } from '../data/types.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import { noGrad } from '../tensor/autograd.js';
import { persist, scope } from '../tensor/memory.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { cancelFit, type Callback, type Cancel, type TrainContext } from './events.js';
import type { LossFn, MixedPrecision, Model } from './inference.js';
import { Learner } from './learner.js';

export interface LrFindOptions {
  model: Model;
  train: BatchSource;
  optimizer: Optimizer;
  loss: LossFn;
  startLr?: number;
  endLr?: number;
  /** Batches in the sweep at most (default 100). */
  numIter?: number;
  /** β of the loss average (default 0.98). */
  beta?: number;
  /** Stop when the smoothed loss exceeds this multiple of the best (default 4). */
  divergeFactor?: number;
  rule?: 'steepest' | 'valley';
  seed?: number;
  mixedPrecision?: MixedPrecision;
  device?: string;
}

export interface LrFindResult {
  lrs: number[];
  /** Smoothed losses, one per lr. */
  losses: number[];
  rawLosses: number[];
  suggestion: number | undefined;
  rule: 'steepest' | 'valley';
  /** Why the sweep ended: 'diverged' or 'completed' (numIter reached or data exhausted). */
  ended: 'diverged' | 'completed';
  /** The sweep plotted (renderLrPlot). */
  svg: string;
}

class LrSweep implements Callback {
  readonly name = 'lrFind';
  readonly order = -100;
  readonly lrs: number[] = [];
  readonly losses: number[] = [];
  readonly rawLosses: number[] = [];
  diverged = false;
  #avg = 0;
  #best = Infinity;

  constructor(readonly o: Required<Pick<LrFindOptions, 'startLr' | 'endLr' | 'numIter' | 'beta' | 'divergeFactor'>>) {}

  lrAt(i: number): number {
    const { startLr, endLr, numIter } = this.o;
    return numIter === 1 ? startLr : startLr * (endLr / startLr) ** (i / (numIter - 1));
  }

  beforeBatch(ctx: TrainContext): void {
    const lr = this.lrAt(this.lrs.length);
    for (const g of ctx.optimizer.paramGroups) g.lr = lr;
  }

  afterLoss(ctx: TrainContext): Cancel | undefined {
    const i = this.lrs.length;
    const loss = ctx.lossValue;
    this.lrs.push(this.lrAt(i));
    this.rawLosses.push(loss);
    this.#avg = this.o.beta * this.#avg + (1 - this.o.beta) * loss;
    const smoothed = this.#avg / (1 - this.o.beta ** (i + 1));
    this.losses.push(smoothed);
    if (!Number.isFinite(smoothed) || (i > 0 && smoothed > this.o.divergeFactor * this.#best)) {
      this.diverged = true;
      return cancelFit('lr finder: the loss diverged');
    }
    this.#best = Math.min(this.#best, smoothed);
    return undefined;
  }

  afterBatch(): Cancel | undefined {
    return this.lrs.length >= this.o.numIter ? cancelFit('lr finder: sweep complete') : undefined;
  }
}

/** Runs the range test and restores the model, optimizer and RNG. */
export async function lrFind(options: LrFindOptions): Promise<LrFindResult> {
  const o = { startLr: 1e-7, endLr: 10, numIter: 100, beta: 0.98, divergeFactor: 4, ...options };
  if (!(o.startLr > 0 && o.endLr > o.startLr)) throw new RangeError(`lrFind: need 0 < startLr < endLr, got ${o.startLr} and ${o.endLr}`);
  if (!(Number.isInteger(o.numIter) && o.numIter >= 2)) throw new RangeError(`lrFind: numIter must be an integer ≥ 2, got ${o.numIter}`);
  const rule = o.rule ?? 'steepest';
  const sweep = new LrSweep(o);
  const { model, optimizer } = o;
  const saved = saveState(model, optimizer);
  try {
    const perEpoch = o.train.batchesPerEpoch;
    const epochs = perEpoch ? Math.ceil(o.numIter / perEpoch) : o.numIter;
    const learner = new Learner({ model, loss: o.loss, ...(o.mixedPrecision !== undefined ? { precision: o.mixedPrecision } : {}), ...(o.device ? { device: o.device } : {}) });
    await learner.fit({ train: o.train, epochs, optimizer, seed: o.seed ?? 0, callbacks: [sweep] });
  } finally {
    saved.restore();
  }
  const suggestion = rule === 'steepest' ? steepest(sweep.lrs, sweep.losses) : valley(sweep.lrs, sweep.losses);
  const result = { lrs: sweep.lrs, losses: sweep.losses, rawLosses: sweep.rawLosses, suggestion, rule, ended: sweep.diverged ? ('diverged' as const) : ('completed' as const) };
  return { ...result, svg: renderLrPlot(result) };
}

function saveState(model: Model, optimizer: Optimizer): { restore(): void } {
  const training = model.training;
  const weights = noGrad(() => scope(() => new Map([...model.stateDict()].map(([k, v]) => [k, persist(v.clone())]))));
  const osd = optimizer.stateDict();
  const optState: OptimizerStateDict = {
    param_groups: structuredClone(osd.param_groups),
    state: new Map([...osd.state].map(([id, s]) => [id, Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? persist(noGrad(() => v.clone())) : v]))])),
  };
  const rng = persist(getRngState());
  return {
    restore() {
      try {
        model.loadStateDict(weights);
        optimizer.loadStateDict(optState);
        setRngState(rng);
        model.train(training);
      } finally {
        for (const t of weights.values()) t.dispose();
        for (const s of optState.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
        rng.dispose();
      }
    },
  };
}

/** The lr where the smoothed loss falls fastest in log lr (central differences), ignoring the first and last tenth. */
export function steepest(lrs: readonly number[], losses: readonly number[]): number | undefined {
  const n = losses.length;
  if (n < 3) return undefined;
  const lo = Math.min(Math.floor(n / 10), n - 3);
  const hi = Math.max(n - Math.floor(n / 20), lo + 3);
  let best: number | undefined;
  let bestSlope = Infinity;
  for (let i = lo + 1; i < hi - 1; i++) {
    const slope = ((losses[i + 1] as number) - (losses[i - 1] as number)) / (Math.log(lrs[i + 1] as number) - Math.log(lrs[i - 1] as number));
    if (slope < bestSlope) {
      bestSlope = slope;
      best = i;
    }
  }
  return best === undefined ? undefined : lrs[best];
}

/** Halfway along the longest strictly decreasing subsequence of the losses (its index span). */
export function valley(lrs: readonly number[], losses: readonly number[]): number | undefined {
  const n = losses.length;
  if (n < 2) return undefined;
  // len[i]: the longest decreasing run (not necessarily contiguous) ending at i; from[i]: where it starts.
  const len = new Array<number>(n).fill(1);
  const from = Array.from({ length: n }, (_, i) => i);
  let end = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if ((losses[i] as number) < (losses[j] as number) && (len[j] as number) + 1 > (len[i] as number)) {
        len[i] = (len[j] as number) + 1;
        from[i] = from[j] as number;
      }
    }
    if ((len[i] as number) > (len[end] as number)) end = i;
  }
  const start = from[end] as number;
  return lrs[start + Math.floor((end - start) / 2)];
}

/** The sweep as an SVG line chart: log lr across, smoothed loss up, the suggestion marked. */
export function renderLrPlot(result: Pick<LrFindResult, 'lrs' | 'losses' | 'suggestion'>, size = { width: 640, height: 400 }): string {
  const { width: W, height: H } = size;
  const m = { l: 60, r: 20, t: 20, b: 40 };
  const pts = result.lrs.map((lr, i) => [Math.log10(lr), result.losses[i] as number] as const).filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle">no finite losses</text></svg>`;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) + (xs.length === 1 ? 1 : 0)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys) + (Math.min(...ys) === Math.max(...ys) ? 1 : 0)];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const line = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const ticks: string[] = [];
  for (let d = Math.ceil(x0); d <= Math.floor(x1); d++)
    ticks.push(`<line x1="${sx(d)}" y1="${H - m.b}" x2="${sx(d)}" y2="${H - m.b + 5}" stroke="#333"/><text x="${sx(d)}" y="${H - m.b + 18}" font-size="11" text-anchor="middle">1e${d}</text>`);
  for (const f of [0, 0.5, 1]) {
    const y = y0 + f * (y1 - y0);
    ticks.push(`<text x="${m.l - 6}" y="${sy(y) + 4}" font-size="11" text-anchor="end">${y.toPrecision(3)}</text>`);
  }
  const s = result.suggestion;
  const i = s === undefined ? -1 : result.lrs.indexOf(s);
  const mark = i >= 0 && Number.isFinite(result.losses[i]) ? `<circle cx="${sx(Math.log10(s as number))}" cy="${sy(result.losses[i] as number)}" r="5" fill="#d62728"><title>suggested lr ${(s as number).toExponential(2)}</title></circle>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    ...ticks,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line}"/>`,
    mark,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">learning rate (log scale)</text>`,
    `<text x="14" y="${(m.t + H - m.b) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">smoothed loss</text>`,
    '</svg>',
  ].join('\n');
}
