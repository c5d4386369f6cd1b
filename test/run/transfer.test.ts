// Transfer learning in a run (src/run/transfer.ts): two fine-tuning epochs — head only with frozen
// batch norm, then the whole model with a lower backbone rate — step for step as PyTorch does them;
// then runs from torchvision weights where each flag changes what is trained, survives a resume,
// and is refused with a message when it cannot take effect; the stem, channels and normalisation
// follow the weights and are saved for eval.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { resolveConfig, type Override } from '../../src/config/load.js';
import type { RunConfig } from '../../src/config/schema.js';
import { loadStateDictFile, savePt } from '../../src/io/index.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { ResNet } from '../../src/models/resnet.js';
import { evaluateSavedModel } from '../../src/run/eval.js';
import { buildOptimizer } from '../../src/run/optim.js';
import { loadRunModel } from '../../src/run/saved-model.js';
import { runTraining } from '../../src/run/train.js';
import { BackboneFreezing, buildRunModel, fineTuning, resolveTransfer } from '../../src/run/transfer.js';
import { IMAGENET_NORMALIZATION } from '../../src/run/data.js';
import { getNumThreads, manualSeed, randint, randn, scope, setNumThreads, type Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { quiet, writeFolder } from './helpers.js';

const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const root = mkdtempSync(join(tmpdir(), 'tessera-transfer-run-'));
const weights = join(root, 'resnet18.pt');
const folder = join(root, 'colours');
const threads = getNumThreads();

function python(script: string): void {
  const r = spawnSync(PYTHON, ['-c', `import torch, torchvision, json\nimport torch.nn.functional as F\ntorch.set_num_threads(1)\n${script}`], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  setNumThreads(1);
  // torchvision's resnet18 (random weights; batch-norm statistics moved off 0/1 by a few training-mode batches).
  python(`
torch.manual_seed(0)
m = torchvision.models.resnet18()
with torch.no_grad():
    for _ in range(3): m(torch.randn(4, 3, 64, 64))
torch.save(m.state_dict(), '${weights}')`);
  await writeFolder(folder, 8); // 3 classes × 8 16×16 images
});
after(() => {
  setNumThreads(threads);
  rmSync(root, { recursive: true, force: true });
});

function config(name: string, extra: Override[] = [], o: { pretrained?: boolean } = {}): RunConfig {
  return resolveConfig({
    overrides: [
      ['data.source', JSON.stringify(folder)],
      ['data.valSplit', '0.25'],
      ['data.testSplit', '0'],
      ['model.name', 'resnet18'],
      ...(o.pretrained === false ? [] : [['model.pretrained', JSON.stringify(weights)] as const]),
      ['train.epochs', '3'],
      ['train.batchSize', '4'],
      ['train.optimizer.lr', '0.05'],
      ['train.threads', '1'],
      ['outDir', JSON.stringify(join(root, 'runs'))],
      ['name', JSON.stringify(name)],
      ...extra,
    ],
  });
}

const fromFile = (f: string) => loadStateDictFile(f);
const runWeights = (name: string) => fromFile(join(root, 'runs', name, 'model.safetensors'));
const same = (a: Tensor, b: Tensor) => a.shape.join() === b.shape.join() && a.sub(b).abs().max().item() === 0;
const logLines = (name: string) => readFileSync(join(root, 'runs', name, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

/** Keys of the model's backbone (everything outside `fc`), split by what they are. */
function backboneKeys(sd: Map<string, Tensor>) {
  const keys = [...sd.keys()].filter((k) => !k.startsWith('fc.'));
  return {
    convs: keys.filter((k) => /conv\d\.weight$|downsample\.0\.weight$/.test(k)),
    bnParams: keys.filter((k) => /(bn\d|downsample\.1)\.(weight|bias)$/.test(k)),
    bnStats: keys.filter((k) => /running_(mean|var)$/.test(k)),
  };
}

describe('fine-tuning steps against PyTorch', () => {
  it('epoch 1 head only (frozen batch norm in eval mode), epoch 2 everything with the backbone at lr × 0.1: the same weights as PyTorch', () => {
    const c = config('conformance', [['model.unfreezeAfter', '1'], ['model.backboneLrMult', '0.1'], ['data.imageSize', '[64,64]'], ['augment.normalize', '"measured"']]);
    const resolved = resolveTransfer(c);
    manualSeed(3);
    const { model } = buildRunModel(resolved, { model: 'resnet18', classes: 3, channels: 3, height: 64 }, () => {});
    const tuning = fineTuning(model, resolved, () => {});
    const optimizer = buildOptimizer(model, resolved.train.optimizer, tuning.groups);
    const freezing = tuning.callbacks[0] as BackboneFreezing;
    const x = [randn([4, 3, 64, 64]), randn([4, 3, 64, 64])];
    const y = [randint(0, 3, [4]), randint(0, 3, [4])];
    savePt(join(root, 'init.pt'), model.stateDict());
    savePt(join(root, 'batches.pt'), { x0: x[0]!, x1: x[1]!, y0: y[0]!, y1: y[1]! });
    // The groups as the optimizer holds them: head first (its lr is the run's `lr`), then the backbone.
    const names = new Map([...model.namedParameters()].map(([k, p]) => [p, k]));
    const groups = optimizer.paramGroups.map((g) => ({ names: g.params.map((p) => names.get(p)), lr: g.lr, weight_decay: (g as { weightDecay?: number }).weightDecay }));
    assert.deepEqual(groups.map((g) => [g.lr, g.weight_decay, g.names.length]), [[0.05, 5e-4, 1], [0.05, 0, 1], [0.05 * 0.1, 5e-4, 20], [0.05 * 0.1, 0, 40]]);
    assert.deepEqual(groups.slice(0, 2).map((g) => g.names), [['fc.weight'], ['fc.bias']]);
    assert.equal(new Set(groups.flatMap((g) => g.names)).size, model.parameters().length, 'every parameter is in a group, frozen or not');

    const initial = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
    const step = (i: number) =>
      scope(() => {
        model.train(); // what the trainer does before the epoch's callbacks
        freezing.apply(i, false);
        crossEntropy(model.forward(x[i]!), y[i]!).backward();
        optimizer.step();
        optimizer.zeroGrad();
      });
    step(0);
    const keys = backboneKeys(model.stateDict());
    const sd = model.stateDict();
    for (const k of [...keys.convs, ...keys.bnParams, ...keys.bnStats]) assert.ok(same(sd.get(k)!, initial.get(k)!), `${k} unchanged while frozen`);
    assert.ok(!same(sd.get('fc.weight')!, initial.get('fc.weight')!), 'the head moved');
    step(1);
    assert.ok(!same(model.stateDict().get('layer1.0.bn1.running_mean')!, initial.get('layer1.0.bn1.running_mean')!), 'unfrozen batch norm updates its statistics');
    savePt(join(root, 'tessera-final.pt'), model.stateDict());

    python(`
m = torchvision.models.resnet18(num_classes=3)
m.load_state_dict(torch.load('${join(root, 'init.pt')}'))
b = torch.load('${join(root, 'batches.pt')}')
named = dict(m.named_parameters())
groups = json.loads('${JSON.stringify(groups)}')
opt = torch.optim.SGD([{'params': [named[n] for n in g['names']], 'lr': g['lr'], 'weight_decay': g['weight_decay']} for g in groups], lr=0.05, momentum=0.9, nesterov=True)
def step(x, y, frozen):
    m.train()
    for n, p in named.items(): p.requires_grad_(not frozen or n.startswith('fc.'))
    if frozen:
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d): mod.eval()
    F.cross_entropy(m(x), y).backward()
    opt.step()
    opt.zero_grad()
step(b['x0'], b['y0'], True)
step(b['x1'], b['y1'], False)
torch.save(m.state_dict(), '${join(root, 'torch-final.pt')}')`);
    const ours = fromFile(join(root, 'tessera-final.pt'));
    const theirs = fromFile(join(root, 'torch-final.pt'));
    for (const [k, v] of theirs) assertClose(ours.get(k)!, v, { rtol: 1e-4, atol: 1e-5, message: k });
    model.dispose();
    optimizer.dispose();
  });
});

describe('runs from torchvision weights', () => {
  it("--freeze-backbone: the backbone ends as loaded, batch-norm statistics included; only the head trained", async () => {
    const lines: string[] = [];
    await runTraining(config('frozen', [['model.freezeBackbone', 'true']]), { ...quiet, log: (l) => lines.push(l) });
    const file = fromFile(weights);
    const out = runWeights('frozen');
    const keys = backboneKeys(out);
    for (const k of [...keys.convs, ...keys.bnParams, ...keys.bnStats]) assert.ok(same(out.get(k)!, file.get(k)!), `${k} as loaded`);
    assert.match(lines.join('\n'), /epoch 1: training the head only \(60 backbone tensors frozen, 20 batch-norm layers in eval mode\)/);
    assert.match(lines.join('\n'), /model: resnet18, 11,178,051 parameters \(1,539 trainable in the first epoch\)/);
  });

  it('--train-bn: batch norm in the frozen backbone learns and its statistics move; the convolutions stay as loaded', async () => {
    await runTraining(config('train-bn', [['model.freezeBackbone', 'true'], ['model.trainBn', 'true']]), quiet);
    const file = fromFile(weights);
    const out = runWeights('train-bn');
    const keys = backboneKeys(out);
    for (const k of keys.convs) assert.ok(same(out.get(k)!, file.get(k)!), `${k} as loaded`);
    for (const k of ['layer2.0.bn1.weight', 'layer2.0.bn1.running_mean', 'bn1.running_var']) assert.ok(!same(out.get(k)!, file.get(k)!), `${k} trained`);
  });

  it('--unfreeze-after 1 and --backbone-lr-mult 0.1: the log says when, the backbone trains at a tenth of the rate, the weights differ from one rate', async () => {
    const lines: string[] = [];
    await runTraining(config('unfreeze', [['model.unfreezeAfter', '1'], ['model.backboneLrMult', '0.1']]), { ...quiet, log: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.match(text, /epoch 1: training the head only/);
    assert.match(text, /epoch 2: training the whole model \(backbone unfrozen\)/);
    const rows = logLines('unfreeze').filter((r) => r['lr_2'] !== undefined);
    assert.ok(rows.length > 0 && rows.every((r) => Math.abs((r['lr_2'] as number) - 0.1 * (r['lr'] as number)) < 1e-12), 'the backbone groups run at lr × 0.1');
    const file = fromFile(weights);
    const out = runWeights('unfreeze');
    assert.ok(!same(out.get('layer1.0.conv1.weight')!, file.get('layer1.0.conv1.weight')!), 'the backbone trained after epoch 1');
    await runTraining(config('unfreeze-one-rate', [['model.unfreezeAfter', '1']]), quiet);
    assert.ok(!same(runWeights('unfreeze-one-rate').get('layer1.0.conv1.weight')!, out.get('layer1.0.conv1.weight')!), 'the multiplier changes what the backbone learns');
  });

  it('a run stopped in its frozen epochs resumes frozen (batch norm in eval mode) and unfreezes on time: the same weights as an uninterrupted run', async () => {
    const extra: Override[] = [['model.unfreezeAfter', '2'], ['model.backboneLrMult', '0.5'], ['checkpoint.everySteps', '1']];
    await runTraining(config('whole', extra), quiet);
    // Stop in epoch 2 (still frozen) after its second batch; its first is checkpointed.
    const stopping = { write(s: string) { if (s.startsWith('epoch 2/3 batch 2')) throw new Error('stopped'); return true; }, isTTY: false } as unknown as NodeJS.WritableStream;
    await assert.rejects(runTraining(config('stopped', extra), { ...quiet, progressStream: stopping }), /stopped/);
    const lines: string[] = [];
    await runTraining(config('stopped', extra), { ...quiet, log: (l) => lines.push(l) });
    assert.match(lines.join('\n'), /resuming .*stopped/);
    assert.match(lines.join('\n'), /epoch 2: training the head only[^]*epoch 3: training the whole model/);
    const sha = (n: string) => createHash('sha256').update(readFileSync(join(root, 'runs', n, 'model.safetensors'))).digest('hex');
    assert.equal(sha('stopped'), sha('whole'));
  });

  it('the stem, the channels and ImageNet normalisation follow the weights, 16 px photos are read at 64 px for the ImageNet stem, all saved, and eval rebuilds the model', async () => {
    const lines: string[] = [];
    await runTraining(config('stem', [['train.epochs', '1'], ['data.testSplit', '0.2'], ['data.dropLast', 'true']]), { ...quiet, log: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.match(text, /model: stem 'imagenet', as the weights in resnet18\.pt need \(conv1\.weight \[64, 3, 7, 7\]\)/);
    assert.match(text, /data: ImageNet normalisation/);
    assert.match(text, /data: image size 64×64 \(the samples' own size; raised to 64 px, the least for the ImageNet stem/);
    const dir = join(root, 'runs', 'stem');
    const saved = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.deepEqual(saved.model.options, { classes: 3, inChannels: 3, imageSize: 64, stem: 'imagenet' });
    assert.deepEqual(saved.preprocessing.normalize, { mean: [...IMAGENET_NORMALIZATION.mean], std: [...IMAGENET_NORMALIZATION.std] });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual([cfg.model.stem, cfg.data.channels, cfg.augment.normalize], ['imagenet', 3, 'imagenet'], 'config.json records what the weights decided');
    const loaded = loadRunModel(dir);
    assert.ok(loaded.model instanceof ResNet && loaded.model.stem === 'imagenet', 'rebuilt with the stem it was trained with (64 px alone would give the small one)');
    loaded.model.dispose();
    const r = await evaluateSavedModel(dir);
    assert.ok(r.report.numSamples > 0);

    // Measured instead when asked; a Tessera run's own model: that run's statistics.
    await runTraining(config('measured', [['train.epochs', '1'], ['augment.normalize', '"measured"']]), quiet);
    const measured = JSON.parse(readFileSync(join(root, 'runs', 'measured', 'model.json'), 'utf8')).preprocessing.normalize;
    assert.notDeepEqual(measured.mean, [...IMAGENET_NORMALIZATION.mean]);
    const again = resolveTransfer(config('again', [['model.pretrained', JSON.stringify(join(root, 'runs', 'measured', 'model.safetensors'))]]));
    assert.deepEqual(again.augment.normalize, measured);
  });

  it('without weights, a ResNet at ≤ 64 px gets the small stem, saved as such', async () => {
    await runTraining(config('scratch', [['train.epochs', '1']], { pretrained: false }), quiet);
    const saved = JSON.parse(readFileSync(join(root, 'runs', 'scratch', 'model.json'), 'utf8'));
    assert.equal(saved.model.options.stem, 'small');
    assert.notDeepEqual(saved.preprocessing.normalize.mean, [...IMAGENET_NORMALIZATION.mean], 'measured without weights');
  });
});

describe('fine-tuning flags that cannot take effect are refused before the data is read', () => {
  const refused: [string, Override[], RegExp][] = [
    ['--unfreeze-after ≥ --epochs', [['model.unfreezeAfter', '3']], /^model\.unfreezeAfter \(--unfreeze-after\) is 3 but the run has 3 epochs \(train\.epochs \(--epochs\)\): the backbone would never be unfrozen/],
    ['--backbone-lr-mult with --freeze-backbone alone', [['model.freezeBackbone', 'true'], ['model.backboneLrMult', '0.1']], /^model\.backboneLrMult \(--backbone-lr-mult\) has no effect with --freeze-backbone alone/],
    ['--train-bn without freezing', [['model.trainBn', 'true']], /^model\.trainBn \(--train-bn\) applies to a frozen backbone/],
    ["a stem the weights do not fit", [['model.stem', '"small"']], /^model\.stem is 'small' but .*resnet18\.pt needs stem 'imagenet' \(its conv1\.weight \[64, 3, 7, 7\]\)/],
    ['grey input for colour weights', [['data.channels', '1']], /^data\.channels is 1 but the first convolution of .*resnet18\.pt \(conv1\.weight \[64, 3, 7, 7\]\) takes 3/],
  ];
  for (const [what, extra, message] of refused)
    it(what, () => assert.throws(() => resolveTransfer(config('refused', extra)), (e: Error) => (assert.match(e.message, message), true)));

  it('--pretrained without --model: torchvision ResNet weights and a Tessera run name their model; other files must be named', () => {
    const lines: string[] = [];
    const c = resolveTransfer(config('arch', [['model.name', '"auto"']]), (l) => lines.push(l));
    assert.equal(c.model.name, 'resnet18');
    assert.match(lines[0] as string, /^model: resnet18, as the weights in resnet18\.pt are: torchvision's resnet18 layout \(basic blocks, 2 in layer3\); --model to choose$/);
    const run = join(root, 'runs', 'measured', 'model.safetensors'); // a resnet18 run of the test above
    assert.equal(resolveTransfer(config('arch', [['model.name', '"auto"'], ['model.pretrained', JSON.stringify(run)]])).model.name, 'resnet18');
    const other = join(root, 'mlp.pt');
    scope(() => savePt(other, { 'fc1.weight': randn([8, 4]), 'fc1.bias': randn([8]) }));
    const refused = /^model\.pretrained \(--pretrained\): .*mlp\.pt is not laid out as one of the zoo's ResNets \(resnet18, resnet34, resnet50\): name the architecture the weights are for with --model$/;
    assert.throws(() => resolveTransfer(config('arch', [['model.name', '"auto"'], ['model.pretrained', JSON.stringify(other)]])), (e: Error) => (assert.match(e.message, refused), true));
  });

  it('a stem for a model that has none is refused when the model is built', async () => {
    const c = config('no-stem', [['model.name', '"mlp"'], ['model.stem', '"small"'], ['train.epochs', '1']], { pretrained: false });
    await assert.rejects(runTraining(c, quiet), /model\.stem applies to resnet18, resnet34 and resnet50; mlp has no stem option/);
  });
});
