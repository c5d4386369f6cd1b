// Transfer learning: torchvision resnet18 weights saved by PyTorch load by key and give PyTorch's
// outputs; the head is skipped or replaced for a 5-class task (initialised as nn.Linear would be);
// a frozen backbone gets no gradients; discriminative groups give the head its own learning rate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { getNumThreads, io, manualSeed, models, nn, optim, randint, randn, scope, setNumThreads, type Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'tessera-transfer-'));
const file = (n: string) => join(dir, n);
const threads = getNumThreads();

function python(script: string): string {
  const r = spawnSync(PYTHON, ['-c', `import torch, torchvision, json\nimport torch.nn as nn\ntorch.set_num_threads(1)\n${script}`], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

let x: Tensor;
let ref: Map<string, Tensor>;
before(() => {
  setNumThreads(1);
  manualSeed(100);
  x = randn([2, 3, 64, 64]);
  io.savePt(file('x.pt'), { x });
  // A "pretrained" torchvision resnet18 (random weights, running statistics moved off 0/1 by a few
  // training-mode batches), saved with torch.save, and its eval-mode output on our input.
  python(`
torch.manual_seed(0)
m = torchvision.models.resnet18()
with torch.no_grad():
    for _ in range(3): m(torch.randn(4, 3, 64, 64))
m.eval()
torch.save(m.state_dict(), '${file('resnet18.pt')}')
x = torch.load('${file('x.pt')}')['x']
torch.save({'y': m(x).detach()}, '${file('y.pt')}')
torch.manual_seed(7)
head = nn.Linear(512, 5)
torch.save({'weight': head.weight.detach(), 'bias': head.bias.detach()}, '${file('head.pt')}')`);
  ref = io.loadPt(file('y.pt'));
});
after(() => {
  setNumThreads(threads);
  x.dispose();
  for (const t of ref.values()) t.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadPretrained', () => {
  it('torchvision resnet18 weights from a .pt file: every key loaded, outputs equal to PyTorch', () => {
    const model = models.resnet18();
    const report = models.loadPretrained(model, file('resnet18.pt'));
    assert.equal(report.loaded.length, model.stateDict().size);
    assert.deepEqual([report.missing, report.unexpected, report.mismatched, report.notes], [[], [], [], []]);
    model.eval();
    scope(() => assertClose(model.forward(x), ref.get('y')!, { rtol: 1e-4, atol: 1e-5, message: 'resnet18 output' }));
    model.dispose();
  });

  it('a 1000-class head into a 5-class model: an error naming the key and skipHead, or skipped with a note', () => {
    const model = models.resnet18({ numClasses: 5 });
    assert.throws(() => models.loadPretrained(model, file('resnet18.pt')), (e: Error) => {
      assert.match(e.message, /size mismatch for fc\.weight: the file has \[1000, 512\], the model \[5, 512\]/);
      assert.match(e.message, /pass skipHead: true/);
      return e.name === 'StateDictError';
    });
    const before = scope(() => model.stateDict().get('fc.weight')!.clone());
    const report = models.loadPretrained(model, file('resnet18.pt'), { skipHead: true });
    assert.deepEqual(report.mismatched.map((m) => m.key), ['fc.weight', 'fc.bias']);
    assert.equal(report.loaded.length, model.stateDict().size - 2);
    assert.match(report.notes.join('\n'), /head 'fc' kept as initialised \(file \[1000, 512\], model \[5, 512\]\)/);
    assert.ok(scope(() => model.stateDict().get('fc.weight')!.equal(before)), 'the head was left as initialised');
    assert.ok(scope(() => (model.stateDict().get('layer4.1.bn2.running_var')!.sub(1).abs().max().item() as number) > 1e-3), 'the backbone was loaded');
    before.dispose();
    model.dispose();
  });

  it('safetensors with a DataParallel prefix: prefixMap renames keys; non-strict reports the gaps', () => {
    const src = io.loadStateDictFile(file('resnet18.pt'));
    const prefixed = new Map([...src].filter(([k]) => !k.startsWith('layer4.')).map(([k, t]) => [`module.${k}`, t]));
    prefixed.set('module.extra.weight', src.get('fc.bias')!);
    io.saveSafetensors(file('dp.safetensors'), prefixed);
    const model = models.resnet18();
    assert.throws(() => models.loadPretrained(model, file('dp.safetensors')), /missing key conv1\.weight[\s\S]*unexpected key module\.conv1\.weight/);
    assert.throws(() => models.loadPretrained(model, file('dp.safetensors'), { prefixMap: { 'module.': '' } }), /missing key layer4\.0\.conv1\.weight/);
    const report = models.loadPretrained(model, file('dp.safetensors'), { prefixMap: { 'module.': '' }, strict: false });
    assert.ok(report.missing.length > 0 && report.missing.every((k) => k.startsWith('layer4.')));
    assert.deepEqual(report.unexpected, ['extra.weight']);
    assert.ok(scope(() => model.stateDict().get('conv1.weight')!.equal(src.get('conv1.weight')!)));
    for (const t of src.values()) t.dispose();
    model.dispose();
  });
});

describe('the ResNet stem', () => {
  it("torchvision resnet18 weights load into stem: 'imagenet' at 64 px and give PyTorch's outputs", () => {
    const model = models.createModel('resnet18', { imageSize: 64, stem: 'imagenet' }) as models.ResNet;
    assert.equal(model.stem, 'imagenet');
    const sd = io.loadStateDictFile(file('resnet18.pt'));
    assert.equal(models.resnetStemOf(sd), 'imagenet', 'the file says which stem it needs');
    for (const t of sd.values()) t.dispose();
    const report = models.loadPretrained(model, file('resnet18.pt'));
    assert.equal(report.loaded.length, model.stateDict().size);
    model.eval();
    scope(() => assertClose(model.forward(x), ref.get('y')!, { rtol: 1e-4, atol: 1e-5, message: 'resnet18 output at 64 px' }));
    model.dispose();
  });

  it('the small stem (the default at 64 px) refuses them with a message naming the stem they need', () => {
    const model = models.createModel('resnet18', { imageSize: 64 }) as models.ResNet;
    assert.equal(model.stem, 'small');
    assert.equal(models.resnetStemOf(model.stateDict()), 'small');
    assert.throws(() => models.loadPretrained(model, file('resnet18.pt')), (e: Error) => {
      assert.match(e.message, /size mismatch for conv1\.weight: the file has \[64, 3, 7, 7\], the model \[64, 3, 3, 3\] \(these weights need stem: 'imagenet'; the model was built with stem: 'small'\)/);
      return e.name === 'StateDictError';
    });
    model.dispose();
  });
});

describe('replaceHead, freezeBackbone, discriminativeGroups', () => {
  it('replaceHead: a 5-class fc initialised as PyTorch nn.Linear under the same seed, the backbone kept', () => {
    const model = models.resnet18();
    models.loadPretrained(model, file('resnet18.pt'));
    const conv = scope(() => model.stateDict().get('conv1.weight')!.clone());
    manualSeed(7);
    const head = models.replaceHead(model, 5);
    const expected = io.loadPt(file('head.pt'));
    assertClose(head.weight, expected.get('weight')!, { rtol: 0, atol: 0, message: 'new head weight' });
    assertClose(head.bias!, expected.get('bias')!, { rtol: 0, atol: 0, message: 'new head bias' });
    assert.equal(model.fc, head, 'the typed field holds the new head');
    assert.equal(model.getSubmodule('fc'), head);
    assert.ok(scope(() => model.stateDict().get('conv1.weight')!.equal(conv)));
    assert.deepEqual(scope(() => model.forward(x).shape), [2, 5]);
    for (const t of [conv, ...expected.values()]) t.dispose();
    model.dispose();
  });

  it('replaceHead inside a Sequential: MobileNetV2 classifier.1, VGG-style classifier.1, a seed CNN classifier.2', () => {
    for (const [model, path] of [[models.mobilenetV2({ widthMult: 0.35 }), 'classifier.1'], [models.smallVgg(), 'classifier.1'], [models.seedCifarCnn(), 'classifier.2']] as const) {
      models.replaceHead(model, 3);
      assert.equal(models.headPath(model), path);
      assert.deepEqual(model.stateDict().get(`${path}.weight`)!.shape[0], 3);
      const [c, s] = model instanceof models.SmallVgg ? [1, 28] : [3, 32];
      model.eval();
      assert.deepEqual(scope(() => model.forward(randn([2, c, s, s])).shape), [2, 3], path);
      model.dispose();
    }
  });

  it('freezeBackbone: after a backward only the head has gradients; the optimizer moves only the head; unfreeze restores', () => {
    const model = models.resnet18({ numClasses: 5 });
    models.loadPretrained(model, file('resnet18.pt'), { skipHead: true });
    const frozen = models.freezeBackbone(model);
    assert.equal(frozen.length, model.parameters().length - 2);
    const groups = models.discriminativeGroups(model, { backboneLr: 1e-4, headLr: 1e-2 });
    assert.deepEqual(groups.map((g) => [g.params.length, g.lr]), [[2, 1e-2]], 'frozen parameters are left out');
    const opt = new optim.SGD(groups, { lr: 0.1 });
    const conv = scope(() => model.stateDict().get('conv1.weight')!.clone());
    const fc = scope(() => model.stateDict().get('fc.weight')!.clone());
    scope(() => {
      const loss = nn.functional.crossEntropy(model.forward(x), randint(0, 5, [2]));
      loss.backward();
      for (const [k, p] of model.namedParameters()) {
        if (k.startsWith('fc.')) assert.ok(p.grad, `${k} has a gradient`);
        else assert.equal(p.grad, null, `${k} is frozen but has a gradient`);
      }
      opt.step();
    });
    assert.ok(scope(() => model.stateDict().get('conv1.weight')!.equal(conv)), 'backbone unchanged');
    assert.ok(scope(() => !model.stateDict().get('fc.weight')!.equal(fc)), 'head moved');
    models.unfreeze(model);
    const all = models.discriminativeGroups(model, { backboneLr: 1e-4, headLr: 1e-2 });
    assert.deepEqual(all.map((g) => [g.params.length, g.lr]), [[model.parameters().length - 2, 1e-4], [2, 1e-2]]);
    opt.dispose();
    for (const t of [conv, fc]) t.dispose();
    model.dispose();
  });

  it('freezeBackbone({ trainBatchNorm }) keeps norm layers trainable; evalFrozenBatchNorm puts only the frozen ones in eval mode', () => {
    const model = models.resnet18({ numClasses: 5 });
    const bns = [...model.namedModules()].filter(([, m]) => m instanceof nn.BatchNorm2d);
    assert.equal(bns.length, 20);
    models.freezeBackbone(model, { trainBatchNorm: true });
    const trainable = [...model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([k]) => k);
    assert.equal(trainable.length, 2 + 2 * bns.length, 'the head and every batch norm scale and shift');
    assert.ok(trainable.includes('layer3.1.bn2.weight') && trainable.includes('fc.bias') && !trainable.includes('layer3.1.conv2.weight'));
    model.train();
    assert.equal(models.evalFrozenBatchNorm(model), 0, 'trainable batch norm keeps training');

    models.freezeBackbone(model);
    model.train();
    assert.equal(models.evalFrozenBatchNorm(model), 20);
    assert.ok(bns.every(([, m]) => !m.training) && model.training && model.layer1.training, 'only the batch norms left train mode');
    // In eval mode a frozen batch norm neither uses the batch's statistics nor updates its own.
    const before = scope(() => model.bn1.runningMean!.clone());
    scope(() => nn.functional.crossEntropy(model.forward(x), randint(0, 5, [2])).backward());
    assert.ok(scope(() => model.bn1.runningMean!.equal(before)), 'running statistics unchanged');
    before.dispose();
    model.dispose();
  });

  it('a model without a Linear layer has no head: a clear error', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3));
    assert.throws(() => models.headPath(m), /Sequential has no Linear layer to treat as its head/);
    m.dispose();
  });
});
