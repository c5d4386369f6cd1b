// LSTM, GRU and Elman RNNs. LibTorch's op runs every layer; an ONNX LSTM/GRU/RNN node is one layer
// (both directions), so layers are chained here: node output Y (L, D, B, H) → (L, B, D·H) feeds the
// next layer. Gate blocks are reordered (PyTorch LSTM i,f,g,o → ONNX i,o,f,c; GRU r,z,n → z,r,h)
// and the two bias vectors concatenated (ONNX's B = [Wb, Rb]). GRU keeps PyTorch's semantics with
// linear_before_reset=1. A zero initial state (what the nn layers pass by default) is left out, so
// the batch size stays free.
import { attr, type Attrs } from '../graph.js';
import { num, type Constant, type Mapping, type OpCall, type Output } from './call.js';

interface Cell {
  /** The ONNX op. */
  op: 'LSTM' | 'GRU' | 'RNN';
  /** For each ONNX gate block, the PyTorch block it comes from. */
  order: readonly number[];
  attrs: (directions: number) => Attrs;
}

const LSTM_CELL: Cell = { op: 'LSTM', order: [0, 3, 1, 2], attrs: () => ({}) };
const GRU_CELL: Cell = { op: 'GRU', order: [1, 0, 2], attrs: () => ({ linear_before_reset: attr.int(1) }) };
const rnnCell = (activation: 'Tanh' | 'Relu'): Cell => ({
  op: 'RNN',
  order: [0],
  attrs: (directions) => ({ activations: attr.strings(Array<string>(directions).fill(activation)) }),
});

/** Rows of a (gates·H, cols) matrix, or a (gates·H) vector, with the gate blocks in ONNX's order. */
function reorder(w: Constant, order: readonly number[]): number[] {
  const block = w.values.length / order.length;
  return order.flatMap((g) => Array.from(w.values.subarray(g * block, (g + 1) * block)));
}

const recurrent = (cell: Cell): Mapping => (c) => {
  if (c.arg('train') === true && num(c.arg('dropout'), 0) > 0) return c.fail('recurrent dropout in training mode has no export');
  const x = c.input('input');
  const layers = num(c.arg('num_layers'), 1);
  const directions = c.arg('bidirectional') === true ? 2 : 1;
  const batchFirst = c.arg('batch_first') === true;
  const perLayer = c.arg('has_biases') === false ? 2 : 4; // w_ih, w_hh[, b_ih, b_hh] per layer and direction
  const weight = (i: number): Constant => c.valuesOf('params', i) ?? c.fail('recurrent weights computed from the input have no export');
  const states = cell.op === 'LSTM' ? [0, 1] : [undefined];

  let seq = batchFirst ? c.node('Transpose', [x.name], { perm: attr.ints([1, 0, 2]) }) : x.name; // (L, B, In)
  const finals: string[][] = states.map(() => []);
  for (let l = 0; l < layers; l++) {
    const w: number[] = [];
    const r: number[] = [];
    const b: number[] = [];
    let wShape: number[] = [];
    let rShape: number[] = [];
    for (let d = 0; d < directions; d++) {
      const base = (l * directions + d) * perLayer;
      const [wi, wh] = [weight(base), weight(base + 1)];
      w.push(...reorder(wi, cell.order));
      r.push(...reorder(wh, cell.order));
      if (perLayer === 4) b.push(...reorder(weight(base + 2), cell.order), ...reorder(weight(base + 3), cell.order));
      wShape = [directions, ...wi.shape];
      rShape = [directions, ...wh.shape];
    }
    const dtype = weight(l * directions * perLayer).dtype;
    const inputs = [seq, c.constant(dtype, wShape, w), c.constant(dtype, rShape, r), perLayer === 4 ? c.constant(dtype, [directions, b.length / directions], b) : '', ''];
    for (const s of states) inputs.push(initialState(c, s, l, directions));
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const hidden = (wShape[1] as number) / cell.order.length;
    const outs = c.nodes(cell.op, inputs, 1 + states.length, { hidden_size: attr.int(hidden), direction: attr.string(directions === 2 ? 'bidirectional' : 'forward'), ...cell.attrs(directions) });
    // Y: (L, D, B, H) → (L, B, D, H) → (L, B, D·H)
    seq = c.node('Reshape', [c.node('Transpose', [outs[0] as string], { perm: attr.ints([0, 2, 1, 3]) }), c.ints([0, 0, -1])]);
    states.forEach((_, i) => finals[i]!.push(outs[i + 1] as string));
  }
  const output: Output = { name: batchFirst ? c.node('Transpose', [seq], { perm: attr.ints([1, 0, 2]) }) : seq, batchAxis: batchFirst ? 0 : 1 };
  const last = finals.map((f): Output => ({ name: f.length === 1 ? (f[0] as string) : c.node('Concat', f, { axis: attr.int(0) }), batchAxis: 1 }));
  return [output, ...last];
};

/** Layer `l`'s slice of the initial hidden (or, for `which` = 1, cell) state; '' when it is all zeros. */
function initialState(c: OpCall, which: number | undefined, l: number, directions: number): string {
  const known = c.valuesOf('hx', which);
  if (known && known.values.every((v) => v === 0)) return '';
  const h = which === undefined ? c.input('hx') : (c.inputList('hx')[which] as { name: string });
  return c.node('Slice', [h.name, c.ints([l * directions]), c.ints([(l + 1) * directions]), c.ints([0])]);
}

export const RECURRENT: Readonly<Record<string, Mapping>> = {
  'lstm$input': recurrent(LSTM_CELL),
  'gru$input': recurrent(GRU_CELL),
  'rnn_tanh$input': recurrent(rnnCell('Tanh')),
  'rnn_relu$input': recurrent(rnnCell('Relu')),
};
