// summary(): output shapes and parameter counts per layer; the model is left exactly as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { memoryStats, nn } from '../../src/index.js';

function net(): nn.Sequential {
  return new nn.Sequential(
    new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2)),
    new nn.Flatten(),
    new nn.Dropout(),
    new nn.Linear(8 * 14 * 14, 10),
  );
}

describe('summary', () => {
  it('lists every call with its output shape and own parameters, and the totals', () => {
    const m = net();
    (m.at(0) as nn.Module).requiresGrad_(false);
    const s = nn.summarize(m, [2, 1, 28, 28]);
    assert.deepEqual(
      s.rows.map((r) => [r.path, r.type, r.outputShapes[0]?.join('x'), r.params]),
      [
        ['', 'Sequential', '2x10', 0],
        ['0', 'Sequential', '2x8x14x14', 0],
        ['0.0', 'Conv2d', '2x8x28x28', 80],
        ['0.1', 'BatchNorm2d', '2x8x28x28', 16],
        ['0.2', 'ReLU', '2x8x28x28', 0],
        ['0.3', 'MaxPool2d', '2x8x14x14', 0],
        ['1', 'Flatten', '2x1568', 0],
        ['2', 'Dropout', '2x1568', 0],
        ['3', 'Linear', '2x10', 15690],
      ],
    );
    assert.equal(s.totalParams, 15786);
    assert.equal(s.trainableParams, 15690);
    assert.match(s.text, /├─0: Sequential +\[2, 8, 14, 14\] +--/);
    assert.match(s.text, /│   ├─0: Conv2d +\[2, 8, 28, 28\] +80/);
    assert.match(s.text, /└─3: Linear +\[2, 10\] +15,690/);
    assert.match(s.text, /Total params: 15,786\nTrainable params: 15,690\nNon-trainable params: 96/);
    // A depth limit folds the children's parameters into their parent's row.
    assert.match(nn.summary(m, [2, 1, 28, 28], { depth: 1 }), /├─0: Sequential +\[2, 8, 14, 14\] +96\n├─1: Flatten/);
    m.dispose();
  });

  it('restores forward methods and train/eval flags, also when the forward pass throws; leaks nothing', () => {
    const m = net();
    m.train();
    (m.at(2) as nn.Module).eval(); // a mixed state must come back as it was
    const live = memoryStats().liveTensors;
    assert.throws(() => nn.summary(m, [2, 3, 28, 28]), /expected input\[2, 3, 28, 28\] to have 1 channels/);
    nn.summary(m, [1, 1, 28, 28]); // batch of one works: summary runs in eval mode, like torchinfo
    assert.equal(memoryStats().liveTensors, live);
    for (const x of m.modules()) assert.ok(!Object.hasOwn(x, 'forward'), `${x.constructor.name} still has a wrapped forward`);
    assert.deepEqual([...m.modules()].map((x) => x.training), [true, true, true, true, true, true, true, false, true]);
    m.dispose();
  });

  it('reports several outputs, int inputs, and a shared module once with (recursive) after', () => {
    const models: nn.Module[] = [new nn.LSTM(4, 8, { numLayers: 2 }), new nn.Sequential(new nn.Embedding(10, 3), new nn.Flatten())];
    const lstm = nn.summarize(models[0] as nn.Module, [5, 2, 4]);
    assert.deepEqual(lstm.rows[0]?.outputShapes, [[5, 2, 8], [2, 2, 8], [2, 2, 8]]);
    const emb = nn.summarize(models[1] as nn.Module, [2, 4], { dtype: 'int64' });
    assert.deepEqual(emb.rows.map((r) => r.outputShapes[0]), [[2, 12], [2, 4, 3], [2, 12]]);
    const shared = new nn.Linear(3, 3);
    const twice = nn.summarize(new nn.Sequential(shared, new nn.ReLU(), shared), [1, 3]);
    assert.deepEqual(twice.rows.map((r) => r.params), [0, 12, 0, null]); // rows in call order
    assert.equal(twice.totalParams, 12);
    assert.match(twice.text, /└─0: Linear +\[1, 3\] +\(recursive\)/);
    for (const m of models) m.dispose();
    shared.dispose();
  });
});
