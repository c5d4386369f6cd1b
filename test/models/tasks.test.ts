// The zoo's models beyond classification — DCGAN, seed 001's GAN, U-Net, the autoencoders — against
// their PyTorch twins (twins.py: PyTorch's DCGAN example, milesial/Pytorch-UNet, the seed's GAN with
// the changes gan-seed.ts explains), with a training-mode step (outputs, input and parameter
// gradients, running statistics) on top of twin.ts's checks; then what each model promises on its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { getNumThreads, manualSeed, models, nn, randn, scope, setNumThreads, type Tensor } from '../../src/index.js';
import { assertTwin, runTwins, type TwinCase, type TwinResult } from './twin.js';

/** A Gan whose forward is its discriminator's: the Gan's keys, to check that half on its own. */
class DiscriminatorOf extends nn.Module {
  readonly generator: nn.UnaryModule;
  readonly discriminator: nn.UnaryModule;
  constructor(gan: models.Gan) {
    super();
    this.generator = this.registerModule('generator', gan.generator);
    this.discriminator = this.registerModule('discriminator', gan.discriminator);
  }
  forward(x: Tensor): Tensor {
    return this.discriminator.forward(x);
  }
}

const CASES: TwinCase[] = [
  // PyTorch's example at its own size: 64×64×3, nz 100, ngf = ndf = 64.
  { name: 'dcgan-64 generator', build: () => models.dcgan(), twin: 'dcgan()', seed: 31, input: [2, 100, 1, 1], train: true },
  { name: 'dcgan-64 discriminator', build: () => new DiscriminatorOf(models.dcgan()), twin: 'DiscriminatorOf(dcgan())', seed: 32, input: [2, 3, 64, 64], train: true },
  // The Fashion-MNIST size: 28 = 7·2², two stride-2 layers and a 7×7 kernel.
  { name: 'dcgan-28 generator', build: () => models.dcgan({ imageSize: 28, nc: 1, nz: 16, ngf: 8, ndf: 8 }), twin: 'dcgan(16, 8, 8, 1, 28)', seed: 33, input: [3, 16, 1, 1], train: true },
  { name: 'dcgan-28 discriminator', build: () => new DiscriminatorOf(models.dcgan({ imageSize: 28, nc: 1, nz: 16, ngf: 8, ndf: 8 })), twin: 'DiscriminatorOf(dcgan(16, 8, 8, 1, 28))', seed: 34, input: [3, 1, 28, 28], train: true },
  { name: 'dcgan-32', build: () => models.dcgan({ imageSize: 32, ngf: 8, ndf: 8 }), twin: 'dcgan(100, 8, 8, 3, 32)', seed: 35, input: [2, 100, 1, 1], train: true },
  { name: 'seed-gan generator', build: () => models.seedGan(), twin: 'seed_gan()', seed: 36, input: [3, 100, 1, 1], train: true },
  { name: 'seed-gan discriminator', build: () => new DiscriminatorOf(models.seedGan()), twin: 'DiscriminatorOf(seed_gan())', seed: 37, input: [3, 3, 4, 4], train: true },
  // Sizes that 2^depth does not divide: the decoder pads to the skip connection's size.
  { name: 'unet transposed', build: () => models.unet({ numClasses: 4, baseWidth: 8, depth: 3 }), twin: 'UNetD(3, 4, False, 8, 3)', seed: 38, input: [2, 3, 29, 35], train: true },
  { name: 'unet bilinear', build: () => models.unet({ inChannels: 1, numClasses: 3, baseWidth: 6, depth: 2, upsampling: 'bilinear' }), twin: 'UNetD(1, 3, True, 6, 2)', seed: 39, input: [2, 1, 22, 17], train: true },
  // milesial's own class (31 M parameters: both sides draw them from the seed).
  { name: 'unet = milesial UNet', build: () => models.unet({ numClasses: 2 }), twin: 'MilesialUNet(3, 2)', seed: 40, input: [1, 3, 32, 48], weights: 'seed' },
  { name: 'unet bilinear = milesial UNet', build: () => models.unet({ numClasses: 5, inChannels: 1, upsampling: 'bilinear' }), twin: 'MilesialUNet(1, 5, bilinear=True)', seed: 41 },
  { name: 'conv-autoencoder', build: () => models.convAutoencoder(), twin: 'ConvAutoencoder()', seed: 42, input: [2, 1, 28, 28], train: true },
  // Training mode draws the same noise on both sides (same seed, same generator).
  { name: 'denoising-autoencoder linear, odd size', build: () => models.denoisingAutoencoder({ widths: [8, 4], output: 'linear', inChannels: 3 }), twin: "ConvAutoencoder(3, (8, 4), 'linear', 0.3)", seed: 43, input: [2, 3, 13, 11], train: true },
];

describe('task models vs their PyTorch twins', () => {
  let results = new Map<string, TwinResult>();
  const threads = getNumThreads();
  before(() => {
    setNumThreads(1);
    results = runTwins(CASES);
  });
  after(() => {
    setNumThreads(threads);
    for (const r of results.values()) {
      if (r.forward) for (const t of Object.values(r.forward) as Tensor[]) t.dispose();
      if (r.train) for (const m of [r.train.ours, r.train.ref]) for (const t of m.values()) t.dispose();
    }
  });

  for (const c of CASES)
    it(`${c.name}: keys, shapes, same-seed init${c.input ? ', eval forward and input gradient' : ''}${c.train ? ', a training step' : ''}`, () => {
      const r = results.get(c.name);
      assert.ok(r, `no result for ${c.name}`);
      assertTwin(c.name, r);
      if (c.train) assert.ok([...r.train!.ref.keys()].some((k) => k.startsWith('grad.')), `${c.name}: parameter gradients were compared`);
    });

  it("DCGAN at 64 has the example's layers: keys main.0 … main.12 (G), parameter counts of netG and netD", () => {
    const r = results.get('dcgan-64 generator')!;
    const g = r.ours.keys.filter((k) => k.startsWith('generator.')).map((k) => k.slice('generator.'.length));
    assert.deepEqual(g.filter((k) => k.endsWith('.weight')), ['main.0.weight', 'main.1.weight', 'main.3.weight', 'main.4.weight', 'main.6.weight', 'main.7.weight', 'main.9.weight', 'main.10.weight', 'main.12.weight']);
    // By hand: ConvT weights nz·8ngf·16 + … + ngf·nc·16, BN 2·channels each.
    const ngf = 64;
    const netG = 16 * (100 * 8 * ngf + 8 * ngf * 4 * ngf + 4 * ngf * 2 * ngf + 2 * ngf * ngf + ngf * 3) + 2 * (8 + 4 + 2 + 1) * ngf;
    const netD = 16 * (3 * ngf + ngf * 2 * ngf + 2 * ngf * 4 * ngf + 4 * ngf * 8 * ngf + 8 * ngf) + 2 * (2 + 4 + 8) * ngf;
    assert.equal(r.ours.numParameters, netG + netD);
  });
});

describe('DCGAN', () => {
  it('dcganInit: convolution weights N(0, 0.02²), batch-norm weights N(1, 0.02²), biases 0', () => {
    manualSeed(7);
    const gan = models.dcgan();
    scope(() => {
      for (const [name, t] of gan.namedParameters()) {
        const x = t.double();
        const [mean, std] = [x.mean().item() as number, x.std().item() as number];
        if (name.endsWith('bias')) assert.equal(x.abs().max().item(), 0, name);
        else if (t.dim() === 1) assert.ok(Math.abs(mean - 1) < 0.01 && Math.abs(std - 0.02) < 0.01, `${name}: mean ${mean}, std ${std}`);
        else assert.ok(Math.abs(mean) < 0.005 && Math.abs(std - 0.02) < 0.002, `${name}: mean ${mean}, std ${std}`);
      }
    });
    gan.dispose();
  });

  it('the generator takes (B, nz) as (B, nz, 1, 1); noise() draws (B, nz, 1, 1); the discriminator gives (B,) probabilities', () => {
    const gan = models.dcgan({ imageSize: 32, ngf: 4, ndf: 4, nz: 10 }).eval();
    scope(() => {
      const z = gan.noise(3);
      assert.deepEqual(z.shape, [3, 10, 1, 1]);
      assert.ok(gan.forward(z).equal(gan.generator.forward(z.view(3, 10))));
      const images = gan.forward(z);
      assert.deepEqual(images.shape, [3, 3, 32, 32]);
      assert.ok((images.abs().max().item() as number) <= 1, 'tanh images lie in [-1, 1]');
      const p = gan.discriminator.forward(images);
      assert.deepEqual(p.shape, [3]);
      assert.ok(p.gt(0).all().item() && p.lt(1).all().item());
    });
    gan.dispose();
  });

  it('refuses sizes it cannot make and images of another size, naming the shapes', () => {
    for (const s of [36, 4, 100, 7]) assert.throws(() => models.dcgan({ imageSize: s }), new RegExp(`imageSize must be b·2\\^k with b in 4..7 and k ≥ 1 \\(e.g. 28, 32, 64, 128\\), got ${s}`));
    const gan = models.dcgan({ ngf: 4, ndf: 4 });
    assert.throws(() => scope(() => gan.discriminator.forward(randn([2, 3, 32, 32]))), /DcganDiscriminator: images must be \(B, 3, 64, 64\), got shape \[2, 3, 32, 32\]/);
    assert.throws(() => scope(() => gan.forward(randn([2, 99, 1, 1]))), /DcganGenerator: noise must be \(B, 100, 1, 1\) or \(B, 100\), got shape \[2, 99, 1, 1\]/);
    assert.throws(() => gan.noise(0), /batch must be a positive integer, got 0/);
    gan.dispose();
  });
});

describe("seed 001's GAN", () => {
  it("reads the dense layer's 48 values as Keras' (H, W, C): value h·12 + w·3 + c is channel c at (h, w)", () => {
    const gan = models.seedGan();
    scope(() => {
      const z = randn([2, 100]);
      const flat = gan.generator.layers.forward(z).data() as Float32Array; // (2, 48)
      const img = gan.forward(z);
      assert.deepEqual(img.shape, [2, 3, 4, 4]);
      const v = img.contiguous().data() as Float32Array;
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 3; c++)
          for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) assert.equal(v[((b * 3 + c) * 4 + h) * 4 + w], flat[b * 48 + h * 12 + w * 3 + c]);
      assert.ok(img.ge(0).all().item(), 'ReLU images are ≥ 0');
    });
    gan.dispose();
  });

  it("the discriminator runs on the generator's 4×4×3 images and refuses other sizes", () => {
    const gan = models.seedGan({ init: 'pytorch' });
    scope(() => {
      const p = gan.discriminator.forward(gan.forward(gan.noise(5)));
      assert.deepEqual(p.shape, [5]);
      assert.ok(p.gt(0).all().item() && p.lt(1).all().item());
    });
    assert.throws(() => scope(() => gan.discriminator.forward(randn([1, 3, 28, 28]))), /SeedGanDiscriminator: images must be \(B, 3, 4, 4\), got shape \[1, 3, 28, 28\]/);
    assert.throws(() => models.seedGan({ init: 'glorot' as 'keras' }), /init must be 'keras' or 'pytorch', got 'glorot'/);
    gan.dispose();
  });
});

describe('U-Net', () => {
  it('gives H×W logits for any H, W ≥ 2^depth; names the shape it refuses', () => {
    const net = models.unet({ inChannels: 1, numClasses: 3, baseWidth: 4, depth: 3 }).eval();
    for (const [h, w] of [[8, 8], [9, 15], [33, 20]] as const) assert.deepEqual(scope(() => net.forward(randn([1, 1, h, w])).shape), [1, 3, h, w]);
    assert.throws(() => scope(() => net.forward(randn([1, 1, 7, 16]))), /unet: input must be \(B, 1, H, W\) with H, W ≥ 2\^depth = 8, got shape \[1, 1, 7, 16\]/);
    assert.throws(() => scope(() => net.forward(randn([1, 3, 16, 16]))), /got shape \[1, 3, 16, 16\]/);
    assert.throws(() => models.unet({ upsampling: 'nearest' as 'bilinear' }), /upsampling must be 'transposed' or 'bilinear', got 'nearest'/);
    assert.equal(net.downs.length, 3);
    assert.equal(net.downs[2], net.getSubmodule('down3'));
    net.dispose();
  });

  it('bilinear upsampling has no up-sampling weights; transposed has up1.up.weight', () => {
    const keys = (o: models.UNetOptions) => {
      const m = models.unet({ baseWidth: 4, depth: 2, ...o });
      const k = [...m.stateDict().keys()];
      m.dispose();
      return k;
    };
    assert.ok(keys({}).includes('up1.up.weight'));
    assert.ok(!keys({ upsampling: 'bilinear' }).some((k) => k.includes('.up.')));
  });
});

describe('autoencoders', () => {
  it('sigmoid outputs lie in [0, 1], linear ones are unbounded; any size comes back at its size', () => {
    manualSeed(3);
    const sig = models.convAutoencoder().eval();
    const lin = models.convAutoencoder({ output: 'linear', widths: [4] }).eval();
    scope(() => {
      const y = sig.forward(randn([2, 1, 25, 31]));
      assert.deepEqual(y.shape, [2, 1, 25, 31]);
      assert.ok(y.ge(0).all().item() && y.le(1).all().item());
      const z = lin.forward(randn([2, 1, 28, 28]).mul(10));
      assert.ok(z.lt(0).any().item() || z.gt(1).any().item(), 'linear outputs leave [0, 1]');
      // Without the encoder's sizes every level doubles: a 4×4 code decodes to 32×32.
      const { code, sizes } = sig.encode(randn([1, 1, 28, 28]));
      assert.deepEqual(code.shape, [1, 8, 4, 4]);
      assert.deepEqual(sizes, [[28, 28], [14, 14], [7, 7]]);
      assert.deepEqual(sig.decode(code).shape, [1, 1, 32, 32]);
    });
    assert.throws(() => scope(() => sig.forward(randn([1, 3, 28, 28]))), /convAutoencoder: input must be \(B, 1, H, W\), got shape \[1, 3, 28, 28\]/);
    assert.throws(() => models.convAutoencoder({ noise: -1 }), /noise must be a standard deviation ≥ 0, got -1/);
    assert.throws(() => models.convAutoencoder({ output: 'tanh' as 'linear' }), /output must be 'sigmoid' or 'linear', got 'tanh'/);
    sig.dispose();
    lin.dispose();
  });

  it('the denoising variant corrupts its input with N(0, σ²) in training only', () => {
    const ae = models.denoisingAutoencoder();
    assert.equal(ae.noise, 0.3);
    scope(() => {
      const x = randn([4, 1, 28, 28]);
      const d = ae.corrupt(x).sub(x); // training mode (a fresh module trains)
      assert.ok(Math.abs((d.std().item() as number) - 0.3) < 0.01 && Math.abs(d.mean().item() as number) < 0.01, `noise std ${String(d.std().item())}`);
      ae.eval();
      assert.equal(ae.corrupt(x), x, 'eval mode: the input itself');
      assert.ok(ae.forward(x).equal(ae.forward(x)), 'eval mode: deterministic');
      ae.train();
      assert.ok(!ae.forward(x).equal(ae.forward(x)), 'training mode: fresh noise each call');
    });
    const plain = models.convAutoencoder();
    scope(() => {
      const x = randn([1, 1, 8, 8]);
      assert.equal(plain.corrupt(x), x, 'noise 0: never corrupted');
    });
    ae.dispose();
    plain.dispose();
  });
});
