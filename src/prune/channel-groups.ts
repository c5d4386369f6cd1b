// Which channels can be removed together, found by tracing the model (the ONNX exporter's trace,
// src/export/trace.ts) rather than by knowing its classes: every value of the forward carries a
// "channel space", and the ops say how spaces relate —
//   Conv / Gemm (a Linear)  make a new space (their output channels: weight rows, bias) and read
//                           their input's (weight columns; after a flatten, a block of H·W columns
//                           per channel);
//   BatchNormalization      reads its input's space per channel (γ, β, μ, σ²) and passes it on;
//   ReLU, pooling, dropout… pass the space on unchanged;
//   Add / Mul of two values one space: a residual connection ties the channels of every branch
//                           that meets there (the whole residual stream of a ResNet stage is one
//                           group: its stem or projection conv and every block's last conv);
//   a depthwise Conv        keeps its input's space (one filter per channel);
//   anything else           (Concat, a reshape that mixes channels, a grouped conv, the model's
//                           input and output, a weight the forward transforms) pins the spaces it
//                           touches: they are kept whole, and the reason is kept with them.
// Spaces are joined with union–find; each resulting group lists every state-dict tensor that has
// a slice per channel, so removing channel c of a group removes those slices and nothing else.
import { traceModule } from '../export/trace.js';
import type { Graph, Node } from '../export/graph.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** A state-dict tensor with one slice per channel: along `dim`, `block` consecutive indices per channel. */
export interface ChannelSlice {
  key: string;
  dim: number;
  block: number;
}

/** A layer whose output channels a group consists of: scored by its weights (and the batch norm after it). */
export interface Producer {
  /** The weight's state-dict key, e.g. `layer1.0.conv2.weight`. */
  weight: string;
  /** The axis of its output channels. */
  dim: number;
  /** The batch norm right after it: its γ and σ² keys and ε (its output is γ/√(σ²+ε) times the conv's). */
  norm?: { weight: string; runningVar: string; eps: number };
}

export interface ChannelGroup {
  size: number;
  producers: Producer[];
  slices: ChannelSlice[];
  /** Why the group must stay whole, or null when its channels can be removed. */
  pinned: string | null;
}

const PASS = new Set(['Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Identity', 'Dropout', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Resize']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

interface Tracked {
  space: number;
  /** Features per channel of a flattened (B, C·H·W) value; 1 for (B, C, …). */
  block: number;
}

/** Union–find over channel spaces, each with its size, slices, producers and first pin reason. */
class Spaces {
  readonly parent: number[] = [];
  readonly sizes: number[] = [];
  readonly slices: ChannelSlice[][] = [];
  readonly producers: Producer[][] = [];
  readonly pins: (string | null)[] = [];

  create(size: number): number {
    const id = this.parent.length;
    this.parent.push(id);
    this.sizes.push(size);
    this.slices.push([]);
    this.producers.push([]);
    this.pins.push(null);
    return id;
  }

  find(a: number): number {
    while (this.parent[a] !== a) a = this.parent[a] = this.parent[this.parent[a] as number] as number;
    return a;
  }

  union(a: number, b: number, where: string): number {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra === rb) return ra;
    this.parent[rb] = ra;
    (this.slices[ra] as ChannelSlice[]).push(...(this.slices[rb] as ChannelSlice[]));
    (this.producers[ra] as Producer[]).push(...(this.producers[rb] as Producer[]));
    if (this.sizes[ra] !== this.sizes[rb]) this.pin(ra, `${where} joins ${this.sizes[ra]} and ${this.sizes[rb]} channels`);
    this.pins[ra] ??= this.pins[rb] as string | null;
    return ra;
  }

  pin(a: number, why: string): void {
    const r = this.find(a);
    this.pins[r] ??= why;
  }

  slice(a: number, s: ChannelSlice): void {
    (this.slices[this.find(a)] as ChannelSlice[]).push(s);
  }
}

/** The channel groups of `model` traced on `example` (a batch of one input, e.g. zeros (1, C, H, W)). */
export function channelGroups(model: Module, example: Tensor): ChannelGroup[] {
  const { graph, outputs } = traceModule(model, [example], { opset: 17, inputNames: ['input'], batchAxis: 0 });
  const keys = new Set(model.stateDict().keys());
  const spaces = new Spaces();
  const tracked = new Map<string, Tracked>();
  const isKey = (name: string | undefined) => name !== undefined && name !== '' && keys.has(name);
  const shape = (name: string) => graph.initializers.get(name)?.shape ?? graph.shapes.get(name);
  const where = (n: Node) => {
    const scope = n.name.split('/').slice(1, -1).join('/'); // '/layer1.0/Add' → 'layer1.0'
    return `${n.opType} in ${scope ? `'${scope}'` : "the model's forward"}`;
  };

  // A weight used by two nodes (a module called twice) would need the same cut at both places: keep such layers whole.
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const x of n.inputs) if (isKey(x)) uses.set(x, (uses.get(x) ?? 0) + 1);
  const shared = (n: Node) => n.inputs.some((x) => isKey(x) && (uses.get(x) as number) > 1);

  for (const v of graph.inputs) {
    const s = spaces.create(v.shape[1] ?? 1);
    spaces.pin(s, "the model's input");
    tracked.set(v.name, { space: s, block: 1 });
  }
  const pinInputs = (n: Node, why: string) => {
    for (const x of n.inputs) {
      const t = tracked.get(x);
      if (t) spaces.pin(t.space, why);
    }
  };
  const produce = (n: Node, size: number, weight: string, dim: number, bias: string | undefined, whole: string | null) => {
    const s = spaces.create(size);
    spaces.slice(s, { key: weight, dim, block: 1 });
    (spaces.producers[s] as Producer[]).push({ weight, dim });
    if (bias) spaces.slice(s, { key: bias, dim: 0, block: 1 });
    if (whole) spaces.pin(s, whole);
    tracked.set(n.outputs[0] as string, { space: s, block: 1 });
  };

  for (const n of graph.nodes) {
    const [x, w, b] = n.inputs;
    const input = x === undefined ? undefined : tracked.get(x);
    if (n.opType === 'Conv' && isKey(w) && (!b || isKey(b)) && !shared(n)) {
      const [cout, cinPerGroup] = shape(w as string) as [number, number];
      const groups = n.attrs.group?.type === 'int' ? n.attrs.group.value : 1;
      if (groups === 1) {
        if (input) spaces.slice(input.space, { key: w as string, dim: 1, block: 1 });
        produce(n, cout, w as string, 0, b, input && input.block !== 1 ? `${where(n)} reads a flattened input` : null);
      } else if (cinPerGroup === 1 && groups === cout && input) {
        // depthwise: filter c reads channel c and writes channel c
        spaces.slice(input.space, { key: w as string, dim: 0, block: 1 });
        if (b) spaces.slice(input.space, { key: b, dim: 0, block: 1 });
        tracked.set(n.outputs[0] as string, input);
      } else {
        pinInputs(n, `${where(n)} is a grouped convolution`);
        produce(n, cout, w as string, 0, b, `${where(n)} is a grouped convolution`);
      }
    } else if (n.opType === 'Gemm' && isKey(w) && (!b || isKey(b)) && !shared(n) && n.attrs.transA?.value !== 1 && attrIsOne(n, 'alpha') && attrIsOne(n, 'beta')) {
      const transB = n.attrs.transB?.value === 1;
      const [rows, cols] = shape(w as string) as [number, number];
      const [out, inFeatures] = transB ? [rows, cols] : [cols, rows];
      if (input && spaces.sizes[spaces.find(input.space)]! * input.block === inFeatures) spaces.slice(input.space, { key: w as string, dim: transB ? 1 : 0, block: input.block });
      else if (input) spaces.pin(input.space, `${where(n)} reads its input in another layout`);
      const biasOk = !b || (shape(b)?.length === 1 && shape(b)?.[0] === out);
      produce(n, out, w as string, transB ? 0 : 1, biasOk ? b : undefined, biasOk ? null : `${where(n)} has a bias that is not per output`);
    } else if (n.opType === 'BatchNormalization' && input && input.block === 1) {
      const params = n.inputs.slice(1);
      if (params.every(isKey) && !shared(n)) {
        for (const p of params) spaces.slice(input.space, { key: p, dim: 0, block: 1 });
        const up = graph.nodes.find((m) => m.outputs.includes(x as string));
        const producer = up ? (spaces.producers[spaces.find(input.space)] as Producer[]).find((p) => p.weight === up.inputs[1]) : undefined;
        if (producer) producer.norm = { weight: params[0] as string, runningVar: params[3] as string, eps: n.attrs.epsilon?.type === 'float' ? n.attrs.epsilon.value : 1e-5 };
      } else spaces.pin(input.space, `${where(n)} has per-channel constants that are not weights`);
      tracked.set(n.outputs[0] as string, input);
    } else if (PASS.has(n.opType) && input) {
      tracked.set(n.outputs[0] as string, input);
    } else if (BINARY.has(n.opType)) {
      binary(n, graph, spaces, tracked, where(n));
    } else if ((n.opType === 'Reshape' || n.opType === 'Flatten') && input && input.block === 1) {
      const [inShape, outShape] = [shape(x as string), shape(n.outputs[0] as string)];
      const channels = inShape?.[1];
      const rest = inShape?.slice(2).reduce((a, v) => a * v, 1) ?? 0;
      if (inShape && outShape && outShape.length === 2 && inShape.length >= 2 && outShape[1] === (channels as number) * rest) tracked.set(n.outputs[0] as string, { space: input.space, block: rest });
      else spaces.pin(input.space, `${where(n)} rearranges channels`);
    } else {
      pinInputs(n, `${where(n)} reads the channels`);
    }
  }
  for (const o of outputs) {
    const t = tracked.get(o.name);
    if (t) spaces.pin(t.space, "the model's output");
  }

  const groups: ChannelGroup[] = [];
  spaces.parent.forEach((_, i) => {
    if (spaces.find(i) !== i || (spaces.slices[i] as ChannelSlice[]).length === 0) return;
    groups.push({ size: spaces.sizes[i] as number, producers: spaces.producers[i] as Producer[], slices: spaces.slices[i] as ChannelSlice[], pinned: spaces.pins[i] as string | null });
  });
  return groups;
}

function attrIsOne(n: Node, name: string): boolean {
  const a = n.attrs[name];
  return a === undefined || (a.type === 'float' && a.value === 1);
}

/** Add/Sub/Mul/Div: two values of one channel count tie their spaces; a scalar constant passes the space on. */
function binary(n: Node, graph: Graph, spaces: Spaces, tracked: Map<string, Tracked>, where: string): void {
  const [a, b] = n.inputs as [string, string];
  const [ta, tb] = [tracked.get(a), tracked.get(b)];
  const constant = (name: string) => graph.initializers.get(name);
  const scalar = (name: string) => (constant(name)?.shape.reduce((p, d) => p * d, 1) ?? 0) === 1;
  const out = n.outputs[0] as string;
  if (ta && tb) {
    const [sa, sb] = [graph.shapes.get(a), graph.shapes.get(b)];
    if (ta.block === tb.block && sa && sb && sa.length === sb.length && sa[1] === sb[1]) tracked.set(out, { space: spaces.union(ta.space, tb.space, where), block: ta.block });
    else {
      spaces.pin(ta.space, `${where} combines differently shaped channels`);
      spaces.pin(tb.space, `${where} combines differently shaped channels`);
    }
  } else if (ta && scalar(b)) tracked.set(out, ta);
  else if (tb && scalar(a)) tracked.set(out, tb);
  else for (const t of [ta, tb]) if (t) spaces.pin(t.space, `${where} combines the channels with a tensor that is not a weight`);
}
