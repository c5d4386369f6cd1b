// The registry: every listed model builds from its name and maps its designed input to (B, classes);
// options reach the model; names are forgiving about case and separators; an unknown name is an
// error that lists the zoo and suggests the closest name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { models, randn, scope } from '../../src/index.js';

// Built but not run at their 224×224 design size here (seconds of CPU each); their forward passes
// are checked against torchvision in zoo.test.ts and resnet.test.ts.
const HEAVY = new Set(['resnet34', 'resnet50', 'vgg11-bn', 'vgg13-bn', 'vgg16-bn', 'vgg19-bn']);

describe('createModel / listModels', () => {
  it('lists unique names with a description, a task, an input (C, H, W) and default classes', () => {
    const list = models.listModels();
    assert.equal(new Set(list.map((m) => m.name)).size, list.length);
    for (const m of list) {
      assert.ok(m.description.length > 10, m.name);
      assert.ok(models.MODEL_TASKS.includes(m.task), m.name);
      assert.equal(m.input.length, 3, m.name);
      // Classes are a classifier's or a segmenter's; the output says what one sample gives.
      if (m.task === 'classify' || m.task === 'segment') assert.ok(m.classes! >= 1, m.name);
      else assert.equal(m.classes, undefined, m.name);
      if (m.task === 'classify') assert.deepEqual(m.output, [m.classes], m.name);
    }
    assert.ok(list.some((m) => m.name === 'fashion-net' && m.input.join() === '1,28,28'));
  });

  for (const info of models.listModels({ task: 'classify' }).filter((m) => !HEAVY.has(m.name)))
    it(`${info.name}: (1, ${info.input.join(', ')}) → (1, ${info.classes})`, () => {
      const model = models.createModel(info.name).eval();
      assert.deepEqual(scope(() => model.forward(randn([1, ...info.input])).shape), [1, info.classes]);
      model.dispose();
    });

  it('passes classes, inChannels, imageSize and model options through', () => {
    const cases: [string, models.CreateModelOptions, number[], number][] = [
      ['seed-faces-cnn', { classes: 7, imageSize: 48, inChannels: 1 }, [2, 1, 48, 48], 7],
      ['lenet5', { imageSize: 28, inChannels: 3 }, [2, 3, 28, 28], 10],
      ['mlp', { hidden: [16], imageSize: 8, classes: 3 }, [2, 1, 8, 8], 3],
      ['fashion-net', { inChannels: 3, classes: 100 }, [2, 3, 32, 32], 100],
      ['mobilenet-v2', { widthMult: 0.35, classes: 2 }, [2, 3, 32, 32], 2],
    ];
    for (const [name, o, shape, classes] of cases) {
      const m = models.createModel(name, o).eval();
      assert.deepEqual(scope(() => m.forward(randn(shape)).shape), [shape[0], classes], name);
      m.dispose();
    }
    const small = models.createModel('resnet18', { imageSize: 32, classes: 10 });
    assert.deepEqual(small.stateDict().get('conv1.weight')!.shape, [64, 3, 3, 3], 'the small stem for small images');
    small.dispose();
    const big = models.createModel('resnet18');
    assert.deepEqual(big.stateDict().get('conv1.weight')!.shape, [64, 3, 7, 7]);
    big.dispose();
    const mlp = models.createModel('mlp', { hidden: [32, 16] });
    assert.deepEqual([...mlp.stateDict().keys()], ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias', 'layers.4.weight', 'layers.4.bias']);
    mlp.dispose();
  });

  it('matches names ignoring case, dashes and underscores', () => {
    for (const n of ['MobileNet_V2', 'mobilenetV2', 'FASHION-NET', 'fashionNet', 'seed_cifar_cnn']) models.createModel(n, { widthMult: 0.35 }).dispose();
  });

  it('an unknown name lists the zoo and suggests the closest', () => {
    assert.throws(() => models.createModel('resnet81'), /unknown model 'resnet81'\. Did you mean 'resnet18'\? Known models: fashion-net, mlp, .*seed-mlp/);
    assert.throws(() => models.createModel('mobilenet3'), /Did you mean 'mobilenet-v2'\?/);
    assert.throws(() => models.createModel('transformer'), (e: Error) => !e.message.includes('Did you mean') && e.message.includes('Known models'));
  });

  it('rejects impossible sizes and counts with the model and option named', () => {
    assert.throws(() => models.createModel('seed-mnist-cnn', { imageSize: 12 }), /seedMnistCnn: an input of 12×12 is too small/);
    assert.throws(() => models.createModel('fashion-net', { classes: 0 }), /fashionNet: numClasses must be a positive integer, got 0/);
    const linear = models.mlp({ inputs: 4, hidden: [], classes: 2 });
    assert.throws(() => scope(() => linear.forward(randn([1, 5]))), /mlp: expected 4 input features per sample, got 5 \(input shape \[1, 5\]\)/);
    linear.dispose();
  });
});

describe('tasks', () => {
  it('every model has a task; the classifiers are the zoo as it was; listModels filters by task', () => {
    const classifiers = models.listModels({ task: 'classify' }).map((m) => m.name);
    assert.deepEqual(classifiers, [
      'fashion-net', 'mlp', 'lenet5', 'resnet9', 'resnet18', 'resnet34', 'resnet50', 'mobilenet-v2', 'vgg11-bn', 'vgg13-bn', 'vgg16-bn', 'vgg19-bn', 'small-vgg',
      'seed-cifar-cnn', 'seed-mnist-cnn', 'seed-mnist-fcn', 'seed-face-crop-cnn', 'seed-faces-cnn', 'seed-imagenet64-cnn', 'seed-mlp',
    ]);
    const byTask = Object.fromEntries(models.MODEL_TASKS.map((t) => [t, models.listModels({ task: t }).map((m) => m.name)]));
    assert.deepEqual(byTask.segment, ['unet']);
    assert.deepEqual(byTask.reconstruct, ['conv-autoencoder', 'denoising-autoencoder']);
    assert.deepEqual(byTask.generate, ['dcgan', 'seed-gan']);
    assert.equal(Object.values(byTask).flat().length, models.listModels().length, 'each model in exactly one task');
    assert.equal(models.modelInfo('U_Net').task, 'segment');
    assert.equal(models.modelInfo('DCGAN').twin, 'pytorch/examples dcgan _netG/_netD');
    assert.throws(() => models.listModels({ task: 'detect' as models.ModelTask }), /unknown task 'detect': expected one of classify, segment, reconstruct, generate/);
    assert.throws(() => models.modelInfo('unet3'), /unknown model 'unet3'\. Did you mean 'unet'\?/);
  });

  // U-Net at its designed 128×128 with an 8-wide first level (the default 64 costs seconds here; the
  // width does not change the output's shape).
  const small: Record<string, models.CreateModelOptions> = { unet: { baseWidth: 8 } };
  for (const info of models.listModels().filter((m) => m.task !== 'classify'))
    it(`${info.name} (${info.task}): (1, ${info.input.join(', ')}) → (1, ${info.output.join(', ')})`, () => {
      const model = models.createModel(info.name, small[info.name] ?? {}).eval();
      assert.deepEqual(scope(() => model.forward(randn([1, ...info.input])).shape), [1, ...info.output]);
      if (info.task === 'generate') assert.ok(model instanceof models.Gan, 'a generator comes with its discriminator');
      model.dispose();
    });

  it('passes task options through: classes, channels, sizes, widths, noise', () => {
    const seg = models.createModel('unet', { classes: 5, inChannels: 1, baseWidth: 4, depth: 2, upsampling: 'bilinear' }).eval();
    assert.deepEqual(scope(() => seg.forward(randn([2, 1, 20, 12])).shape), [2, 5, 20, 12]);
    assert.ok(![...seg.stateDict().keys()].some((k) => k.startsWith('down3') || k.includes('.up.')), 'depth 2, bilinear');
    seg.dispose();
    const gan = models.createModel('dcgan', { imageSize: 28, inChannels: 1, nz: 16, ngf: 8, ndf: 4 }) as models.Gan;
    assert.deepEqual(gan.latentShape, [16, 1, 1]);
    assert.deepEqual(scope(() => gan.forward(gan.noise(2)).shape), [2, 1, 28, 28]);
    assert.deepEqual(gan.discriminator.stateDict().get('main.0.weight')!.shape, [4, 1, 4, 4]);
    gan.dispose();
    const ae = models.createModel('denoising-autoencoder', { inChannels: 3, widths: [8], output: 'linear', noise: 0.1 }) as models.ConvAutoencoder;
    assert.deepEqual([ae.noise, ae.output, ae.encoder.at(0).stateDict().get('weight')!.shape.join()], [0.1, 'linear', '8,3,3,3']);
    assert.equal((models.createModel('denoising-autoencoder') as models.ConvAutoencoder).noise, 0.3);
    assert.equal((models.createModel('conv-autoencoder') as models.ConvAutoencoder).noise, 0);
    ae.dispose();
  });
});
