// Channel pruning: removing channels that contribute nothing (zero filters, batch norms with β = μ = 0)
// leaves every output as it was — through residual streams (fashion-net, resnet18 with projection
// shortcuts), depthwise convolutions (mobilenet-v2) and a flatten into a linear (seed-mnist-cnn) —
// while the model gets smaller, exports to ONNX and matches there; what cannot be pruned is kept
// whole with the reason; a pruned model rebuilds from the zoo with its saved shapes; multiply-adds
// are counted as by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { add, cat, manualSeed, models, nn, noGrad, randn, setNumThreads, zeros, type Tensor } from '../../src/index.js';
import { compareWithOnnxRuntime, exportOnnx } from '../../src/export/index.js';
import { createModel } from '../../src/models/registry.js';
import { channelGroups } from '../../src/prune/channel-groups.js';
import { pruneChannels } from '../../src/prune/channels.js';
import { modelCost } from '../../src/prune/cost.js';
import { resizeToShapes } from '../../src/prune/resize.js';
import { randomizeNorms } from '../export/helpers.js';

setNumThreads(1);

type Model = nn.Module & { forward(x: Tensor): Tensor };

/**
 * In every prunable group, zeroes the producers' filters and the biases and running means (β, μ,
 * conv biases) of the channels c ≡ 1 (mod 4): those channels then carry exact zeros everywhere.
 * Returns the chosen channels per group (by first producer) and the amount that prunes exactly them.
 */
function silenceChannels(model: Model, example: Tensor): Map<string, number[]> {
  const sd = model.stateDict();
  const chosen = new Map<string, number[]>();
  noGrad(() => {
    for (const g of channelGroups(model, example)) {
      if (g.pinned !== null || g.producers.length === 0) continue;
      const channels = Array.from({ length: g.size }, (_, c) => c).filter((c) => c % 4 === 1);
      chosen.set(g.producers[0]!.weight, channels);
      const zeroed = [...g.producers.map((p) => ({ key: p.weight, dim: p.dim })), ...g.slices.filter((s) => s.dim === 0 && /(bias|running_mean)$/.test(s.key))];
      for (const { key, dim } of zeroed) {
        const t = sd.get(key)!;
        for (const c of channels) t.select(dim, c).zero_();
      }
    }
  });
  return chosen;
}

async function assertExactAfterPruning(name: string, model: Model, shape: number[]): Promise<void> {
  model.eval();
  const example = zeros([1, ...shape]);
  const chosen = silenceChannels(model, example);
  const x = randn([3, ...shape]);
  const before = noGrad(() => model.forward(x));
  const params = model.numParameters();
  const macs = modelCost(model, shape).multiplyAdds;
  // every group in these models has a multiple of 4 channels: 0.25 of them are exactly the c ≡ 1 (mod 4)
  const r = pruneChannels(model, example, 0.25);
  assert.ok(r.pruned.length > 0, `${name}: something pruned`);
  for (const g of r.pruned) assert.deepEqual(g.removed, chosen.get(g.producers[0]!), `${name}: the silent channels of ${g.producers.join(', ')} go`);
  const afterOut = noGrad(() => model.forward(x));
  assert.deepEqual(afterOut.shape, before.shape);
  const [a, b] = [before.data() as Float32Array, afterOut.data() as Float32Array];
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 + 1e-4 * Math.abs(v), `${name}: output ${i} ${b[i]} after pruning, ${v} before`));
  assert.ok(model.numParameters() < 0.8 * params, `${name}: ${model.numParameters()} parameters of ${params}`);
  assert.ok(modelCost(model, shape).multiplyAdds < 0.8 * macs, `${name}: multiply-adds shrink`);
  const onnx = exportOnnx(model, example).bytes;
  const [cmp] = await compareWithOnnxRuntime(model, onnx, [[x]], { threads: 1 });
  assert.ok(cmp!.ok, `${name}: the pruned model's ONNX export matches it (max |Δ| ${cmp!.maxAbsDiff})`);
}

describe('channel pruning', () => {
  it('fashion-net (residual stages): silent channels go, outputs stay, the model exports', async () => {
    manualSeed(1);
    const model = models.fashionNet();
    randomizeNorms(model);
    await assertExactAfterPruning('fashion-net', model, [1, 28, 28]);
    // stage 1's stream (its conv and the residual's last conv) is one group; the layers know their new sizes
    const conv = model.stage1.at(1) as nn.Conv2d;
    assert.deepEqual([conv.inChannels, conv.outChannels, conv.weight.shape[0]], [24, 48, 48]);
  });

  it('resnet18 (projection shortcuts join each stage\'s stream) and mobilenet-v2 (depthwise convolutions)', async () => {
    manualSeed(2);
    const resnet = createModel('resnet18', { classes: 8, imageSize: 32 });
    randomizeNorms(resnet);
    await assertExactAfterPruning('resnet18', resnet, [3, 32, 32]);
    const mobilenet = models.mobilenetV2({ numClasses: 8, widthMult: 0.5 });
    randomizeNorms(mobilenet);
    await assertExactAfterPruning('mobilenet-v2', mobilenet, [3, 32, 32]);
    const dw = [...mobilenet.modules()].find((m): m is nn.Conv2d => m instanceof nn.Conv2d && m.groups > 1)!;
    assert.equal(dw.groups, dw.outChannels, 'a depthwise conv stays depthwise');
  });

  it('seed-mnist-cnn (flatten into a linear: a block of H·W columns per channel)', async () => {
    manualSeed(3);
    await assertExactAfterPruning('seed-mnist-cnn', createModel('seed-mnist-cnn') as Model, [1, 28, 28]);
  });

  it('keeps concatenated channels, the input and the logits whole, and says why', () => {
    manualSeed(4);
    class Concat extends nn.Module {
      readonly a = this.registerModule('a', new nn.Conv2d(3, 8, 3, { padding: 1 }));
      readonly b = this.registerModule('b', new nn.Conv2d(3, 8, 3, { padding: 1 }));
      readonly c = this.registerModule('c', new nn.Conv2d(16, 8, 3, { padding: 1 }));
      readonly fc = this.registerModule('fc', new nn.Linear(8, 4));
      forward(x: Tensor): Tensor {
        const h = this.c.forward(cat([this.a.forward(x), this.b.forward(x)], 1));
        return this.fc.forward(add(h, h).mean([2, 3]));
      }
    }
    const r = pruneChannels(new Concat(), zeros([1, 3, 8, 8]), 0.5);
    const reasons = Object.fromEntries(r.kept.map((k) => [k.producers.join(',') || 'input', k.reason]));
    assert.match(reasons['a.weight']!, /^Concat in the model's forward reads the channels$/);
    assert.match(reasons['b.weight']!, /^Concat in the model's forward reads the channels$/);
    assert.equal(reasons['fc.weight'], "the model's output");
    assert.equal(reasons.input, "the model's input");
    assert.match(reasons['c.weight']!, /ReduceMean in the model's forward reads the channels/);
    assert.deepEqual(r.pruned, []);
  });

  it('a pruned model rebuilds from the zoo with its saved shapes and gives the same outputs', () => {
    manualSeed(5);
    const model = models.fashionNet();
    randomizeNorms(model);
    model.eval();
    const r = pruneChannels(model, zeros([1, 1, 28, 28]), 0.5);
    const fresh = models.fashionNet();
    resizeToShapes(fresh, r.shapes);
    fresh.loadStateDict(model.stateDict());
    fresh.eval();
    const x = randn([2, 1, 28, 28]);
    assert.deepEqual(noGrad(() => fresh.forward(x)).data(), noGrad(() => model.forward(x)).data());
    assert.throws(() => resizeToShapes(models.fashionNet(), { 'stem.9.weight': [1] }), /the pruned shapes name 'stem\.9\.weight', which FashionNet does not have/);
    assert.throws(() => resizeToShapes(models.fashionNet(), { 'stem.0.weight': [4, 1] }), /the pruned shape of 'stem\.0\.weight' is \[4, 1\]; the layer's tensor has 4 dimensions/);
  });

  it('counts multiply-adds as by hand (fashion-net: 36,353,792 per 28×28 image)', () => {
    const model = models.fashionNet();
    // stem 28²·32·9; stage 1 14²·64·(32·9) + 2·14²·64·(64·9); stage 2 7²·128·(64·9) + 2·7²·128·(128·9); head 128·10
    const byHand = 28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 2 * 14 * 14 * 64 * 64 * 9 + 7 * 7 * 128 * 64 * 9 + 2 * 7 * 7 * 128 * 128 * 9 + 128 * 10;
    const cost = modelCost(model, [1, 28, 28]);
    assert.equal(cost.multiplyAdds, byHand);
    assert.equal(cost.parameters, model.numParameters());
    assert.equal(cost.nonzeroParameters, cost.parameters - (32 + 3 * 64 + 3 * 128), 'the batch norms\' β start at 0');
  });
});
