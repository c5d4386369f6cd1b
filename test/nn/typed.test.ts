// Typed modules: every part a module registers is held by a typed field of that module, the field is
// the registered object itself, and it stays so through everything that changes a module's tensors
// (training steps, dtype and memory-format moves, loading a state dict) or its children (replacing a
// head by path). A name is registered once; a misspelt part does not compile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { memoryStats, models, nn, randn, scope, tensor, Tensor } from '../../src/index.js';

/**
 * For every module of `root`: each own field holding a tensor or a module (or an array of tensors)
 * holds a live one this module registered, and every tensor and child it registered is held by a
 * field, so its forward can reach each part without a lookup by name.
 */
function checkFields(root: nn.Module): void {
  for (const [path, m] of root.namedModules()) {
    const where = `${path || '(root)'} (${m.constructor.name})`;
    const tensors = new Set([...m.parameters(false), ...m.buffers(false)]);
    const children = new Set(m.children());
    const held = new Set<unknown>();
    for (const [field, v] of Object.entries(m)) {
      for (const x of Array.isArray(v) ? v : [v]) {
        if (x instanceof Tensor) {
          assert.ok(tensors.has(x), `${where}.${field} holds a tensor the module did not register`);
          assert.ok(!x.disposed, `${where}.${field} holds a disposed tensor`);
          held.add(x);
        } else if (x instanceof nn.Module) {
          assert.ok(children.has(x), `${where}.${field} holds a module that is not its child`);
          held.add(x);
        }
      }
    }
    // Containers hold their items in the registry itself (they are indexed, not named by fields).
    if (m instanceof nn.Sequential || m instanceof nn.ModuleList || m instanceof nn.ModuleDict) continue;
    for (const t of tensors) assert.ok(held.has(t), `${where}: a registered tensor is held by no field`);
    for (const c of children) assert.ok(held.has(c), `${where}: child ${c.constructor.name} is held by no field`);
  }
}

const LAYERS: [string, () => nn.Module][] = [
  ['Linear', () => new nn.Linear(3, 2)],
  ['Linear no bias', () => new nn.Linear(3, 2, { bias: false })],
  ['Conv2d', () => new nn.Conv2d(2, 4, 3)],
  ['ConvTranspose2d', () => new nn.ConvTranspose2d(2, 4, 3, { bias: false })],
  ['BatchNorm2d', () => new nn.BatchNorm2d(3)],
  ['InstanceNorm2d', () => new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true })],
  ['LayerNorm', () => new nn.LayerNorm([2, 3])],
  ['GroupNorm', () => new nn.GroupNorm(2, 4)],
  ['Embedding', () => new nn.Embedding(5, 2)],
  ['PReLU', () => new nn.PReLU(3)],
  ['LSTM', () => new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true })],
  ['CrossEntropyLoss', () => new nn.CrossEntropyLoss({ weight: tensor([1, 2]) })],
  ['BCEWithLogitsLoss', () => new nn.BCEWithLogitsLoss({ posWeight: tensor([2]) })],
  ['FocalLoss', () => new nn.FocalLoss({ alpha: tensor([0.5, 1]) })],
];

const ZOO: [string, models.CreateModelOptions][] = [
  ['resnet18', { classes: 5 }],
  ['resnet18', { classes: 5, stem: 'small' }],
  ['resnet50', { classes: 5 }],
  ['resnet9', {}],
  ['mobilenet-v2', { widthMult: 0.35 }],
  ['small-vgg', {}],
  ['fashion-net', {}],
  ['mlp', { hidden: [8, 4] }],
  ['lenet5', {}],
  ['seed-cifar-cnn', {}],
  ['seed-mlp', {}],
  ['unet', { baseWidth: 4, depth: 3 }],
  ['unet', { baseWidth: 4, depth: 2, upsampling: 'bilinear' }],
  ['dcgan', { ngf: 4, ndf: 4, imageSize: 28 }],
  ['seed-gan', {}],
  ['denoising-autoencoder', {}],
];

describe('typed fields', () => {
  for (const [name, make] of LAYERS)
    it(`${name}: its fields are its registered parameters and buffers`, () => {
      const m = make();
      checkFields(m);
      m.dispose();
    });

  for (const [name, o] of ZOO)
    it(`${name} ${JSON.stringify(o)}: every part is a typed field holding the registered object`, () => {
      const m = models.createModel(name, o);
      checkFields(m);
      m.dispose();
    });

  it('a field is the object the state dict holds', () => {
    const m = models.resnet18({ numClasses: 3 });
    const sd = m.stateDict();
    const block = m.layer2.at(0) as models.BasicBlock;
    assert.equal(m.conv1.weight, sd.get('conv1.weight'));
    assert.equal(m.fc.bias, sd.get('fc.bias'));
    assert.equal(block.bn2.runningVar, sd.get('layer2.0.bn2.running_var'));
    assert.equal(block.downsample?.at(0), m.getSubmodule('layer2.0.downsample.0'));
    assert.equal((m.layer1.at(0) as models.BasicBlock).downsample, null, 'an absent part is a null field');
    m.dispose();
  });

  it('a misspelt part is a compile error, not a run-time lookup', () => {
    const block = new models.BasicBlock(4, 4, 1, null);
    // @ts-expect-error BasicBlock has conv1 and conv2, no conv3 (if this compiles, the fields are no longer typed)
    const missing: unknown = block.conv3;
    assert.equal(missing, undefined);
    block.dispose();
  });
});

describe('tensors change in place, so fields never go stale', () => {
  it("BatchNorm's num_batches_tracked: counted in place, kept through to() and loadStateDict", () => {
    const bn = new nn.BatchNorm2d(2);
    const counter = bn.numBatchesTracked as Tensor;
    for (let i = 0; i < 3; i++) scope(() => void bn.forward(randn([2, 2, 3, 3])));
    assert.equal(bn.numBatchesTracked, counter);
    assert.equal(bn.stateDict().get('num_batches_tracked'), counter);
    assert.equal(counter.item(), 3);
    bn.to('float64');
    assert.equal(bn.numBatchesTracked, counter, 'to() keeps the object');
    assert.equal(counter.dtype, 'int64', 'and the counter stays int64');
    assert.equal(bn.runningMean?.dtype, 'float64');
    const other = new nn.BatchNorm2d(2).to('float64');
    for (let i = 0; i < 7; i++) scope(() => void other.forward(randn([2, 2, 3, 3], { dtype: 'float64' })));
    bn.loadStateDict(other.stateDict());
    assert.equal(bn.numBatchesTracked, counter, 'loadStateDict copies into the object');
    assert.equal(counter.item(), 7);
    assert.ok(scope(() => bn.runningVar!.equal(other.runningVar!)));
    checkFields(bn);
    bn.dispose();
    other.dispose();
  });

  it("to({ memoryFormat: 'channelsLast' }) restrides 4-D weights in place: same objects, same outputs", () => {
    const m = models.fashionNet().eval();
    const conv = m.getSubmodule('stage1.1') as nn.Conv2d; // 32 → 64 channels (with one channel both layouts coincide)
    const weight = conv.weight;
    const x = randn([2, 1, 28, 28]);
    const before = scope(() => m.forward(x));
    m.to({ memoryFormat: 'channelsLast' });
    assert.equal(conv.weight, weight);
    assert.ok(weight.isContiguous('channelsLast') && !weight.isContiguous());
    assert.ok(conv.bias === null && (m.getSubmodule('head.1') as nn.Linear).weight.isContiguous(), '2-D weights are left as they are');
    // A one-channel weight is "contiguous" in both formats, but only NHWC strides (PyTorch's after
    // model.to(memory_format=torch.channels_last)) make the stem's output NHWC: the NCHW kernels of
    // batch norm and pooling that follow cost a bf16 step ~30%.
    const stem = m.getSubmodule('stem.0') as nn.Conv2d;
    assert.deepEqual(stem.weight.strides(), [9, 1, 3, 1]);
    assert.ok(scope(() => stem.forward(x.contiguous('channelsLast')).isContiguous('channelsLast') && !stem.forward(x).isContiguous()));
    assert.ok(scope(() => m.forward(x).allclose(before, { rtol: 1e-5, atol: 1e-6 })));
    checkFields(m);
    for (const t of [x, before]) t.dispose();
    m.dispose();
  });

  it('a name is registered once: a second registration is refused and says how to change a part', () => {
    const lin = new nn.Linear(2, 2);
    const live = memoryStats().liveTensors;
    scope(() => {
      assert.throws(() => lin.registerParameter('weight', randn([2, 2])), /Linear already has a parameter named 'weight': a registered tensor is changed in place \(copy_ for the same shape, setData for any\)/);
      assert.throws(() => lin.registerBuffer('bias', randn([2])), /Linear already has a parameter named 'bias'/);
    });
    assert.equal(memoryStats().liveTensors, live, 'the refused tensors were not kept');
    assert.ok(!lin.weight.disposed && lin.stateDict().get('weight') === lin.weight);
    const bn = new nn.BatchNorm1d(2);
    assert.throws(() => bn.registerBuffer('running_mean', null), /BatchNorm1d already has a buffer named 'running_mean'/);
    const seq = new nn.Sequential(new nn.ReLU());
    assert.throws(() => seq.registerModule('0', new nn.Tanh()), /Sequential already has a child module named '0': replace it with setSubmodule\('0', m\)/);
    assert.throws(() => lin.registerParameter('a.b', null), /'a\.b' is not a valid name/);
    for (const m of [lin, bn, seq]) m.dispose();
  });
});

describe('setSubmodule and getSubmodule', () => {
  it("re-points the parent's field, keeps the key order, and returns the old child", () => {
    const m = models.resnet18({ numClasses: 4 });
    const keys = [...m.stateDict().keys()];
    const oldFc = m.fc;
    const fresh = new nn.Linear(512, 4);
    assert.equal(m.setSubmodule('fc', fresh), oldFc);
    assert.equal(m.fc, fresh);
    assert.ok(!oldFc.weight.disposed, 'the old child is not disposed by setSubmodule');
    const block = m.layer1.at(1) as models.BasicBlock;
    const bn = new nn.BatchNorm2d(64);
    m.setSubmodule('layer1.1.bn1', bn);
    assert.equal(block.bn1, bn, 'a nested field is re-pointed too');
    assert.deepEqual([...m.stateDict().keys()], keys);
    assert.equal(m.stateDict().get('layer1.1.bn1.running_mean'), bn.runningMean);
    m.eval();
    assert.deepEqual(scope(() => m.forward(randn([1, 3, 32, 32])).shape), [1, 4]);
    checkFields(m);
    oldFc.dispose();
    m.dispose();
  });

  it('inside a container: the replacement is what forward runs and what iteration yields', () => {
    const tail = new nn.Linear(3, 1);
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), tail);
    const neg = new nn.Linear(3, 1);
    seq.setSubmodule('2', neg);
    assert.equal(seq.at(2), neg);
    assert.deepEqual([...seq].map((x) => x.constructor.name), ['Linear', 'ReLU', 'Linear']);
    scope(() => {
      const x = randn([4, 2]);
      assert.ok(seq.forward(x).equal(neg.forward(seq.slice(0, 2).forward(x))));
    });
    const d = new nn.ModuleDict<nn.Module>({ a: new nn.ReLU(), b: new nn.Tanh() });
    d.set('a', new nn.GELU());
    assert.deepEqual([...d].map(([k, v]) => `${k}:${v.constructor.name}`), ['a:GELU', 'b:Tanh'], 'a replaced key keeps its position');
    for (const x of [seq, tail, d]) x.dispose();
  });

  it('names the missing part of a bad path; refuses to replace a part registered as absent', () => {
    const m = models.resnet18();
    assert.ok(m.getSubmodule('layer2.0.downsample.0') instanceof nn.Conv2d);
    assert.equal(m.getSubmodule(''), m);
    assert.throws(() => m.getSubmodule('layer1.9.conv1'), /ResNet has no submodule 'layer1\.9\.conv1': 'layer1' \(Sequential\) has no child '9'/);
    assert.throws(() => m.getSubmodule('layer9'), /ResNet has no submodule 'layer9': it has no child 'layer9'/);
    assert.throws(() => m.setSubmodule('fc2', new nn.Identity()), /ResNet has no child module 'fc2' to replace/);
    assert.throws(() => m.setSubmodule('layer1.0.downsample', new nn.Identity()), /BasicBlock: child 'downsample' was registered as absent \(null\) and cannot be replaced/);
    m.dispose();
  });
});
