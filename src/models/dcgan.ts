// DCGAN (Radford et al. 2015) as PyTorch's example builds it (pytorch/examples, dcgan/main.py):
// the same layers in the same `main` Sequential, so a `netG_epoch_N.pth` / `netD_epoch_N.pth` of the
// example loads by key (`main.0.weight`, `main.1.running_mean`, …) and, under the same seed, a fresh
// model has the example's weights (its `weights_init`, here `dcganInit`).
//
// At imageSize 64 (the example's) the layers are exactly the example's:
//   G: ConvT(nz→8ngf, 4, 1, 0) BN ReLU → ConvT(8ngf→4ngf, 4, 2, 1) BN ReLU → … → ConvT(ngf→nc, 4, 2, 1) Tanh
//      (B, nz, 1, 1) → 4×4 → 8×8 → 16×16 → 32×32 → 64×64
//   D: Conv(nc→ndf, 4, 2, 1) LeakyReLU(0.2) → Conv(ndf→2ndf, 4, 2, 1) BN LeakyReLU → … → Conv(8ndf→1, 4, 1, 0) Sigmoid
// Other sizes (for 28×28 Fashion-MNIST, or 32×32) keep the pattern and change only the depth and the
// first/last kernel: imageSize = b·2^k with b in 4..7 gives k stride-2 layers and a b×b kernel where
// the example has 4×4 (64 = 4·2⁴; 32 = 4·2³: one stride-2 layer fewer; 28 = 7·2²: two, kernel 7).
// The example's widths follow: the innermost layer has ngf·2^(k-1) (ndf·2^(k-1)) channels.
import type { Tensor } from '../tensor/tensor.js';
import { normal_, zeros_ } from '../nn/init.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { LeakyReLU, ReLU, Sigmoid, Tanh } from '../nn/layers/activation.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { positiveInt } from './blocks.js';
import { Gan } from './gan.js';

export interface DcganOptions {
  /** Length of the noise vector z (default 100). */
  nz?: number;
  /** Generator width: channels of its last hidden layer (default 64). */
  ngf?: number;
  /** Discriminator width: channels of its first layer (default 64). */
  ndf?: number;
  /** Image channels (default 3; 1 for grey images). */
  nc?: number;
  /** Square image side, b·2^k with b in 4..7 and k ≥ 1 (default 64, the example's). */
  imageSize?: number;
}

interface Shape {
  nz: number;
  ngf: number;
  ndf: number;
  nc: number;
  imageSize: number;
  /** Side of the innermost feature map (the first/last kernel). */
  base: number;
  /** Number of stride-2 layers. */
  levels: number;
}

function shapeOf(who: string, o: DcganOptions): Shape {
  const imageSize = positiveInt(who, 'imageSize', o.imageSize ?? 64);
  let base = imageSize;
  let levels = 0;
  while (base % 2 === 0 && base / 2 >= 4) {
    base /= 2;
    levels++;
  }
  if (levels === 0 || base > 7)
    throw new RangeError(`${who}: imageSize must be b·2^k with b in 4..7 and k ≥ 1 (e.g. 28, 32, 64, 128), got ${imageSize}`);
  return {
    nz: positiveInt(who, 'nz', o.nz ?? 100),
    ngf: positiveInt(who, 'ngf', o.ngf ?? 64),
    ndf: positiveInt(who, 'ndf', o.ndf ?? 64),
    nc: positiveInt(who, 'nc', o.nc ?? 3),
    imageSize,
    base,
    levels,
  };
}

/** The example's `_netG`: noise (B, nz, 1, 1) — or (B, nz) — to images (B, nc, S, S) in [-1, 1]. */
export class DcganGenerator extends Module {
  readonly nz: number;
  readonly main: Sequential;

  constructor(options: DcganOptions = {}) {
    super();
    const s = shapeOf('DcganGenerator', options);
    this.nz = s.nz;
    let c = s.ngf * 2 ** (s.levels - 1);
    const layers: Layer[] = [new ConvTranspose2d(s.nz, c, s.base, { stride: 1, padding: 0, bias: false }), new BatchNorm2d(c), new ReLU()]; // (B, c, b, b)
    for (let i = 1; i < s.levels; i++) {
      layers.push(new ConvTranspose2d(c, c / 2, 4, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(c / 2), new ReLU()); // side ×2
      c /= 2;
    }
    layers.push(new ConvTranspose2d(c, s.nc, 4, { stride: 2, padding: 1, bias: false }), new Tanh()); // (B, nc, S, S)
    this.main = this.registerModule('main', new Sequential(...layers));
  }

  /** (B, nz, 1, 1) or (B, nz) → (B, nc, S, S) */
  forward(z: Tensor): Tensor {
    const [b, n] = z.shape;
    if (!((z.dim() === 2 || (z.dim() === 4 && z.shape[2] === 1 && z.shape[3] === 1)) && n === this.nz))
      throw new RangeError(`DcganGenerator: noise must be (B, ${this.nz}, 1, 1) or (B, ${this.nz}), got shape [${z.shape.join(', ')}]`);
    return this.main.forward(z.dim() === 2 ? z.view(b as number, this.nz, 1, 1) : z);
  }
}

/** The example's `_netD`: images (B, nc, S, S) to the probability that each is real, (B,). */
export class DcganDiscriminator extends Module {
  readonly nc: number;
  readonly imageSize: number;
  readonly main: Sequential;

  constructor(options: DcganOptions = {}) {
    super();
    const s = shapeOf('DcganDiscriminator', options);
    this.nc = s.nc;
    this.imageSize = s.imageSize;
    let c = s.ndf;
    const layers: Layer[] = [new Conv2d(s.nc, c, 4, { stride: 2, padding: 1, bias: false }), new LeakyReLU(0.2)]; // side ÷2, no batch norm on the input layer
    for (let i = 1; i < s.levels; i++) {
      layers.push(new Conv2d(c, 2 * c, 4, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(2 * c), new LeakyReLU(0.2));
      c *= 2;
    }
    layers.push(new Conv2d(c, 1, s.base, { stride: 1, padding: 0, bias: false }), new Sigmoid()); // (B, 1, 1, 1)
    this.main = this.registerModule('main', new Sequential(...layers));
  }

  /** (B, nc, S, S) → (B,) probabilities: the example's `output.view(-1, 1).squeeze(1)` */
  forward(x: Tensor): Tensor {
    const [, c, h, w] = x.shape;
    // Another size would not fail in the convolutions: it would give several outputs per image.
    if (x.dim() !== 4 || c !== this.nc || h !== this.imageSize || w !== this.imageSize)
      throw new RangeError(`DcganDiscriminator: images must be (B, ${this.nc}, ${this.imageSize}, ${this.imageSize}), got shape [${x.shape.join(', ')}]`);
    return this.main.forward(x).view(-1, 1).squeeze(1);
  }
}

/**
 * The example's `weights_init`, applied as it does (`net.apply(weights_init)`, children first):
 * convolution and transposed-convolution weights ~ N(0, 0.02²); batch-norm weights ~ N(1, 0.02²),
 * biases 0. Returns the module.
 */
export function dcganInit<M extends Module>(model: M): M {
  return model.apply((m) => {
    if (m instanceof Conv2d || m instanceof ConvTranspose2d) normal_(m.weight, 0, 0.02);
    else if (m instanceof BatchNorm2d) {
      if (m.weight) normal_(m.weight, 1, 0.02);
      if (m.bias) zeros_(m.bias);
    }
  });
}

/** The example's pair: `netG` then `netD`, each built and then re-initialised by `dcganInit`, in that order. */
export function dcgan(options: DcganOptions = {}): Gan<DcganGenerator, DcganDiscriminator> {
  const generator = dcganInit(new DcganGenerator(options));
  const discriminator = dcganInit(new DcganDiscriminator(options));
  return new Gan(generator, discriminator, [generator.nz, 1, 1]);
}
