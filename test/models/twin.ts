// The twin harness: a zoo model against its PyTorch/torchvision twin (test/models/twins.py), in
// one Python process for a whole list of cases. For each case it checks
//   - the state dict: the same keys in the same order, the same shapes, the same parameter count;
//   - the initialisation: under the same seed, every tensor's float64 sum and absolute sum agree
//     to 1e-9 relative (the same numbers drawn in the same order);
//   - the forward pass: the twin loads Tessera's weights (batch-norm running statistics randomised
//     first, so eval mode is not an identity) — or, for `weights: 'seed'`, draws the same ones
//     from the seed — and both run one input in eval mode; outputs and input gradients (of
//     y.sum()) agree within |a - b| ≤ 1e-4·|b| + 1e-5·max|b|, single-threaded on both sides;
//   - with `train`, then one training-mode step from the same weights (batch statistics, and any
//     noise the model draws, from the same seed on both sides): the output, the gradients of
//     Σ y·w (w = sin(0.37·i), so batch norm's gradients do not cancel) with respect to the input and
//     to every parameter, by name, and every buffer afterwards (running statistics, counters), same tolerance.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { arange, io, manualSeed, nn, noGrad, randn, scope, type models, type Tensor } from '../../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TWINS = join(HERE, '..', '..', '..', 'test', 'models', 'twins.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export interface TwinCase {
  name: string;
  build: () => models.ZooModel;
  /** Python expression building the twin (twins.py's classes, torch, nn, torchvision in scope). */
  twin: string;
  seed: number;
  /** Input shape for the forward comparison; absent: keys and initialisation only. */
  input?: number[];
  /** 'file' (default): the twin loads our weights; 'seed': both draw them from the seed (huge models). */
  weights?: 'file' | 'seed';
  /** Also compare a training-mode forward and backward (needs `input`). */
  train?: boolean;
}

interface TwinReport {
  keys: string[];
  shapes: number[][];
  sums: number[];
  abs: number[];
  numParameters: number;
}

export interface TwinResult {
  ours: { keys: string[]; shapes: number[][]; sums: number[]; abs: number[]; numParameters: number };
  ref: TwinReport;
  forward?: { y: Tensor; gx: Tensor; refY: Tensor; refGx: Tensor };
  /** The training step's tensors by name ('y', 'gx', 'grad.<param>', 'state.<key>'), ours and PyTorch's. */
  train?: { ours: Map<string, Tensor>; ref: Map<string, Tensor> };
}

const stats = (sd: Map<string, Tensor>) =>
  scope(() => ({
    keys: [...sd.keys()],
    shapes: [...sd.values()].map((t) => t.shape),
    sums: [...sd.values()].map((t) => t.double().sum().item() as number),
    abs: [...sd.values()].map((t) => t.double().abs().sum().item() as number),
  }));

/** Runs every case on both sides; returns per-case results (tensors to dispose by the caller). */
export function runTwins(cases: readonly TwinCase[]): Map<string, TwinResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-twins-'));
  try {
    const ours = new Map<string, { model: models.ZooModel; info: TwinResult['ours']; x?: Tensor }>();
    const requests: Record<string, unknown>[] = [];
    for (const c of cases) {
      manualSeed(c.seed);
      const model = c.build();
      const info = { ...stats(model.stateDict()), numParameters: model.numParameters() };
      const req: Record<string, unknown> = { name: c.name, build: c.twin, seed: c.seed, train: c.train ?? false };
      let x: Tensor | undefined;
      if (c.input) {
        if ((c.weights ?? 'file') === 'file') {
          randomizeRunningStats(model);
          req.weights = join(dir, `${c.name}.weights.pt`);
          io.saveStateDict(req.weights as string, model);
        }
        manualSeed(c.seed + 1);
        x = randn(c.input);
        req.input = join(dir, `${c.name}.input.pt`);
        req.output = join(dir, `${c.name}.output.pt`);
        io.savePt(req.input as string, { x });
      }
      ours.set(c.name, { model, info, ...(x ? { x } : {}) });
      requests.push(req);
      if (!c.input) model.dispose(); // nothing more to run: free big models early
    }
    const r = spawnSync(PYTHON, [TWINS], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, `twins.py failed:\n${r.stderr}`);
    const refs = JSON.parse(r.stdout) as Record<string, TwinReport>;
    const out = new Map<string, TwinResult>();
    for (const c of cases) {
      const o = ours.get(c.name)!;
      const result: TwinResult = { ours: o.info, ref: refs[c.name]! };
      if (o.x) {
        const x = o.x.requiresGrad_();
        o.model.eval();
        const y = o.model.forward(x);
        scope(() => y.sum().backward());
        const ref = io.loadPt(join(dir, `${c.name}.output.pt`));
        result.forward = { y: y.detach(), gx: x.grad!, refY: ref.get('y')!, refGx: ref.get('gx')! };
        y.dispose();
        if (c.train) result.train = { ours: trainStep(o.model, o.x, c.seed + 2), ref: io.loadPt(join(dir, `${c.name}.train.pt`)) };
        o.model.dispose();
      }
      out.set(c.name, result);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One training-mode forward and backward of Σ y·w from a fresh copy of x, as twins.py's `train_step`. */
function trainStep(model: models.ZooModel, x0: Tensor, seed: number): Map<string, Tensor> {
  model.zeroGrad();
  model.train();
  const x = x0.detach().clone().requiresGrad_();
  manualSeed(seed);
  const y = model.forward(x);
  scope(() => {
    const w = arange(y.numel(), { dtype: y.dtype }).mul(0.37).sin().view(y.shape);
    y.mul(w).sum().backward();
  });
  const out = new Map<string, Tensor>([['y', y.detach()], ['gx', x.grad!]]);
  for (const [name, p] of model.namedParameters()) if (p.grad) out.set(`grad.${name}`, p.grad.clone());
  for (const [key, t] of model.namedBuffers()) out.set(`state.${key}`, t.detach().clone());
  y.dispose();
  return out;
}

/** Batch-norm running means ~ U(-0.5, 0.5), variances ~ U(0.5, 1.5): eval mode then does something. */
function randomizeRunningStats(model: nn.Module): void {
  noGrad(() => {
    for (const [name, b] of model.namedBuffers()) {
      if (name.endsWith('running_mean')) nn.init.uniform_(b, -0.5, 0.5);
      else if (name.endsWith('running_var')) nn.init.uniform_(b, 0.5, 1.5);
    }
  });
}

/** The checks listed at the top of this file, for one case. */
export function assertTwin(name: string, r: TwinResult): void {
  assert.deepEqual(r.ours.keys, r.ref.keys, `${name}: state dict keys`);
  assert.deepEqual(r.ours.shapes, r.ref.shapes, `${name}: state dict shapes`);
  assert.equal(r.ours.numParameters, r.ref.numParameters, `${name}: parameter count`);
  r.ours.keys.forEach((k, i) => {
    for (const [what, a, b] of [['sum', r.ours.sums[i]!, r.ref.sums[i]!], ['abs sum', r.ours.abs[i]!, r.ref.abs[i]!]] as const)
      assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${name}: initial ${k} ${what} ${a} vs PyTorch ${b}`);
  });
  if (r.forward) {
    const f = r.forward;
    closeTo(`${name}: output`, f.y, f.refY);
    closeTo(`${name}: input gradient`, f.gx, f.refGx);
  }
  if (r.train) {
    const { ours, ref } = r.train;
    assert.deepEqual([...ours.keys()].sort(), [...ref.keys()].sort(), `${name}: training step: the same gradients and state`);
    for (const [k, t] of ref) {
      if (t.dtype === 'int64') assert.deepEqual(ours.get(k)!.toArray(), t.toArray(), `${name}: training step ${k}`);
      else closeTo(`${name}: training step ${k}`, ours.get(k)!, t);
    }
  }
}

function closeTo(what: string, a: Tensor, b: Tensor): void {
  assert.deepEqual(a.shape, b.shape, `${what} shape`);
  const av = a.data() as Float32Array;
  const bv = b.data() as Float32Array;
  const scale = bv.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0, `${what}: the reference is all zeros (a comparison that cannot fail)`);
  for (let i = 0; i < bv.length; i++)
    assert.ok(Math.abs(av[i]! - bv[i]!) <= 1e-4 * Math.abs(bv[i]!) + 1e-5 * scale, `${what}[${i}]: ${av[i]} vs PyTorch ${bv[i]}`);
}
