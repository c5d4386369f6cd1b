// The fused optimizer step: SGD (Nesterov momentum, weight decay) over a model's parameters with
// one native call per parameter group and line of the update (`foreach: true`, opt-in) against one
// op per tensor (`foreach: false`). Same parameters, same gradients, interleaved (ABBA); the two
// paths are first checked to leave bit-identical parameters. No peer: the question is what the list
// path saves of a step (optimizers.test.ts checks both paths against PyTorch).
//
//   node dist/bench/optimizer-step.js [--model fashion-net] [--steps 200] [--reps 5] [--threads N]
import { manualSeed, models, noGrad, optim, scope, setNumThreads, type Tensor } from '../src/index.js';
import { weightDecayGroups } from '../src/nn/regularization.js';
import { defaultThreads, describeLoad, describeStats, interleaveN, parseFlags, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ model: 'fashion-net', steps: 200, reps: 5, threads: defaultThreads() }, 'node dist/bench/optimizer-step.js');
setNumThreads(flags.threads);
manualSeed(0);

/** A zoo model with fixed gradients on every parameter, and an SGD over it as the main job builds one. */
function setUp(foreach: boolean) {
  manualSeed(0);
  const model = models.createModel(flags.model, { classes: 10 });
  noGrad(() => scope(() => model.parameters().forEach((p) => (p.grad = p.detach().mul(1e-3).add(1e-4)))));
  const opt = new optim.SGD(weightDecayGroups(model, 5e-4).filter((g) => g.params.length > 0), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, foreach });
  return { model, opt };
}
const list = setUp(true);
const perTensor = setUp(false);
const tensors = list.model.parameters().length;

const timed = (opt: optim.Optimizer) => () => {
  const t0 = performance.now();
  for (let i = 0; i < flags.steps; i++) opt.step();
  return (flags.steps / (performance.now() - t0)) * 1000;
};

// Untimed: equal work (the same parameters after the same number of steps).
for (let i = 0; i < 10; i++) [list.opt, perTensor.opt].forEach((o) => o.step());
const drift = scope(() => Math.max(...list.model.parameters().map((p, i) => Number(p.sub(perTensor.model.parameters()[i] as Tensor).abs().max().item()))));
if (drift !== 0) throw new Error(`optimizer-step: the two paths disagree after 10 steps (max |Δ| = ${drift})`);

const r = await interleaveN({
  reps: flags.reps,
  sides: [{ label: 'foreach', run: timed(list.opt) }, { label: 'per-tensor', run: timed(perTensor.opt) }],
  pids: () => [process.pid],
});
const [a, b] = r.values.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
console.log(`optimizer-step: ${flags.model} (${tensors} parameter tensors, ${list.opt.paramGroups.length} groups), SGD Nesterov + weight decay, ${flags.steps} steps × ${flags.reps} reps, ${flags.threads} threads`);
console.log(`  foreach     ${describeStats(a, 'steps/s')}  (${(1e6 / a.median).toFixed(0)} µs/step)`);
console.log(`  per tensor  ${describeStats(b, 'steps/s')}  (${(1e6 / b.median).toFixed(0)} µs/step)`);
console.log('  same work: after 10 untimed steps both models are bit-identical');
console.log(`  ${describeLoad(r)}`);
console.log(resultLine('optimizer-step', a.median, b.median, 'steps/s'));
