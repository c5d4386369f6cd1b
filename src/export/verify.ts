// Runs an exported model in ONNX Runtime (onnxruntime-node, loaded only here) next to the Tessera
// model on the same inputs and says how far apart they are: the check `tessera export` runs before
// writing a file, and the tests' oracle. Agreement is PyTorch's ONNX tutorial criterion,
// |ort − tessera| ≤ atol + rtol·|tessera| for every element. The Tessera side runs the function
// that was traced: the model's forward, or the one given (the inference pass's inferenceForward).
import type { Tensor as OrtTensor } from 'onnxruntime-node';

import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { scope } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';

export interface OnnxComparison {
  /** The first input's size along axis 0. */
  batch: number;
  /** Largest |ort − tessera| over every output element. */
  maxAbsDiff: number;
  /** Largest |ort − tessera| / (atol + rtol·|tessera|): ≤ 1 when every element agrees. */
  worst: number;
  ok: boolean;
}

export interface CompareOptions {
  rtol?: number;
  atol?: number;
  /** ONNX Runtime's intra-op threads (default: its own choice). */
  threads?: number;
  /** The Tessera side (default the model's forward): the function exportOnnx traced, when it was given one. */
  forward?: (...inputs: Tensor[]) => unknown;
}

type Ort = typeof import('onnxruntime-node');

/** Runs each input set through both and compares every output. The model runs in eval mode (restored after). */
export async function compareWithOnnxRuntime(model: Module, onnx: Uint8Array, inputSets: readonly (readonly Tensor[])[], options: CompareOptions = {}): Promise<OnnxComparison[]> {
  const rtol = options.rtol ?? 1e-3;
  const atol = options.atol ?? 1e-5;
  const ort: Ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx, options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {});
  try {
    const results: OnnxComparison[] = [];
    for (const inputs of inputSets) {
      if (inputs.length !== session.inputNames.length) throw new RangeError(`the ONNX model takes ${session.inputNames.length} inputs, got ${inputs.length}`);
      const feeds = Object.fromEntries(inputs.map((t, i) => [session.inputNames[i] as string, toOrt(ort, t)]));
      const got = await session.run(feeds);
      const expected = runTessera(model, inputs, options.forward);
      if (expected.length !== session.outputNames.length) throw new RangeError(`the ONNX model has ${session.outputNames.length} outputs, the model's forward ${expected.length}`);
      let maxAbsDiff = 0;
      let worst = 0;
      expected.forEach((want, i) => {
        const out = got[session.outputNames[i] as string] as OrtTensor;
        const dims = out.dims.map(Number);
        if (dims.length !== want.shape.length || dims.some((d, k) => d !== want.shape[k]))
          throw new RangeError(`output ${session.outputNames[i]}: ONNX Runtime gave shape [${dims.join(', ')}], the model [${want.shape.join(', ')}]`);
        const a = out.data as ArrayLike<number | bigint>;
        want.values.forEach((b, k) => {
          const d = Math.abs(Number(a[k]) - b);
          maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? Infinity : d);
          worst = Math.max(worst, Number.isNaN(d) ? Infinity : d / (atol + rtol * Math.abs(b)));
        });
      });
      results.push({ batch: inputs[0]?.shape[0] ?? 0, maxAbsDiff, worst, ok: worst <= 1 });
    }
    return results;
  } finally {
    await session.release();
  }
}

/** The model's eval-mode outputs, flattened as the exporter flattens them, as plain numbers. */
function runTessera(model: Module, inputs: readonly Tensor[], forward?: (...inputs: Tensor[]) => unknown): { shape: number[]; values: number[] }[] {
  const training = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(() =>
      scope(() => {
        const out = forward ? forward(...inputs) : (model as unknown as { forward(...x: Tensor[]): unknown }).forward(...inputs);
        const flat: Tensor[] = [];
        const walk = (r: unknown) => (r instanceof Tensor ? flat.push(r) : Array.isArray(r) ? r.forEach(walk) : undefined);
        walk(out);
        return flat.map((t) => ({ shape: t.shape, values: Array.from(t.data() as ArrayLike<number | bigint>, Number) }));
      }),
    );
  } finally {
    for (const [m, mode] of training) m.training = mode;
  }
}

function toOrt(ort: Ort, t: Tensor): OrtTensor {
  const types: Partial<Record<Tensor['dtype'], OrtTensor.Type>> = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool' };
  const type = types[t.dtype];
  if (!type) throw new TypeError(`ONNX Runtime input: ${t.dtype} tensors are not supported here`);
  return new ort.Tensor(type, t.data() as OrtTensor.DataType, t.shape);
}
