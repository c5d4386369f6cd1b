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
  it('lists unique names with a description, an input (C, H, W) and default classes', () => {
    const list = models.listModels();
    assert.equal(new Set(list.map((m) => m.name)).size, list.length);
    for (const m of list) {
      assert.ok(m.description.length > 10, m.name);
      assert.equal(m.input.length, 3, m.name);
      assert.ok(m.classes >= 1, m.name);
    }
    assert.ok(list.some((m) => m.name === 'fashion-net' && m.input.join() === '1,28,28'));
  });

  for (const info of models.listModels().filter((m) => !HEAVY.has(m.name)))
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
