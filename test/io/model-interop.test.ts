// A model saved here (.pt and safetensors) gives identical outputs in PyTorch, and a model saved
// by PyTorch gives identical outputs here: weights move both ways by key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { io, manualSeed, nn, noGrad, randn, scope, tensor, type Tensor } from '../../src/index.js';

// The same small CNN on both sides: conv-bn-relu-pool-flatten-linear, 1×8×8 → 3 classes.
const buildTessera = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 3),
  );

const PY_MODEL = `
import torch, json, sys
from torch import nn
def build():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
`;

function python(script: string): string {
  const r = spawnSync('/usr/bin/python3', ['-c', PY_MODEL + script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Trains batch-norm statistics a little so running_mean/var and num_batches_tracked are not defaults. */
function warm(model: nn.Module): void {
  scope(() => {
    for (let i = 0; i < 3; i++) (model as nn.Sequential).forward(randn([5, 1, 8, 8]));
  });
  model.eval();
}

describe('weights move between Tessera and PyTorch by key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interop-'));
  manualSeed(5);
  const input = randn([2, 1, 8, 8]);
  const inputPath = join(dir, 'input.json');
  writeFileSync(inputPath, JSON.stringify(Array.from(input.data() as Float32Array)));

  for (const ext of ['pt', 'safetensors']) {
    it(`Tessera → PyTorch (.${ext})`, () => {
      const model = buildTessera();
      warm(model);
      const path = join(dir, `ours.${ext}`);
      io.saveStateDict(path, model);
      const ours = noGrad(() => scope(() => Array.from(model.forward(input).data() as Float32Array)));
      const out = python(`
x = torch.tensor(json.load(open('${inputPath}')), dtype=torch.float32).reshape(2, 1, 8, 8)
m = build().eval()
if '${ext}' == 'pt':
    sd = torch.load('${path}')
else:
    import struct
    raw = open('${path}', 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]; header = json.loads(raw[8:8 + n]); body = raw[8 + n:]
    types = {'F32': torch.float32, 'I64': torch.int64}
    sd = {k: torch.frombuffer(bytearray(body[v['data_offsets'][0]:v['data_offsets'][1]]), dtype=types[v['dtype']]).reshape(v['shape']) for k, v in header.items() if k != '__metadata__'}
m.load_state_dict(sd, strict=True)
print(json.dumps({'keys': list(sd.keys()), 'out': m(x).flatten().tolist(), 'nbt': int(sd['1.num_batches_tracked'])}))`);
      const ref = JSON.parse(out) as { keys: string[]; out: number[]; nbt: number };
      assert.deepEqual(ref.keys.sort(), [...model.stateDict().keys()].sort());
      assert.equal(ref.nbt, 3);
      ours.forEach((v, i) => assert.ok(Math.abs(v - (ref.out[i] as number)) <= 1e-6 * Math.max(1, Math.abs(v)), `output ${i}: ${v} vs ${ref.out[i]}`));
      model.dispose();
    });
  }

  it('PyTorch → Tessera (.pt written by torch.save of an OrderedDict state_dict)', () => {
    const path = join(dir, 'theirs.pt');
    const out = python(`
torch.manual_seed(11)
m = build()
for _ in range(2): m(torch.randn(5, 1, 8, 8))
m.eval()
torch.save(m.state_dict(), '${path}')
x = torch.tensor(json.load(open('${inputPath}')), dtype=torch.float32).reshape(2, 1, 8, 8)
print(json.dumps(m(x).flatten().tolist()))`);
    const ref = JSON.parse(out) as number[];
    const model = buildTessera();
    const sd = io.loadStateDictFile(path);
    model.loadStateDict(sd);
    model.eval();
    const ours = noGrad(() => scope(() => model.forward(input)));
    const expected = tensor(ref);
    assert.deepEqual(ours.shape, [2, 3]);
    (ours.data() as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - (ref[i] as number)) <= 1e-6, `output ${i}`));
    for (const t of [...sd.values(), ours, expected as Tensor]) t.dispose();
    model.dispose();
  });
});
