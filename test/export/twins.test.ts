// Zoo models with a torchvision twin: PyTorch's own exporter (torch.onnx.export, opset 17) of the
// same weights and Tessera's exporter give the same outputs in ONNX Runtime (rtol 1e-3, atol 1e-5)
// on the same input. Batch-norm statistics are randomised first, so eval mode matters.
// VGG exports only at 224×224 in PyTorch (its 7×7 adaptive pooling must divide the feature map)
// and weighs 0.5 GB, so the suite runs vgg11-bn of the family; TESSERA_ONNX_TWINS=all adds
// vgg13/16/19-bn (the same layers, more of them; about a minute more on a 2-core machine).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { io, manualSeed, models, randn, setNumThreads, type Tensor } from '../../src/index.js';
import { exportOnnx } from '../../src/export/index.js';
import { exportTwins, randomizeNorms, runOnnxRuntime, type TwinRequest } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-twins-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  build: () => models.ZooModel;
  twin: string;
  /** (C, H, W): the smallest sizes each architecture exports at in PyTorch (VGG's 7×7 pooling needs 224). */
  input: [number, number, number];
}

const CIFAR_STEM = '(lambda m: (setattr(m, "conv1", torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)), setattr(m, "maxpool", torch.nn.Identity()), m)[-1])';
const CASES: Case[] = [
  { name: 'resnet18', build: () => models.resnet18({ numClasses: 10, stem: 'imagenet' }), twin: 'torchvision.models.resnet18(num_classes=10)', input: [3, 64, 64] },
  { name: 'resnet18-cifar', build: () => models.resnet18({ numClasses: 10, stem: 'small' }), twin: `${CIFAR_STEM}(torchvision.models.resnet18(num_classes=10))`, input: [3, 32, 32] },
  { name: 'resnet34', build: () => models.resnet34({ numClasses: 10, stem: 'imagenet' }), twin: 'torchvision.models.resnet34(num_classes=10)', input: [3, 64, 64] },
  { name: 'resnet50', build: () => models.resnet50({ numClasses: 10, stem: 'imagenet' }), twin: 'torchvision.models.resnet50(num_classes=10)', input: [3, 64, 64] },
  { name: 'mobilenet-v2', build: () => models.mobilenetV2({ numClasses: 10 }), twin: 'torchvision.models.mobilenet_v2(num_classes=10)', input: [3, 64, 64] },
  { name: 'vgg11-bn', build: () => models.vgg11Bn({ numClasses: 10 }), twin: 'torchvision.models.vgg11_bn(num_classes=10)', input: [3, 224, 224] },
];
const MORE_VGGS: Case[] = [
  { name: 'vgg13-bn', build: () => models.vgg13Bn({ numClasses: 10 }), twin: 'torchvision.models.vgg13_bn(num_classes=10)', input: [3, 224, 224] },
  { name: 'vgg16-bn', build: () => models.vgg16Bn({ numClasses: 10 }), twin: 'torchvision.models.vgg16_bn(num_classes=10)', input: [3, 224, 224] },
  { name: 'vgg19-bn', build: () => models.vgg19Bn({ numClasses: 10 }), twin: 'torchvision.models.vgg19_bn(num_classes=10)', input: [3, 224, 224] },
];

const cases = process.env.TESSERA_ONNX_TWINS === 'all' ? [...CASES, ...MORE_VGGS] : CASES;

describe('ONNX export against torch.onnx.export of the torchvision twin', () => {
  const ours = new Map<string, Uint8Array>();
  // Ours first (weights to .pt for the twin, our ONNX file), then PyTorch exports every twin in one process.
  before(() => {
    const requests: TwinRequest[] = [];
    for (const c of cases) {
      manualSeed(3);
      const model = c.build();
      randomizeNorms(model);
      const weights = join(dir, `${c.name}.pt`);
      io.saveStateDict(weights, model);
      ours.set(c.name, exportOnnx(model, randn([1, ...c.input])).bytes);
      model.dispose();
      requests.push({ name: c.name, build: c.twin, weights, input: [1, ...c.input], out: join(dir, `${c.name}.torch.onnx`) });
    }
    exportTwins(requests);
  });

  for (const c of cases) {
    it(`${c.name}: the same outputs as PyTorch's export of ${c.twin.replace(/^.*(torchvision\.models\.\w+).*$/, '$1')}`, async () => {
      manualSeed(4);
      const x: Tensor = randn([2, ...c.input]);
      const a = await runOnnxRuntime(ours.get(c.name)!, x);
      const b = await runOnnxRuntime(readFileSync(join(dir, `${c.name}.torch.onnx`)), x);
      assert.deepEqual(a.dims, [2, 10]);
      assert.deepEqual(a.dims, b.dims);
      b.data.forEach((v, i) => assert.ok(Math.abs((a.data[i] as number) - v) <= 1e-5 + 1e-3 * Math.abs(v), `${c.name}[${i}]: ours ${a.data[i]} vs PyTorch's ${v}`));
    });
  }
});
