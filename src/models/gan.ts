// A GAN as one module: a generator and a discriminator side by side, each with its own state dict
// (`gan.generator.stateDict()` has the keys a PyTorch `netG.state_dict()` has), trained by two
// optimizers over `gan.generator.parameters()` and `gan.discriminator.parameters()`. The pair's own
// state dict prefixes them (`generator.main.0.weight`), which is what one checkpoint of both holds.
//
// `forward(z)` is the generator's: a GAN in the zoo maps noise to images, and the discriminator is
// reached by its field. Both discriminators here end in a sigmoid and return (B,) probabilities of
// "real", the input BCE expects (PyTorch's DCGAN example trains them with nn.BCELoss).
import { randn } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type UnaryModule } from '../nn/module.js';

export class Gan<G extends UnaryModule = UnaryModule, D extends UnaryModule = UnaryModule> extends Module {
  readonly generator: G;
  readonly discriminator: D;
  /** The shape of one noise sample, without the batch: (nz, 1, 1) for DCGAN, (100, 1, 1) for seed 001. */
  readonly latentShape: readonly number[];

  constructor(generator: G, discriminator: D, latentShape: readonly number[]) {
    super();
    this.generator = this.registerModule('generator', generator);
    this.discriminator = this.registerModule('discriminator', discriminator);
    this.latentShape = [...latentShape];
  }

  /** (B, ...latentShape) noise → (B, C, H, W) images */
  forward(z: Tensor): Tensor {
    return this.generator.forward(z);
  }

  /** N(0, 1) noise for `batch` samples, (batch, ...latentShape), on the generator's device. */
  noise(batch: number): Tensor {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`Gan.noise: batch must be a positive integer, got ${batch}`);
    const device = this.generator.parameters()[0]?.device ?? 'cpu';
    return randn([batch, ...this.latentShape], { device });
  }
}
