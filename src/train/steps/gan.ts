// The GAN training step of DCGAN (Radford et al. 2015) as PyTorch's example runs it
// (pytorch/examples dcgan/main.py), one batch of real images at a time:
//
//   (1) D: maximise log D(x) + log(1 − D(G(z)))
//       errD_real = BCE(D(x), 1)              backward
//       fake = G(z), z ~ N(0, 1)
//       errD_fake = BCE(D(fake.detach()), 0)  backward      (the generator's graph is cut)
//       step D
//   (2) G: maximise log D(G(z))  (the "non-saturating" loss of Goodfellow et al. 2014)
//       errG = BCE(D(fake), 1)                backward      (through the updated D, into G)
//       step G
//
// Both models are children of one `Gan` module (models/gan.ts), so one state dict — one checkpoint —
// holds them; each has its own optimizer (`optimizers.generator`, `optimizers.discriminator`) and so
// its own LR schedule (SchedulerCallback with `optimizer`). The noise comes from torch's generator,
// whose state the checkpoints carry: a resumed run draws the same z.
//
// One-sided label smoothing (Salimans et al. 2016, "Improved techniques for training GANs"): the
// discriminator's target for real images is 1 − labelSmoothing; fakes keep 0 and the generator's
// target stays 1.
//
// Events: the generator's loss goes through t.loss (it is the batch's `loss`: History's train_loss,
// the progress bar, the non-finite guard); the discriminator's does not (History would add the two).
// `figures` holds the batch's D and G losses and D's mean outputs — D(x), D(G(z)) before D's update
// and D(G(z)) after it, the example's `D(x) D(G(z)): a / b` — for GanHistory (gan-history.ts).
import { Adam } from '../../optim/adam.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Gan } from '../../models/gan.js';
import { binaryCrossEntropy, full, stack } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { StepTools, TrainStep } from '../step.js';

/** The order of GanStep.figures' values. */
export const GAN_FIGURES = ['loss_d', 'loss_g', 'd_x', 'd_g_z1', 'd_g_z2'] as const;
export type GanFigure = (typeof GAN_FIGURES)[number];

export interface GanOptimizers {
  generator: Optimizer;
  discriminator: Optimizer;
}

export interface GanStepOptions {
  /** Default: dcganOptimizers(gan). */
  optimizers?: GanOptimizers;
  /** One-sided: real images' target is 1 − labelSmoothing, in [0, 0.5) (default 0). */
  labelSmoothing?: number;
}

/** The example's optimizers: Adam for each model, lr 2e-4, betas (0.5, 0.999). */
export function dcganOptimizers(gan: Gan, o: { lr?: number; beta1?: number; beta2?: number } = {}): GanOptimizers {
  const options = { lr: o.lr ?? 2e-4, betas: [o.beta1 ?? 0.5, o.beta2 ?? 0.999] as [number, number] };
  return { generator: new Adam(gan.generator.parameters(), options), discriminator: new Adam(gan.discriminator.parameters(), options) };
}

/** D's probabilities as (B,) float32, checked to hold one per image. */
function probabilities(out: Tensor, n: number): Tensor {
  if (out.numel() !== n) throw new RangeError(`GanStep: the discriminator must give one probability per image, got shape [${out.shape.join(', ')}] for ${n} images`);
  return out.reshape([n]).to({ dtype: 'float32' }); // BCE in float32 also under mixed precision
}

export class GanStep implements TrainStep {
  readonly optimizers: Readonly<GanOptimizers>;
  readonly labelSmoothing: number;
  /** The current batch's GAN_FIGURES, (5,) float32; undefined until a batch completes both updates (it dies with the batch). */
  figures: Tensor | undefined;

  constructor(
    readonly gan: Gan,
    options: GanStepOptions = {},
  ) {
    this.labelSmoothing = options.labelSmoothing ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing < 0.5)) throw new RangeError(`GanStep: labelSmoothing must be in [0, 0.5), got ${this.labelSmoothing}`);
    const o = options.optimizers ?? dcganOptimizers(gan);
    // Generator first: its lr is the logged `lr`, its loss the logged `loss`.
    this.optimizers = { generator: o.generator, discriminator: o.discriminator };
  }

  async run(t: StepTools): Promise<void> {
    this.figures = undefined;
    const { generator: G, discriminator: D } = this.gan;
    const n = t.x.shape[0] as number;
    const device = t.x.device;
    const target = (v: number) => full([n], v, { dtype: 'float32', device });

    // (1) The discriminator. Its gradients still hold what the generator's last backward put there.
    this.optimizers.discriminator.zeroGrad();
    const dReal = probabilities(t.autocast(() => D.forward(t.x)), n);
    const errReal = binaryCrossEntropy(dReal, target(1 - this.labelSmoothing));
    await t.backward(errReal);
    const fake = t.autocast(() => G.forward(this.gan.noise(n)));
    const dFake = probabilities(t.autocast(() => D.forward(fake.detach())), n);
    const errFake = binaryCrossEntropy(dFake, target(0));
    await t.backward(errFake);
    await t.step(this.optimizers.discriminator);

    // (2) The generator, judged by the discriminator just updated.
    const dAfter = probabilities(await t.forward(() => D.forward(fake)), n);
    const errG = await t.loss(() => binaryCrossEntropy(dAfter, target(1)));
    await t.backward(errG);
    await t.step(this.optimizers.generator);

    this.figures = stack([errReal.add(errFake), errG, dReal.mean(), dFake.mean(), dAfter.mean()]).detach(); // GAN_FIGURES
  }
}
