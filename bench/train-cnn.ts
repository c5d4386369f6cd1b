// Training speed of the seeds' CNN on 32×32×3 inputs, batch 64, cross-entropy, Adam (lr 1e-3):
//   conv(3→32, 3×3) ReLU maxpool2 → conv(32→64, 3×3) ReLU maxpool2 → flatten (64·6·6 = 2304)
//   → dense 128 ReLU → dense 10
// with 'valid' padding as in Keras' default (32 → 30 → 15 → 13 → 6). Tessera is written with raw
// ops and a hand-written Adam that follows torch.optim.Adam of PyTorch 1.13 step by step: the
// binding without the nn and optim layers (train-cnn-nn is the same model written with nn modules
// and optim.Adam); the peer (bench/peers/train_cnn.py) is the same model in PyTorch with
// torch.optim.Adam. Metric: training images per second. The harness (bench/lib/training.ts) gives
// both sides the same initial weights and batches, checks the losses agree, warms up, and
// interleaves the timed repetitions.
//
//   node dist/bench/train-cnn.js [--threads N] [--reps 11] [--steps 30] [--batch 64]
import {
  conv2d, crossEntropyLoss, linear, maxPool2d, noGrad, relu, scope, zerosLike, type Tensor,
} from '../src/index.js';
import { runTrainingBench } from './lib/training.js';

const lr = 1e-3;
const beta1 = 0.9;
const beta2 = 0.999;
const eps = 1e-8;

/** torch.optim.Adam (PyTorch 1.13, single-tensor path, no weight decay, no amsgrad), by hand. */
function adam(params: Tensor[]): () => void {
  // Optimizer state lives outside every step scope, for the whole run.
  const m = params.map((p) => zerosLike(p));
  const v = params.map((p) => zerosLike(p));
  let step = 0;
  return () => {
    step++;
    const bias1 = 1 - beta1 ** step;
    const bias2 = 1 - beta2 ** step;
    const stepSize = lr / bias1;
    const bias2Sqrt = Math.sqrt(bias2);
    noGrad(() => {
      params.forEach((p, i) => {
        const g = p.grad as Tensor; // a new handle: the step's scope releases it
        const mi = m[i] as Tensor;
        const vi = v[i] as Tensor;
        mi.mul_(beta1).add_(g, { alpha: 1 - beta1 });
        vi.mul_(beta2).addcmul_(g, g, { value: 1 - beta2 });
        const denom = vi.sqrt().div(bias2Sqrt).add_(eps);
        p.addcdiv_(mi, denom, { value: -stepSize });
      });
    });
  };
}

await runTrainingBench({
  name: 'train-cnn',
  title: "the seeds' CNN (conv32-pool-conv64-pool-dense128-dense10) on 32x32x3, cross-entropy, Adam lr 1e-3, random inputs",
  peerScript: 'train_cnn.py',
  goal: 1.0,
  defaults: { batch: 64, batches: 8, steps: 30, warmup: 10, reps: 11, check: 5 },
  makeStep(params) {
    const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b] = params as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const forward = (x: Tensor): Tensor => {
      let h = maxPool2d(relu(conv2d(x, c1w, c1b, 1, 0)), 2);
      h = maxPool2d(relu(conv2d(h, c2w, c2b, 1, 0)), 2);
      h = relu(linear(h.flatten(1), f1w, f1b));
      return linear(h, f2w, f2b);
    };
    const optimizerStep = adam(params);
    // One scope per step: activations, loss, gradient handles and Adam's temporaries are released
    // when it ends; parameters and optimizer state were created outside and live on.
    return (x, y) =>
      scope(() => {
        for (const p of params) p.grad = null; // zero_grad(set_to_none=True)
        const loss = crossEntropyLoss(forward(x), y);
        loss.backward();
        optimizerStep();
        return loss.item() as number;
      });
  },
});
