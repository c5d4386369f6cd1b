// Passes over the traced graph before it is written: batch norm folded into the convolution it
// follows (inference only: the statistics are constants), then everything the outputs do not need
// dropped (results the forward computed and threw away, weights only the folded nodes used).
import { bytesOf, decode, type Graph, type Node } from './graph.js';

/**
 * Conv (or ConvTranspose) → BatchNormalization, where the convolution's output feeds nothing else
 * and every weight is a constant, becomes one convolution:  s = γ/√(σ²+ε),  W' = W·s (per output
 * channel),  b' = (b − μ)·s + β. Pairs that share their constants (a forward that runs the model
 * twice, as the test-time flip does) share the folded ones, so the file holds each weight once.
 * Returns how many were folded.
 */
export function foldBatchNorm(graph: Graph): number {
  const uses = useCounts(graph);
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const removed = new Set<Node>();
  /** The folded weight and bias, by the constants they were made from. */
  const done = new Map<string, [string, string]>();
  for (const bn of graph.nodes) {
    if (bn.opType !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0] as string);
    if (!conv || (conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose') || uses.get(conv.outputs[0] as string) !== 1) continue;
    const [, wName, bName] = conv.inputs;
    const w = graph.initializers.get(wName as string);
    const b = bName ? graph.initializers.get(bName) : undefined;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => graph.initializers.get(n));
    if (!w || (bName && !b) || !gamma || !beta || !mean || !variance || w.dtype !== 'float32') continue;
    const eps = bn.attrs.epsilon?.type === 'float' ? bn.attrs.epsilon.value : 1e-5;
    const key = [conv.opType, conv.attrs.group?.value ?? 1, wName, bName ?? '', ...bn.inputs.slice(1), eps].join('\u0000');
    const known = done.get(key);
    if (known) {
      conv.inputs = [conv.inputs[0] as string, ...known];
      conv.outputs = [bn.outputs[0] as string];
      removed.add(bn);
      continue;
    }
    const [g, be, mu, v] = [gamma, beta, mean, variance].map(decode) as [Float64Array, Float64Array, Float64Array, Float64Array];
    const scale = g.map((x, i) => x / Math.sqrt((v[i] as number) + eps));
    const weights = decode(w);
    const outChannel = conv.opType === 'Conv' ? convOutChannel(weights.length, scale.length) : transposedOutChannel(w.shape, conv);
    const folded = weights.map((x, i) => x * (scale[outChannel(i)] as number));
    const convBias = b ? decode(b) : new Float64Array(scale.length);
    const bias = scale.map((s, o) => ((convBias[o] as number) - (mu[o] as number)) * s + (be[o] as number));
    const wFolded = graph.addInitializer(`${w.name}.fused_bn`, 'float32', w.shape, bytesOf(Float32Array.from(folded)));
    const bFolded = graph.addInitializer(`${b ? b.name : w.name.replace(/weight$/, 'bias')}.fused_bn`, 'float32', [scale.length], bytesOf(Float32Array.from(bias)));
    done.set(key, [wFolded, bFolded]);
    conv.inputs = [conv.inputs[0] as string, wFolded, bFolded];
    conv.outputs = [bn.outputs[0] as string];
    removed.add(bn);
  }
  const kept = graph.nodes.filter((n) => !removed.has(n));
  graph.nodes.splice(0, graph.nodes.length, ...kept);
  return removed.size;
}

/** Conv weights are (C_out, C_in/groups, kH, kW): element i belongs to output channel ⌊i / (C_in/groups·kH·kW)⌋. */
function convOutChannel(length: number, outChannels: number): (i: number) => number {
  const perChannel = length / outChannels;
  return (i) => Math.floor(i / perChannel);
}

/**
 * ConvTranspose weights are (C_in, C_out/groups, kH, kW): element i sits in row r = ⌊i / (C_out/g·kH·kW)⌋
 * and column j = ⌊i / (kH·kW)⌋ mod C_out/g, and feeds output channel (r's group)·C_out/g + j.
 */
function transposedOutChannel(shape: readonly number[], conv: Node): (i: number) => number {
  const groups = conv.attrs.group?.type === 'int' ? Number(conv.attrs.group.value) : 1;
  const [inChannels, outPerGroup] = shape as [number, number];
  const kernel = shape.slice(2).reduce((a, b) => a * b, 1);
  const inPerGroup = inChannels / groups;
  return (i) => {
    const row = Math.floor(i / (outPerGroup * kernel));
    return Math.floor(row / inPerGroup) * outPerGroup + (Math.floor(i / kernel) % outPerGroup);
  };
}

/** Drops nodes whose outputs reach no graph output, then initializers no node reads. */
export function removeUnused(graph: Graph): void {
  const live = new Set(graph.outputs.map((o) => o.name));
  const kept: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i] as Node;
    if (!n.outputs.some((o) => live.has(o))) continue;
    kept.push(n);
    for (const x of n.inputs) if (x) live.add(x);
  }
  graph.nodes.splice(0, graph.nodes.length, ...kept.reverse());
  for (const name of [...graph.initializers.keys()]) if (!live.has(name)) graph.initializers.delete(name);
}

function useCounts(graph: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const use = (x: string) => uses.set(x, (uses.get(x) ?? 0) + 1);
  for (const n of graph.nodes) for (const x of n.inputs) if (x) use(x);
  for (const o of graph.outputs) use(o.name);
  return uses;
}
