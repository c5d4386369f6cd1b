// ONNX export of any Module whose forward is built from Tessera ops:
//
//     const { bytes } = exportOnnx(model, randn([1, 3, 32, 32]), { classes, preprocessing });
//     saveOnnx('model.onnx', model, example, options);      // the same, written atomically
//
// The forward is traced once on the example (trace.ts), batch norm folded into the convolutions
// (optimize.ts), and the graph written as a ModelProto (proto.ts) whose metadata carries what a
// reader needs to use it without the training code: class names, the input layout and the
// eval-time preprocessing.
import { writeFileAtomic } from '../io/atomic.js';
import type { Module } from '../nn/module.js';
import { packageVersion } from '../runtime/info.js';
import { Tensor } from '../tensor/tensor.js';
import type { Value } from './graph.js';
import { foldBatchNorm, removeUnused } from './optimize.js';
import { serializeModel } from './proto.js';
import { traceModule } from './trace.js';

/** The opsets the mappings are written for: 13 (Split/Squeeze/ReduceSum take inputs) to 17 (LayerNormalization). */
export const MIN_OPSET = 13;
export const MAX_OPSET = 17;

export interface OnnxExportOptions {
  /** ONNX opset, MIN_OPSET to MAX_OPSET (default 17, the newest PyTorch 1.13 and python3-onnx 1.12 know). */
  opset?: number;
  /** Graph input names (default `input`, or `input_0`, `input_1`, … for several). */
  inputNames?: readonly string[];
  /** Graph output names (default `output`, or `output_0`, `output_1`, … for several). */
  outputNames?: readonly string[];
  /** The axis of every input that is its batch, exported as the symbolic dimension `batch` (default 0); null fixes every shape. */
  batchAxis?: number | null;
  /** Fold each BatchNormalization into the Conv it follows (default true). */
  foldBatchNorm?: boolean;
  /** Class names, in output order (metadata `classes`, a JSON array). */
  classes?: readonly string[];
  /** The input's layout, e.g. 'NCHW' (metadata `input_layout`). */
  inputLayout?: string;
  /** Eval-time preprocessing as a JSON object (metadata `preprocessing`). */
  preprocessing?: Readonly<Record<string, unknown>>;
  /** More metadata_props; the keys above win. */
  metadata?: Readonly<Record<string, string>>;
  /**
   * The function traced instead of `model.forward` (its results are the graph's outputs): for a
   * classifier trained with flips, the inference pass's `inferenceForward(model, { flip: true })`,
   * so the graph averages each image's logits with its mirror image's as eval does.
   */
  forward?: (...inputs: Tensor[]) => unknown;
  /** The graph's name (default: the model's class name). */
  graphName?: string;
  docString?: string;
}

export interface OnnxExport {
  /** The ModelProto, serialised. */
  bytes: Uint8Array;
  opset: number;
  inputs: Value[];
  outputs: Value[];
  /** BatchNormalization nodes folded into convolutions. */
  foldedBatchNorms: number;
  metadata: Record<string, string>;
}

/** Traces `model.forward(...examples)` (or `options.forward`) in eval mode and returns the ONNX model. The model's mode is restored. */
export function exportOnnx(model: Module, example: Tensor | readonly Tensor[], options: OnnxExportOptions = {}): OnnxExport {
  const inputs = example instanceof Tensor ? [example] : [...example];
  const opset = options.opset ?? MAX_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new RangeError(`opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  if (inputs.length === 0 || !inputs.every((t) => t instanceof Tensor)) throw new TypeError('exportOnnx: the example input must be a Tensor or a non-empty array of Tensors');
  const inputNames = options.inputNames ?? (inputs.length === 1 ? ['input'] : inputs.map((_, i) => `input_${i}`));
  if (inputNames.length !== inputs.length) throw new RangeError(`inputNames has ${inputNames.length} names for ${inputs.length} example inputs`);
  const batchAxis = options.batchAxis === undefined ? 0 : options.batchAxis;
  if (batchAxis !== null && !(Number.isInteger(batchAxis) && batchAxis >= 0)) throw new RangeError(`batchAxis must be a non-negative integer or null, got ${batchAxis}`);

  const { graph, outputs } = traceModule(model, inputs, { opset, inputNames, batchAxis, ...(options.forward ? { forward: options.forward } : {}) });
  const outputNames = options.outputNames ?? (outputs.length === 1 ? ['output'] : outputs.map((_, i) => `output_${i}`));
  if (outputNames.length !== outputs.length) throw new RangeError(`outputNames has ${outputNames.length} names for the forward's ${outputs.length} outputs`);
  outputs.forEach((v, i) => graph.outputs.push(nameOutput(graph, v, outputNames[i] as string)));
  const foldedBatchNorms = options.foldBatchNorm === false ? 0 : foldBatchNorm(graph);
  removeUnused(graph);

  const metadata: Record<string, string> = { ...options.metadata };
  if (options.classes) metadata.classes = JSON.stringify(options.classes);
  if (options.inputLayout) metadata.input_layout = options.inputLayout;
  if (options.preprocessing) metadata.preprocessing = JSON.stringify(options.preprocessing);
  const bytes = serializeModel(graph, {
    opset,
    producerVersion: packageVersion(),
    graphName: options.graphName ?? model.constructor.name,
    metadata,
    ...(options.docString ? { docString: options.docString } : {}),
  });
  return { bytes, opset, inputs: graph.inputs, outputs: graph.outputs, foldedBatchNorms, metadata };
}

/** exportOnnx, then the file written atomically (a reader sees the old file or the whole new one). */
export function saveOnnx(path: string, model: Module, example: Tensor | readonly Tensor[], options: OnnxExportOptions = {}): OnnxExport {
  const result = exportOnnx(model, example, options);
  writeFileAtomic(path, [result.bytes]);
  return result;
}

/**
 * Gives a forward result its output name. A value that is also an input, an initializer or an
 * earlier output (the forward returned its input, a constant, or one tensor twice) is copied by an
 * Identity node first, since one name cannot be two things in ONNX.
 */
function nameOutput(graph: ReturnType<typeof traceModule>['graph'], v: Value, wanted: string): Value {
  const produced = graph.nodes.some((n) => n.outputs.includes(v.name));
  const taken = graph.outputs.some((o) => o.name === v.name);
  let from = v.name;
  if (!produced || taken) from = graph.addNode('Identity', [v.name], {}, 1, '').outputs[0] as string;
  const name = graph.uniqueName(wanted);
  graph.rename(from, name);
  return { ...v, name };
}
