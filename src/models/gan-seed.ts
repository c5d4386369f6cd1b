// Seed 001's `create_gan` (/work/shared/seeds/001_*.txt), translated layer for layer as the other
// seeds' models are (see seeds.ts for Keras vs PyTorch: padding, layout, initialisation):
//
//   generator:     Dense(128, relu, input_shape=(100,)) → Reshape((4, 4, 3))
//   discriminator: Conv2D(32, 3×3, relu) → MaxPooling2D(2×2) → Conv2D(64, …) → pool → Conv2D(128, …)
//                  → pool → Flatten → Dense(1, sigmoid)
//
// As written neither half runs, and we make the two smallest changes that let the pair run:
// - The generator's Dense has 128 units, but Reshape((4, 4, 3)) needs 4·4·3 = 48 values (Keras
//   refuses to build it). We give the Dense 48 units: the one number that makes the reshape valid,
//   keeping the article's 4×4×3 images and its single dense layer.
// - The discriminator's three 3×3 'valid' convolutions and three 2×2 'valid' poolings need an input
//   of at least 22×22 (4 → 2 after the first convolution, → 1 after the first pooling, and the second
//   convolution has no 3×3 window left). We use Keras' other padding, 'same', in all six layers:
//   4×4 → conv 4×4 → pool 2×2 → conv 2×2 → pool 1×1 → conv 1×1 → pool 1×1. For 3×3 stride-1
//   convolutions 'same' is PyTorch's padding 1; for 2×2 stride-2 pooling it is ceil_mode (a 1×1 map
//   pools to 1×1 instead of 0×0), which equals 'valid' on even sizes.
// Layout: Keras' Reshape((4, 4, 3)) reads the 48 values as (H, W, C), channels last; our
// convolutions take (C, H, W), so the generator reshapes to (B, 4, 4, 3) and permutes to (B, 3, 4, 4):
// value h·12 + w·3 + c of the dense output is channel c at (h, w), as in Keras. The discriminator's
// Flatten sees a 1×1×128 map, whose (H, W, C) and (C, H, W) orders are the same.
// Outputs: the generator's images are ReLU outputs, so ≥ 0 (train it on images in [0, 1]); the
// discriminator returns (B,) probabilities (Keras' (B, 1) squeezed), trained with BCE.
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU, Sigmoid } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { kerasInit } from './blocks.js';
import { Gan } from './gan.js';
import type { SeedInit } from './seeds.js';

const NOISE = 100;
const SIDE = 4;
const CHANNELS = 3;

/** Dense(48, relu) on 100-d noise → (B, 3, 4, 4) images (Keras' (4, 4, 3), channels first); keys `layers.0.*`. */
export class SeedGanGenerator extends Module {
  readonly layers: Sequential;

  constructor() {
    super();
    this.layers = this.registerModule('layers', new Sequential(new Linear(NOISE, SIDE * SIDE * CHANNELS), new ReLU()));
  }

  /** (B, 100) or (B, 100, 1, 1) → (B, 3, 4, 4) */
  forward(z: Tensor): Tensor {
    const b = z.shape[0] as number;
    if (z.dim() < 2 || z.numel() !== b * NOISE) throw new RangeError(`SeedGanGenerator: noise must be (B, ${NOISE}) or (B, ${NOISE}, 1, 1), got shape [${z.shape.join(', ')}]`);
    const flat = this.layers.forward(z.reshape([b, NOISE])); // (B, 48)
    return flat.view(b, SIDE, SIDE, CHANNELS).permute([0, 3, 1, 2]); // Keras' (B, H, W, C) → (B, C, H, W)
  }
}

/** conv32/64/128 ('same', ReLU) each with a 2×2 'same' max pool, then Dense(1, sigmoid); keys `features.*`, `classifier.*`. */
export class SeedGanDiscriminator extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor() {
    super();
    const pool = () => new MaxPool2d(2, { ceilMode: true });
    this.features = this.registerModule(
      'features',
      new Sequential(
        new Conv2d(CHANNELS, 32, 3, { padding: 1 }), new ReLU(), pool(), // (B, 32, 2, 2)
        new Conv2d(32, 64, 3, { padding: 1 }), new ReLU(), pool(), // (B, 64, 1, 1)
        new Conv2d(64, 128, 3, { padding: 1 }), new ReLU(), pool(), // (B, 128, 1, 1)
      ),
    );
    this.classifier = this.registerModule('classifier', new Sequential(new Linear(128, 1), new Sigmoid()));
  }

  /** (B, 3, 4, 4) → (B,) probabilities that each image is real */
  forward(x: Tensor): Tensor {
    if (x.dim() !== 4 || x.shape[1] !== CHANNELS || x.shape[2] !== SIDE || x.shape[3] !== SIDE)
      throw new RangeError(`SeedGanDiscriminator: images must be (B, ${CHANNELS}, ${SIDE}, ${SIDE}), got shape [${x.shape.join(', ')}]`);
    return this.classifier.forward(this.features.forward(x).flatten(1)).squeeze(1);
  }
}

/** Seed 001's generator and discriminator as a Gan; `init` 'keras' (default: glorot-uniform kernels, zero biases) or 'pytorch'. */
export function seedGan(o: { init?: SeedInit } = {}): Gan<SeedGanGenerator, SeedGanDiscriminator> {
  const init = o.init ?? 'keras';
  if (init !== 'keras' && init !== 'pytorch') throw new RangeError(`seedGan: init must be 'keras' or 'pytorch', got '${String(init)}'`);
  const gan = new Gan(new SeedGanGenerator(), new SeedGanDiscriminator(), [NOISE, 1, 1]);
  if (init === 'keras') kerasInit(gan);
  return gan;
}
