// exportOnnx as a library call: what the file holds (metadata, names, the symbolic batch), what it
// refuses (ops without a mapping, random draws, data-dependent reads, a batch the graph would fix),
// each refusal naming the op and the module path, and that a trace leaves nothing behind: the
// native entry points, the modules' forwards, their train/eval modes and the live tensors are as
// before, whether the export succeeded or failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { fromBinary } from '@bufbuild/protobuf';

import { dropout, histc, manualSeed, memoryStats, nn, ones, randLike, randn, zeros, type Tensor } from '../../src/index.js';
import { exportOnnx, OnnxExportError } from '../../src/export/index.js';
import { ModelProtoSchema } from '../../src/export/generated/onnx_pb.js';
import { native } from '../../src/tensor/native.js';
import { assertMatchesModel } from './helpers.js';

/** A module whose forward runs a Linear (`block.linear`), then `body` inside a child at path `block.inner`. */
class Nested extends nn.Module {
  readonly block: nn.ModuleDict;

  constructor(body: (x: Tensor) => unknown) {
    super();
    const inner = new (class Inner extends nn.Module {
      forward(x: Tensor): unknown {
        return body(x);
      }
    })();
    this.block = this.registerModule('block', new nn.ModuleDict<nn.Module>({ linear: new nn.Linear(4, 4), inner }));
  }

  forward(x: Tensor): unknown {
    const call = (key: string, v: Tensor) => (this.block.get(key) as unknown as { forward(x: Tensor): unknown }).forward(v);
    return call('inner', call('linear', x) as Tensor);
  }
}

/** Calls `f` and returns the OnnxExportError it throws. */
function exportError(f: () => unknown): OnnxExportError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof OnnxExportError, `expected an OnnxExportError, got ${String(e)}`);
    return e;
  }
  return assert.fail('the export did not fail');
}

describe('exportOnnx', () => {
  it('writes metadata, names, opset, producer and a symbolic batch the file alone can be read by', () => {
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const preprocessing = { height: 28, width: 28, mean: [0.5], std: [0.25] };
    const r = exportOnnx(model, randn([4, 3]), { classes: ['cat', 'dog'], preprocessing, inputLayout: 'NC', metadata: { author: 'test' }, inputNames: ['pixels'], outputNames: ['logits'], opset: 15 });
    const m = fromBinary(ModelProtoSchema, r.bytes);
    assert.equal(m.irVersion, 8n);
    assert.deepEqual(m.opsetImport.map((o) => [o.domain, o.version]), [['', 15n]]);
    assert.equal(m.producerName, 'tessera');
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    assert.deepEqual(meta, { author: 'test', classes: '["cat","dog"]', input_layout: 'NC', preprocessing: JSON.stringify(preprocessing) });
    const g = m.graph!;
    assert.deepEqual(g.node.map((n) => n.opType), ['Gemm']);
    assert.deepEqual(g.initializer.map((t) => t.name).sort(), ['0.bias', '0.weight'], 'weights are named by their state-dict keys');
    const dims = (v: (typeof g.input)[number]) => (v.type!.value.value as { shape: { dim: { value: { case?: string; value?: unknown } }[] } }).shape.dim.map((d) => d.value.value);
    assert.deepEqual([g.input[0]!.name, dims(g.input[0]!)], ['pixels', ['batch', 3n]]);
    assert.deepEqual([g.output[0]!.name, dims(g.output[0]!)], ['logits', ['batch', 2n]]);
    model.dispose();
  });

  it('declares an output whose batch the forward merged into another axis with sizes unknown, not the trace\'s', async () => {
    const model = new Nested((x) => [x.reshape([-1]), x.sum([1])]);
    const r = exportOnnx(model, randn([2, 4]));
    const dims = fromBinary(ModelProtoSchema, r.bytes).graph!.output.map((o) => (o.type!.value.value as { shape: { dim: { value: { case?: string } }[] } }).shape.dim.map((d) => d.value.case ?? 'unknown'));
    assert.deepEqual(dims, [['unknown'], ['dimParam']]);
    await assertMatchesModel('merged batch', model, r.bytes, [[randn([1, 4])], [randn([5, 4])]]);
    model.dispose();
  });

  it('drops what the outputs do not need, and keeps the model as it was (weights, mode)', () => {
    const model = new Nested((x) => {
      x.exp().sum(); // computed and thrown away
      return x.relu();
    });
    model.train();
    const before = model.stateDict().get('block.linear.weight')!.data().slice();
    const r = exportOnnx(model, randn([2, 4]));
    assert.deepEqual(fromBinary(ModelProtoSchema, r.bytes).graph!.node.map((n) => n.opType), ['Gemm', 'Relu']);
    assert.ok([...model.modules()].every((m) => m.training), 'train mode is restored');
    assert.deepEqual(model.stateDict().get('block.linear.weight')!.data(), before);
    model.dispose();
  });

  it('names the op and the module path of an op without a mapping', () => {
    const model = new Nested((x) => histc(x, 4));
    const e = exportError(() => exportOnnx(model, randn([2, 4])));
    assert.equal(e.op, 'histc');
    assert.equal(e.modulePath, 'block.inner');
    assert.equal(e.moduleClass, 'Inner');
    assert.match(e.message, /no ONNX mapping.*'histc'.*module 'block\.inner' \(Inner\)/);
    model.dispose();
  });

  it('refuses random draws, reads of values computed from the input, dropout forced into training, writes through views', () => {
    const cases: [(x: Tensor) => unknown, RegExp][] = [
      [(x) => x.add(randn([2, 4])), /random numbers.*'randn'/],
      [(x) => x.add(randLike(x)), /random ops have no ONNX export.*'rand_like'/],
      [(x) => x.mul(x.sum().item() as number), /reads the value of a tensor computed from the input.*'item'/],
      [(x) => dropout(x, 0.5, true), /dropout in training mode.*'dropout'/],
      [(x) => x.reshape([8]), /fixes the batch size/],
      [(x) => { const h = x.mul(1); h.select(1, 0).mul_(2); return h; }, /writes in place into a view of another tensor.*'mul_\$Scalar'/],
      [() => 3, /the forward returned number/],
    ];
    for (const [body, message] of cases) {
      const model = new Nested(body);
      assert.match(exportError(() => exportOnnx(model, randn([2, 4]))).message, message);
      model.dispose();
    }
  });

  it('refuses to squeeze away a batch of 1, and exports the same forward with a fixed batch', async () => {
    const model = new Nested((x) => x.squeeze());
    assert.match(exportError(() => exportOnnx(model, randn([1, 4]))).message, /squeezes the batch axis.*'squeeze'/);
    const fixed = exportOnnx(model, randn([1, 4]), { batchAxis: null });
    assert.deepEqual(fixed.outputs.map((o) => [o.shape, o.batchAxis]), [[[4], null]]);
    await assertMatchesModel('fixed batch', model, fixed.bytes, [[randn([1, 4])]]);
    model.dispose();
  });

  it('a constant the forward builds (a zero state, a scale) becomes an initializer; ops on constants alone are folded', async () => {
    const model = new Nested((x) => x.add(zeros([4]).add(1).mul(2)));
    const r = exportOnnx(model, randn([2, 4]));
    assert.deepEqual(fromBinary(ModelProtoSchema, r.bytes).graph!.node.map((n) => n.opType), ['Gemm', 'Add']);
    await assertMatchesModel('folded constant', model, r.bytes, [[randn([3, 4])]]);
    model.dispose();
  });

  it('checks its options, naming the one at fault', () => {
    const model = new nn.Linear(3, 2);
    const x = randn([2, 3]);
    assert.throws(() => exportOnnx(model, x, { opset: 12 }), /opset must be an integer from 13 to 17, got 12/);
    assert.throws(() => exportOnnx(model, x, { opset: 18 }), /opset must be an integer from 13 to 17, got 18/);
    assert.throws(() => exportOnnx(model, x, { inputNames: ['a', 'b'] }), /inputNames has 2 names for 1 example inputs/);
    assert.throws(() => exportOnnx(model, x, { outputNames: [] }), /outputNames has 0 names for the forward's 1 outputs/);
    assert.throws(() => exportOnnx(model, x, { batchAxis: -1 }), /batchAxis must be a non-negative integer or null, got -1/);
    assert.throws(() => exportOnnx(model, []), /example input must be a Tensor or a non-empty array of Tensors/);
    const half = new (class Half extends nn.Module {
      readonly shift = this.registerBuffer('shift', ones([4], { dtype: 'float16' }));
      forward(h: Tensor): Tensor {
        return h.add(this.shift); // few LibTorch CPU kernels take half (no addmm): an add does
      }
    })();
    assert.throws(() => exportOnnx(half, randn([2, 4]).to('float16')), /float16 constants are not supported yet.*'add\$Tensor'/);
    model.dispose();
    half.dispose();
  });

  it('leaves no trace behind: entry points, forwards and live tensors are as before, after success and failure', () => {
    const entryPoints = Object.entries(native);
    const model = new Nested((x) => x.relu());
    const failing = new Nested((x) => histc(x, 4));
    const stats = () => memoryStats().liveTensors;
    const x = randn([2, 4]);
    exportOnnx(model, x); // warm-up: lazily created constants, caches
    const live = stats();
    exportOnnx(model, x);
    exportError(() => exportOnnx(failing, x));
    assert.equal(stats(), live, 'live tensors');
    assert.deepEqual(Object.entries(native), entryPoints, 'every native entry point is the original again');
    for (const m of [...model.modules(), ...failing.modules()]) assert.equal(Object.getOwnPropertyDescriptor(m, 'forward'), undefined, `${m.constructor.name}.forward is unwrapped`);
    model.dispose();
    failing.dispose();
  });
});
