// Module-level behaviour on real layers: state dict errors, freezing, modes, counts, dtype moves,
// container APIs, and that a forward pass leaks nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { memoryStats, nn, ones, randn, scope, tensor, zeros, type Tensor } from '../../src/index.js';

const values = (t: Tensor | undefined): (number | bigint)[] => (t ? [...(t.data() as Iterable<number | bigint>)] : []);

/** conv(1→4) bn relu pool | flatten linear(4·2·2 → 3): 40 + 8 + 51 = 99 parameters. */
function model(): nn.Sequential {
  return new nn.Sequential(
    new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2)),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(16, 3),
  );
}

describe('loadStateDict', () => {
  it('names every missing, unexpected and mis-shaped key', () => {
    const m = model();
    const sd = new Map(m.stateDict());
    sd.delete('0.1.running_var');
    sd.delete('3.bias');
    sd.set('extra.weight', zeros([2]));
    sd.set('0.0.weight', zeros([4, 1, 5, 5]));
    assert.throws(() => m.loadStateDict(sd), (e: Error) => {
      assert.equal(e.name, 'StateDictError');
      assert.match(e.message, /missing key\(s\): 0\.1\.running_var, 3\.bias/);
      assert.match(e.message, /unexpected key\(s\): extra\.weight/);
      assert.match(e.message, /size mismatch for 0\.0\.weight: copying a tensor of shape \[4, 1, 5, 5\], the module has \[4, 1, 3, 3\]/);
      return true;
    });
    m.dispose();
  });

  it('non-strict loading reports missing and unexpected keys and copies the rest', () => {
    const [a, b] = [model(), model()];
    const sd = new Map(a.stateDict());
    sd.delete('3.weight');
    sd.set('head.weight', zeros([1]));
    const r = b.loadStateDict(sd, { strict: false });
    assert.deepEqual(r, { missingKeys: ['3.weight'], unexpectedKeys: ['head.weight'] });
    a.dispose();
    b.dispose();
  });

  it('copies values and the int64 counter (not the tensors themselves)', () => {
    const [a, b] = [model(), model()];
    a.train();
    scope(() => void a.forward(randn([2, 1, 4, 4])));
    b.loadStateDict(a.stateDict());
    const [sa, sb] = [a.stateDict(), b.stateDict()];
    for (const [k, t] of sa) {
      assert.notEqual(t, sb.get(k));
      assert.deepEqual(values(sb.get(k)), values(t), k);
    }
    assert.equal(sb.get('0.1.num_batches_tracked')?.item(), 1);
    a.dispose();
    b.dispose();
  });
});

describe('freezing, modes and counts', () => {
  it('requiresGrad_(false) on a sub-tree freezes only it', () => {
    const m = model();
    (m.at(0) as nn.Module).requiresGrad_(false);
    assert.equal(m.numParameters(), 99);
    assert.equal(m.numParameters({ trainableOnly: true }), 51);
    scope(() => {
      m.forward(randn([2, 1, 4, 4])).sum().backward();
      for (const [name, p] of m.namedParameters()) assert.equal(p.grad === null, name.startsWith('0.'), name);
    });
    m.dispose();
  });

  it('train() and eval() reach every submodule, and change dropout and batch norm', () => {
    const m = model();
    m.eval();
    assert.ok([...m.modules()].every((x) => !x.training));
    scope(() => {
      const x = randn([2, 1, 4, 4]);
      const before = values(m.stateDict().get('0.1.running_mean'));
      const [y1, y2] = [m.forward(x), m.forward(x)];
      assert.deepEqual(values(y1), values(y2), 'eval is deterministic');
      assert.deepEqual(values(m.stateDict().get('0.1.running_mean')), before, 'eval leaves running stats alone');
      m.train();
      assert.ok([...m.modules()].every((x) => x.training));
      m.forward(x);
      assert.equal(m.stateDict().get('0.1.num_batches_tracked')?.item(), 1);
    });
    m.dispose();
  });

  it("to('float64') converts floating parameters and buffers but keeps num_batches_tracked int64", () => {
    const m = model().to('float64');
    const sd = m.stateDict();
    assert.equal(sd.get('0.0.weight')?.dtype, 'float64');
    assert.equal(sd.get('0.1.running_var')?.dtype, 'float64');
    assert.equal(sd.get('0.1.num_batches_tracked')?.dtype, 'int64');
    scope(() => assert.equal(m.forward(randn([2, 1, 4, 4], { dtype: 'float64' })).dtype, 'float64'));
    const lstm = new nn.LSTM(2, 3).to('float64'); // flat weights are looked up after the move
    scope(() => assert.deepEqual(lstm.forward(randn([4, 1, 2], { dtype: 'float64' }))[0].shape, [4, 1, 3]));
    m.dispose();
    lstm.dispose();
  });

  it('a shared module is counted and listed once', () => {
    const shared = new nn.Linear(3, 3);
    const m = new nn.Sequential(shared, new nn.ReLU(), shared);
    assert.equal(m.parameters().length, 2);
    assert.equal(m.numParameters(), 12);
    assert.deepEqual([...m.namedModules()].map(([n]) => n), ['', '0', '1']);
    // state_dict repeats a shared module under every path, as PyTorch's does.
    assert.deepEqual([...m.stateDict().keys()], ['0.weight', '0.bias', '2.weight', '2.bias']);
    let visits = 0;
    m.apply((x) => {
      if (x === shared) visits++;
    });
    assert.equal(visits, 1, 'apply visits a shared module once, like PyTorch');
    m.dispose();
  });
});

describe('containers', () => {
  it('Sequential: at, length, iteration, slice keeps keys, insert renumbers', () => {
    const [a, b, c] = [new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1)];
    const s = new nn.Sequential(a, b, c);
    assert.equal(s.length, 3);
    assert.equal(s.at(-1), c);
    assert.deepEqual([...s], [a, b, c]);
    assert.throws(() => s.at(3), /index 3 is out of range for Sequential of length 3/);
    const tail = s.slice(1);
    assert.deepEqual([...tail.namedChildren()].map(([k]) => k), ['1', '2']);
    assert.deepEqual([...tail.stateDict().keys()], ['2.weight', '2.bias']);
    const t = new nn.Tanh();
    s.insert(1, t);
    assert.deepEqual([...s.namedChildren()].map(([k, m]) => `${k}:${m.constructor.name}`), ['0:Linear', '1:Tanh', '2:ReLU', '3:Linear']);
    assert.deepEqual([...s.stateDict().keys()], ['0.weight', '0.bias', '3.weight', '3.bias']);
    s.dispose();
  });

  it('ModuleList and ModuleDict: access, errors, no forward', () => {
    const l = new nn.ModuleList<nn.Module>([new nn.Linear(1, 1)]).append(new nn.ReLU());
    assert.deepEqual([...l.namedChildren()].map(([k]) => k), ['0', '1']);
    assert.throws(() => l.forward(), /ModuleList has no forward/);
    const d = new nn.ModuleDict<nn.Module>([['enc', new nn.Linear(2, 2)]]);
    d.set('act', new nn.GELU());
    assert.ok(d.has('act'));
    assert.equal(d.get('act').constructor.name, 'GELU');
    assert.throws(() => d.get('dec'), /ModuleDict has no module 'dec' \(keys: enc, act\)/);
    assert.deepEqual([...d.keys()], ['enc', 'act']);
    assert.throws(() => d.forward(), /ModuleDict has no forward/);
    l.dispose();
    d.dispose();
  });
});

describe('errors and memory', () => {
  it('layers refuse bad configurations with PyTorch-like messages', () => {
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /in_channels must be divisible by groups/);
    assert.throws(() => new nn.Conv2d(2, 4, 3, { padding: 'same', stride: 2 }), /padding='same' is not supported for strided convolutions/);
    assert.throws(() => new nn.Dropout(1.5), /dropout probability has to be between 0 and 1, but got 1.5/);
    assert.throws(() => new nn.Embedding(3, 2, { paddingIdx: 3 }), /Padding_idx must be within num_embeddings/);
    assert.throws(() => new nn.Upsample({ scaleFactor: 2, alignCorners: true }), /align_corners option can only be set with the interpolating modes/);
    assert.throws(() => new nn.GroupNorm(4, 6), /num_channels must be divisible by num_groups/);
    const lstm = new nn.LSTM(3, 2);
    scope(() => {
      assert.throws(() => lstm.forward(zeros([4, 1, 5])), /input\.size\(-1\) must be equal to input_size\. Expected 3, got 5/);
      assert.throws(() => lstm.forward(zeros([4, 1, 3]), [zeros([1, 2, 2]), zeros([1, 1, 2])]), /Expected hidden size \(1, 1, 2\), got \[1, 2, 2\]/);
    });
    lstm.dispose();
  });

  it('forward and backward in a scope leave no tensor behind; dispose frees parameters and buffers', () => {
    const live = memoryStats().liveTensors;
    const layers: nn.Module[] = [model(), new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true }), new nn.GRU(3, 2), new nn.Embedding(5, 2, { paddingIdx: 0 })];
    const inputs: (() => Tensor)[] = [() => randn([2, 1, 4, 4]), () => randn([5, 2, 3]), () => randn([5, 2, 3]), () => tensor([[0n, 1n, 4n]])];
    layers.forEach((m, i) => {
      for (let k = 0; k < 3; k++) {
        scope(() => {
          const out = (m as unknown as { forward(x: Tensor): Tensor | Tensor[] }).forward((inputs[i] as () => Tensor)());
          const first = Array.isArray(out) ? (out[0] as Tensor) : out;
          first.mul(ones(first.shape)).sum().backward();
        });
        m.zeroGrad();
      }
    });
    for (const m of layers) m.dispose();
    assert.equal(memoryStats().liveTensors, live);
  });
});

describe('Module.to keeps tensor identity', () => {
  it('converts in place, so an optimizer built before to() still steps the right tensors', () => {
    const m = new nn.Linear(3, 2);
    const before = m.parameters();
    scope(() => m.forward(randn([4, 3])).sum().backward());
    m.to('float64');
    const after = m.parameters();
    assert.equal(after[0], before[0]);
    assert.equal(after[1], before[1]);
    assert.equal(after[0]?.dtype, 'float64');
    assert.equal(after[0]?.requiresGrad, true);
    scope(() => assert.equal(after[0]?.grad?.dtype, 'float64'));
    scope(() => {
      const y = m.forward(randn([4, 3], { dtype: 'float64' }));
      assert.equal(y.dtype, 'float64');
    });
    m.dispose();
  });
});
