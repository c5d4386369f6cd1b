// Static int8 quantization of an fp32 ONNX model in QDQ form: QuantizeLinear → DequantizeLinear
// pairs around the tensors that can run in 8 bits, placed as ONNX Runtime's own quantizer places
// them (onnxruntime/python/tools/quantization/qdq_quantizer.py, per-channel, MinMax or Percentile
// calibration), so ORT's graph optimizer recognises every DQ → op → Q group and runs it as one
// integer kernel (QLinearConv, QGemm, QLinearMatMul, QLinearAdd, QLinearGlobalAveragePool; MaxPool
// and Reshape run on the uint8 values directly). The file stays a standard ONNX model: any runtime
// that does not fuse still runs it, as float ops on dequantized values.
//
// Placement, per op (the arithmetic is in quantize-math.ts):
//   Conv, Gemm, MatMul with a constant weight: the activation input and the output get a Q/DQ
//     pair; the weight is stored as int8 codes (per output channel) behind a DequantizeLinear, the
//     bias as int32 behind one;
//   Relu, and Clip from 0 (ReLU6), right after such an op (or an Add): removed, the op's output
//     taking the activation's calibrated range: uint8 with zero point 0 at the range's floor does
//     the clamping;
//   Add, Concat, GlobalAveragePool of activations: inputs and output with their own ranges;
//   MaxPool, AveragePool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze: the output shares the
//     input's scale and zero point, so ORT drops the pair and works on the codes;
//   graph outputs stay float (the logits keep their resolution: QGemm writes float directly), and
//     so does what reaches them only through arithmetic (the test-time flip's mean of two logits).
// Ops not listed are left in float; their inputs arrive dequantized where a neighbour quantized them.
// Which groups ORT really fuses is for ORT to say: quantize-measure.ts reads its optimized graph.
import { clone, create, fromBinary, toBinary } from '@bufbuild/protobuf';

import {
  AttributeProto_AttributeType as AttrType,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataType as DataType,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './generated/onnx_pb.js';
import { calibrate, type CalibrationOptions, type InputBatch } from './calibrate.js';
import { activationParams, quantizeBias, quantizeWeightPerChannel, weightCodes, type QuantizedWeight, type QuantParams, type Range } from './quantize-math.js';

const REMOVABLE = new Set(['Relu', 'Clip']);
const OWN_RANGE = new Set(['Add', 'Concat', 'GlobalAveragePool']);
const SAME_AS_INPUT = new Set(['MaxPool', 'AveragePool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);
/** Ops whose outputs are not float whatever their inputs. */
const NOT_FLOAT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

export interface QuantizationSummary {
  /** Weights stored as int8, by the op type that uses them (one that several nodes share counts once). */
  weighted: Record<string, number>;
  /** Activation tensors given a Q/DQ pair. */
  activations: number;
  /** Relu/Clip nodes folded into the range of the op before them. */
  removedActivations: number;
}

interface Plan {
  /** The graph's nodes, copied, with the removable activations gone. */
  nodes: NodeProto[];
  /** Node → the axis of its weight's output channels. */
  weighted: Map<NodeProto, number>;
  /** Activation tensors that get a Q/DQ pair, in graph order. */
  activations: string[];
  /** Tensors that take the quantization of another (an op's output → its input). */
  sameAs: Map<string, string>;
  removed: number;
}

/**
 * An fp32 ONNX model (one float input) → the int8 QDQ model: calibrated on `batches` (inputs as the
 * model takes them) in ONNX Runtime, then quantized; `metadata` is added to the file's metadata_props.
 */
export async function quantizeOnnx(
  onnx: Uint8Array,
  batches: readonly InputBatch[],
  options: CalibrationOptions & { metadata?: Readonly<Record<string, string>> } = {},
): Promise<{ bytes: Uint8Array; summary: QuantizationSummary; ranges: Map<string, Range> }> {
  const fp32 = fromBinary(ModelProtoSchema, onnx);
  const ranges = await calibrate(fp32, calibrationTensors(fp32), batches, options);
  const { model, summary } = quantizeModel(fp32, ranges);
  for (const [key, value] of Object.entries(options.metadata ?? {})) model.metadataProps.push(create(StringStringEntryProtoSchema, { key, value }));
  return { bytes: toBinary(ModelProtoSchema, model), summary, ranges };
}

/** The activation tensors whose ranges quantizeModel needs: calibrate these (by name, in the fp32 model). */
export function calibrationTensors(model: ModelProto): string[] {
  const p = plan(model);
  return p.activations.filter((t) => !p.sameAs.has(t));
}

/** The QDQ model for the given ranges (calibrationTensors names them); `model` is not changed. */
export function quantizeModel(model: ModelProto, ranges: ReadonlyMap<string, Range>): { model: ModelProto; summary: QuantizationSummary } {
  const p = plan(model);
  const out = clone(ModelProtoSchema, model);
  const g = out.graph;
  if (!g) throw new Error('the ONNX model has no graph');
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const used = new Set([...inits.keys(), ...g.input.map((v) => v.name), ...p.nodes.flatMap((n) => [...n.input, ...n.output])]);
  const unique = (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const newInits: TensorProto[] = [];
  const addInit = (base: string, dataType: DataType, dims: readonly number[], bytes: Uint8Array) => {
    const name = unique(base);
    newInits.push(create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: bytes }));
    return name;
  };
  const dqNode = (x: string, scale: string, zp: string, outBase: string, axis?: number) =>
    create(NodeProtoSchema, {
      opType: 'DequantizeLinear',
      name: unique(`${outBase}_DequantizeLinear`),
      input: [x, scale, zp],
      output: [unique(`${outBase}_DequantizeLinear_Output`)],
      ...(axis === undefined ? {} : { attribute: [{ name: 'axis', type: AttrType.INT, i: BigInt(axis) }] }),
    });

  // Activations: one pair per tensor, shared by all its consumers.
  const params = new Map<string, QuantParams>();
  const paramsOf = (t: string): QuantParams => {
    const known = params.get(t);
    if (known) return known;
    const from = p.sameAs.get(t);
    let q: QuantParams;
    if (from !== undefined) q = paramsOf(from);
    else {
      const r = ranges.get(t);
      if (!r) throw new Error(`no calibrated range for tensor '${t}' (calibrate every tensor calibrationTensors() names)`);
      q = activationParams(r);
    }
    params.set(t, q);
    return q;
  };
  const dequantized = new Map<string, string>();
  const pairs = new Map<string, NodeProto[]>();
  for (const t of p.activations) {
    const q = paramsOf(t);
    const scale = addInit(`${t}_scale`, DataType.FLOAT, [], bytes(Float32Array.of(q.scale)));
    const zp = addInit(`${t}_zero_point`, DataType.UINT8, [], Uint8Array.of(q.zeroPoint));
    const qOut = unique(`${t}_QuantizeLinear_Output`);
    const quant = create(NodeProtoSchema, { opType: 'QuantizeLinear', name: unique(`${t}_QuantizeLinear`), input: [t, scale, zp], output: [qOut] });
    const deq = dqNode(qOut, scale, zp, t);
    pairs.set(t, [quant, deq]);
    dequantized.set(t, deq.output[0] as string);
  }

  // Weights and biases: stored as codes behind a DequantizeLinear. A weight several nodes use (the
  // model run twice, for the test-time flip) is stored once, unless a bias made its scales differ.
  const prologue: NodeProto[] = [];
  const weighted: Record<string, number> = {};
  const storedWeights = new Map<string, { codes: QuantizedWeight; output: string }[]>();
  for (const [node, axis] of p.weighted) {
    const w = inits.get(node.input[1] as string) as TensorProto;
    const shape = w.dims.map(Number);
    let qw = quantizeWeightPerChannel(floatsOf(w), shape, axis);
    const biasName = node.opType === 'MatMul' ? '' : (node.input[2] ?? '');
    if (biasName) {
      const qb = quantizeBias(floatsOf(inits.get(biasName) as TensorProto), paramsOf(node.input[0] as string).scale, qw.scales);
      if (qb.weightScales.some((s, c) => s !== qw.scales[c])) qw = weightCodes(floatsOf(w), shape, axis, qb.weightScales);
      const channels = qb.values.length;
      const b = dqNode(
        addInit(`${biasName}_quantized`, DataType.INT32, [channels], bytes(qb.values)),
        addInit(`${biasName}_quantized_scale`, DataType.FLOAT, [channels], bytes(qb.scales)),
        addInit(`${biasName}_quantized_zero_point`, DataType.INT32, [channels], bytes(new Int32Array(channels))),
        biasName,
        0,
      );
      prologue.push(b);
      node.input[2] = b.output[0] as string;
    }
    const same = storedWeights.get(w.name)?.find((s) => sameCodes(s.codes, qw));
    if (same) {
      node.input[1] = same.output;
      continue;
    }
    weighted[node.opType] = (weighted[node.opType] ?? 0) + 1;
    const channels = qw.scales.length;
    const dq = dqNode(
      addInit(`${w.name}_quantized`, DataType.INT8, shape, bytes(qw.values)),
      addInit(`${w.name}_scale`, DataType.FLOAT, [channels], bytes(qw.scales)),
      addInit(`${w.name}_zero_point`, DataType.INT8, [channels], new Uint8Array(channels)),
      w.name,
      axis,
    );
    prologue.push(dq);
    node.input[1] = dq.output[0] as string;
    storedWeights.set(w.name, [...(storedWeights.get(w.name) ?? []), { codes: qw, output: node.input[1] }]);
  }

  // Nodes in order, each quantized output's pair right after its producer; every use reads the DQ output.
  const nodes: NodeProto[] = [...prologue];
  for (const v of g.input) nodes.push(...(pairs.get(v.name) ?? []));
  for (const n of p.nodes) {
    n.input = n.input.map((x) => dequantized.get(x) ?? x);
    nodes.push(n);
    for (const o of n.output) nodes.push(...(pairs.get(o) ?? []));
  }
  g.node = nodes;
  const live = new Set(nodes.flatMap((n) => n.input));
  g.initializer = [...g.initializer.filter((t) => live.has(t.name)), ...newInits];

  return { model: out, summary: { weighted, activations: p.activations.length, removedActivations: p.removed } };
}

function sameCodes(a: QuantizedWeight, b: QuantizedWeight): boolean {
  return a.axis === b.axis && a.scales.every((s, i) => s === b.scales[i]) && a.values.every((v, i) => v === b.values[i]);
}

/** Decides what is quantized (see the header) on a copy of the graph's nodes. */
function plan(model: ModelProto): Plan {
  const g = model.graph;
  if (!g) throw new Error('the ONNX model has no graph');
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  let nodes = g.node.map((n) => clone(NodeProtoSchema, n));
  const staysFloat = outputTail(g.output.map((o) => o.name), nodes);
  const floats = floatTensors(model, nodes, inits);

  const weighted = new Map<NodeProto, number>();
  for (const n of nodes) {
    const axis = weightAxis(n, inits);
    if (axis !== null && floats.has(n.input[0] as string)) weighted.set(n, axis);
  }
  const dynamicInputs = (n: NodeProto) => n.input.filter((x) => x !== '' && !inits.has(x));
  const ownRange = (n: NodeProto) => OWN_RANGE.has(n.opType) && dynamicInputs(n).length === n.input.length && n.input.every((x) => floats.has(x));

  // Relu/Clip(0, ·) after an op whose output is quantized anyway: the op takes the activation's output name (and so its range).
  const uses = new Map<string, number>();
  for (const n of nodes) for (const x of n.input) uses.set(x, (uses.get(x) ?? 0) + 1);
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) producer.set(o, n);
  const removed = new Set<NodeProto>();
  for (const n of nodes) {
    if (!REMOVABLE.has(n.opType) || (n.opType === 'Clip' && !clipsAtZero(n, inits))) continue;
    const [x] = n.input as [string];
    const [y] = n.output as [string];
    const up = producer.get(x);
    if (!up || !(weighted.has(up) || ownRange(up)) || uses.get(x) !== 1 || staysFloat.has(x) || staysFloat.has(y)) continue;
    up.output = up.output.map((o) => (o === x ? y : o));
    removed.add(n);
  }
  nodes = nodes.filter((n) => !removed.has(n));

  const activations: string[] = [];
  const seen = new Set<string>();
  const sameAs = new Map<string, string>();
  const add = (t: string) => {
    if (t === '' || inits.has(t) || staysFloat.has(t) || !floats.has(t)) return false;
    if (!seen.has(t)) activations.push(t);
    seen.add(t);
    return true;
  };
  for (const n of nodes) {
    if (weighted.has(n)) {
      if (!add(n.input[0] as string)) weighted.delete(n); // an input that stays float (a graph output too): the node stays float
      else add(n.output[0] as string);
    } else if (ownRange(n)) {
      n.input.forEach(add);
      add(n.output[0] as string);
    } else if (SAME_AS_INPUT.has(n.opType) && add(n.input[0] as string) && add(n.output[0] as string)) {
      sameAs.set(n.output[0] as string, n.input[0] as string);
    }
  }
  return { nodes, weighted, activations, sameAs, removed: removed.size };
}

/** Ops that combine outputs into an output without reason to round them to 8 bits. */
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** The graph outputs and every tensor used only by arithmetic (ARITHMETIC) whose results are in this set. */
function outputTail(outputs: readonly string[], nodes: readonly NodeProto[]): Set<string> {
  const tail = new Set(outputs);
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const x of n.input) consumers.set(x, [...(consumers.get(x) ?? []), n]);
  // Nodes are in topological order: walking back, a tensor's consumers are decided before it is.
  for (let i = nodes.length - 1; i >= 0; i--)
    for (const o of (nodes[i] as NodeProto).output) {
      const users = consumers.get(o) ?? [];
      if (users.length > 0 && users.every((u) => ARITHMETIC.has(u.opType) && u.output.every((y) => tail.has(y)))) tail.add(o);
    }
  return tail;
}

/** The output-channel axis of a node's constant float weight, or null when it has none ORT would quantize. */
function weightAxis(n: NodeProto, inits: Map<string, TensorProto>): number | null {
  const w = inits.get(n.input[1] ?? '');
  if (!w || w.dataType !== DataType.FLOAT) return null;
  const rank = w.dims.length;
  const biasOk = (channels: number) => {
    const b = n.input[2];
    if (!b) return true;
    const t = inits.get(b);
    return t !== undefined && t.dataType === DataType.FLOAT && t.dims.length === 1 && Number(t.dims[0]) === channels;
  };
  switch (n.opType) {
    case 'Conv':
      return rank >= 3 && biasOk(Number(w.dims[0])) ? 0 : null;
    case 'Gemm': {
      if (rank !== 2 || intAttr(n, 'transA', 0) !== 0 || floatAttr(n, 'alpha', 1) !== 1 || floatAttr(n, 'beta', 1) !== 1) return null;
      const axis = intAttr(n, 'transB', 0) === 1 ? 0 : 1;
      return biasOk(Number(w.dims[axis])) ? axis : null;
    }
    case 'MatMul':
      return rank === 2 ? 1 : null;
    default:
      return null;
  }
}

/** Float-valued tensors: graph inputs of type float, and what ops compute from floats (not shapes or comparisons). */
function floatTensors(model: ModelProto, nodes: readonly NodeProto[], inits: Map<string, TensorProto>): Set<string> {
  const g = model.graph as NonNullable<ModelProto['graph']>;
  const floats = new Set<string>();
  for (const v of g.input) if (v.type?.value.case === 'tensorType' && v.type.value.value.elemType === DataType.FLOAT) floats.add(v.name);
  for (const t of inits.values()) if (t.dataType === DataType.FLOAT) floats.add(t.name);
  for (const n of nodes) {
    const isFloat = n.opType === 'Cast' ? intAttr(n, 'to', 0) === DataType.FLOAT : !NOT_FLOAT.has(n.opType) && n.input.some((x) => floats.has(x));
    if (isFloat) for (const o of n.output) floats.add(o);
  }
  return floats;
}

/** Clip whose lower bound is a constant 0 (ReLU, ReLU6): quantizing from a range floored at 0 clamps the same way. */
function clipsAtZero(n: NodeProto, inits: Map<string, TensorProto>): boolean {
  const lo = inits.get(n.input[1] ?? '');
  return lo !== undefined && lo.dataType === DataType.FLOAT && floatsOf(lo).length === 1 && floatsOf(lo)[0] === 0;
}

function intAttr(n: NodeProto, name: string, def: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : def;
}

function floatAttr(n: NodeProto, name: string, def: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a ? a.f : def;
}

/** A float32 initializer's values (raw_data or float_data). */
export function floatsOf(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new TypeError(`initializer ${t.name} is not float32`);
  if (t.rawData.byteLength > 0) return new Float32Array(t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength));
  return Float32Array.from(t.floatData);
}

function bytes(a: Float32Array | Int32Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
