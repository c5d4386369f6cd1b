// Views and rearrangements: reshape/view/flatten, (un)squeeze, permute, expand, cat/stack/split,
// slicing, padding, dtype conversions. Shapes in these ops are numbers from the trace, so the batch
// dimension is kept dynamic where it can be: a reshape copies it from the input (ONNX's 0), expand
// broadcasts over it (1), and an op that would fix it is an error rather than a silently static graph.
import { attr, type Value } from '../graph.js';
import { axis, num, type Mapping, type OpCall, type Output } from './call.js';

/** Slice bounds meaning "to the end" / "to the start" (ONNX clamps them; 2^62 is exact in a double). */
const END = 2 ** 62;

const self = (c: OpCall) => c.input('self');

function reshapeTo(c: OpCall, x: Value, target: readonly number[], batchAxis: number | null): Output {
  return { name: c.node('Reshape', [x.name, c.ints(target)]), batchAxis };
}

/** Reshape to PyTorch's sizes: the batch stays dynamic if it keeps its place (copied, ONNX's 0) or is what −1 stands for. */
export function reshape(c: OpCall, x: Value, sizes: readonly number[]): Output {
  const t = [...sizes];
  const b = x.batchAxis;
  if (b === null) return reshapeTo(c, x, t, null);
  const rest = (s: readonly number[]) => s.reduce((p, d, i) => (i === b ? p : p * d), 1);
  if (t[b] === x.shape[b]) {
    t[b] = 0;
    return reshapeTo(c, x, t, b);
  }
  if (t[b] === -1 && !t.some((d, i) => d === -1 && i !== b) && rest(t) === rest(x.shape)) return reshapeTo(c, x, t, b);
  if (t.includes(-1)) return reshapeTo(c, x, t, null);
  return c.fail(`reshape of [${x.shape.join(', ')}] to [${sizes.join(', ')}] fixes the batch size; keep the batch dimension or write -1 (or export with a fixed batch)`);
}

const flatten: Mapping = (c) => {
  const x = self(c);
  const r = x.shape.length;
  if (r === 0) return reshapeTo(c, x, [1], null);
  const s = axis(c.arg('start_dim'), r, 0);
  const e = axis(c.arg('end_dim'), r, -1);
  if (s === e) return x.name;
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  const t = [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)];
  const b = x.batchAxis;
  if (b === null) return reshapeTo(c, x, t, null);
  if (b < s) return reshapeTo(c, x, t.map((d, i) => (i === b ? 0 : i === s ? -1 : d)), b);
  if (b > e) return reshapeTo(c, x, t.map((d, i) => (i === b - (e - s) ? -1 : d)), b - (e - s));
  return reshapeTo(c, x, t.map((d, i) => (i === s ? -1 : d)), merged === x.shape[b] ? s : null); // the batch is inside the merged axes
};

const unsqueeze: Mapping = (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length + 1);
  const b = x.batchAxis;
  return { name: c.node('Unsqueeze', [x.name, c.ints([d])]), batchAxis: b === null ? null : b >= d ? b + 1 : b };
};

function squeezeAxes(c: OpCall, x: Value, axes: number[]): Output {
  const keep = axes.filter((d) => x.shape[d] === 1); // PyTorch leaves other sizes alone
  if (keep.length === 0) return x.name;
  const b = x.batchAxis;
  if (b !== null && keep.includes(b)) return c.fail('squeezes the batch axis, which has size 1 only in this trace (export with a batch larger than 1, or a fixed batch)');
  return { name: c.node('Squeeze', [x.name, c.ints(keep)]), batchAxis: b === null ? null : b - keep.filter((d) => d < b).length };
}

function transposeTo(c: OpCall, x: Value, perm: readonly number[]): Output {
  const b = x.batchAxis;
  return { name: c.node('Transpose', [x.name], { perm: attr.ints(perm) }), batchAxis: b === null ? null : perm.indexOf(b) };
}

const swap = (r: number, a: number, b: number) => Array.from({ length: r }, (_, i) => (i === a ? b : i === b ? a : i));

const permute: Mapping = (c) => {
  const x = self(c);
  return transposeTo(c, x, (c.arg('dims') as number[]).map((d) => axis(d, x.shape.length)));
};

const movedim: Mapping = (c) => {
  const x = self(c);
  const r = x.shape.length;
  const src = axis(c.arg('source'), r);
  const order = Array.from({ length: r }, (_, i) => i).filter((i) => i !== src);
  order.splice(axis(c.arg('destination'), r), 0, src);
  return transposeTo(c, x, order);
};

/** Broadcast to PyTorch's sizes (−1 keeps a size): sizes equal to the input's become 1, so they follow the input at run time. */
const expand: Mapping = (c) => {
  const x = self(c);
  const sizes = c.arg('size') as number[];
  const lead = sizes.length - x.shape.length;
  const t = sizes.map((s, i) => (i >= lead && (s === -1 || s === x.shape[i - lead]) ? 1 : s));
  const b = x.batchAxis;
  return { name: c.node('Expand', [x.name, c.ints(t)]), batchAxis: b === null ? null : b + lead };
};

/** The op's result dtype (to, type_as; identity when unchanged). */
const convert: Mapping = (c) => {
  const x = self(c);
  return c.cast(x.name, x.dtype, c.results[0]!.dtype);
};

const like = (op: 'Reshape' | 'Expand'): Mapping => (c) => {
  const other = c.input('other');
  return { name: c.node(op, [self(c).name, c.node('Shape', [other.name])]), batchAxis: other.batchAxis };
};

const cat: Mapping = (c) => {
  const out = c.results[0]!;
  const d = axis(c.arg('dim'), out.shape.length);
  const xs = c.inputList('tensors');
  const b = xs.find((v) => v.batchAxis !== null)?.batchAxis ?? null;
  const name = c.node('Concat', xs.map((v) => c.cast(v.name, v.dtype, out.dtype)), { axis: attr.int(d) });
  return { name, batchAxis: b === d ? null : b };
};

const stack: Mapping = (c) => {
  const out = c.results[0]!;
  const d = axis(c.arg('dim'), out.shape.length);
  const xs = c.inputList('tensors');
  const b = xs.find((v) => v.batchAxis !== null)?.batchAxis ?? null;
  const parts = xs.map((v) => c.node('Unsqueeze', [c.cast(v.name, v.dtype, out.dtype), c.ints([d])]));
  return { name: c.node('Concat', parts, { axis: attr.int(d) }), batchAxis: b === null ? null : b >= d ? b + 1 : b };
};

/** split/chunk/unbind: the pieces' sizes along `dim` are read off the real results. */
const split = (squeeze: boolean): Mapping => (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length);
  if (d === x.batchAxis) return c.fail('splits along the batch axis, whose size is only known at run time');
  const sizes = c.results.map((r) => (squeeze ? 1 : (r.shape[d] as number)));
  const parts = c.nodes('Split', [x.name, c.ints(sizes)], sizes.length, { axis: attr.int(d) });
  if (!squeeze) return parts;
  const b = x.batchAxis;
  return parts.map((p) => ({ name: c.node('Squeeze', [p, c.ints([d])]), batchAxis: b === null ? null : b > d ? b - 1 : b }));
};

function sliceAxis(c: OpCall, x: Value, d: number, start: number, end: number, step = 1): Output {
  const name = c.node('Slice', [x.name, c.ints([start]), c.ints([end]), c.ints([d]), c.ints([step])]);
  return { name, batchAxis: d === x.batchAxis ? null : x.batchAxis };
}

const slice: Mapping = (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length, 0);
  return sliceAxis(c, x, d, num(c.arg('start'), 0), num(c.arg('end'), END), num(c.arg('step'), 1));
};

const narrow: Mapping = (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length);
  const start = num(c.arg('start'), 0);
  return sliceAxis(c, x, d, start, start + num(c.arg('length'), 0));
};

const select: Mapping = (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length);
  const b = x.batchAxis;
  const name = c.node('Gather', [x.name, c.constant('int64', [], [num(c.arg('index'), 0)])], { axis: attr.int(d) });
  return { name, batchAxis: b === null || b === d ? null : b > d ? b - 1 : b };
};

const indexSelect: Mapping = (c) => {
  const x = self(c);
  const d = axis(c.arg('dim'), x.shape.length);
  return { name: c.node('Gather', [x.name, c.input('index').name], { axis: attr.int(d) }), batchAxis: d === x.batchAxis ? null : x.batchAxis };
};

/** PyTorch's pad list runs from the last axis backwards, (begin, end) per axis; ONNX's is all begins then all ends. */
const pad: Mapping = (c) => {
  const x = self(c);
  const r = x.shape.length;
  const p = c.arg('pad') as number[];
  const begin = Array<number>(r).fill(0);
  const end = Array<number>(r).fill(0);
  for (let i = 0; i < p.length / 2; i++) {
    begin[r - 1 - i] = p[2 * i] as number;
    end[r - 1 - i] = p[2 * i + 1] as number;
  }
  const mode = (c.op === 'pad' ? c.arg('mode') : undefined) ?? 'constant';
  const onnxMode = ({ constant: 'constant', reflect: 'reflect', replicate: 'edge' } as Record<string, string>)[mode as string];
  if (!onnxMode) return c.fail(`padding mode '${String(mode)}' has no export`);
  const value = c.constant(x.dtype, [], [num(c.arg('value'), 0)]);
  return c.node('Pad', [x.name, c.ints([...begin, ...end]), onnxMode === 'constant' ? value : ''], { mode: attr.string(onnxMode) });
};

const flip: Mapping = (c) => {
  const x = self(c);
  const dims = (c.arg('dims') as number[]).map((d) => axis(d, x.shape.length));
  const n = dims.length;
  return c.node('Slice', [x.name, c.ints(Array<number>(n).fill(-1)), c.ints(Array<number>(n).fill(-END)), c.ints(dims), c.ints(Array<number>(n).fill(-1))]);
};

/** repeat/tile: leading axes added first when there are more repeats than axes, then Tile. */
const tile = (name: 'repeats' | 'dims'): Mapping => (c) => {
  const x = self(c);
  const reps = [...(c.arg(name) as number[])];
  while (reps.length < x.shape.length) reps.unshift(1);
  const lead = reps.length - x.shape.length;
  const base = lead > 0 ? c.node('Unsqueeze', [x.name, c.ints(Array.from({ length: lead }, (_, i) => i))]) : x.name;
  const b = x.batchAxis === null ? null : x.batchAxis + lead;
  return { name: c.node('Tile', [base, c.ints(reps)]), batchAxis: b !== null && reps[b] === 1 ? b : null };
};

/** zeros_like/ones_like/full_like: the fill value broadcast to the input's shape at run time. */
const filledLike = (fill: number | null): Mapping => (c) => {
  const x = self(c);
  const value = c.constant(c.results[0]!.dtype, [], [fill ?? num(c.arg('fill_value'), 0)]);
  return { name: c.node('Expand', [value, c.node('Shape', [x.name])]), batchAxis: x.batchAxis };
};

/** torch.gather: GatherElements, whose output has the index's shape. */
const gather: Mapping = (c) => {
  const x = self(c);
  const index = c.input('index');
  return { name: c.node('GatherElements', [x.name, index.name], { axis: attr.int(axis(c.arg('dim'), x.shape.length)) }), batchAxis: index.batchAxis };
};

export const SHAPE: Readonly<Record<string, Mapping>> = {
  'view': (c) => reshape(c, self(c), c.arg('size') as number[]),
  'reshape': (c) => reshape(c, self(c), c.arg('shape') as number[]),
  'unflatten$int': (c) => {
    const x = self(c);
    const d = axis(c.arg('dim'), x.shape.length);
    return reshape(c, x, [...x.shape.slice(0, d), ...(c.arg('sizes') as number[]), ...x.shape.slice(d + 1)]);
  },
  'view_as': like('Reshape'),
  'reshape_as': like('Reshape'),
  'flatten$using_ints': flatten,
  'unsqueeze': unsqueeze,
  'unsqueeze_': unsqueeze,
  'squeeze$dim': (c) => squeezeAxes(c, self(c), [axis(c.arg('dim'), self(c).shape.length)]),
  'squeeze_$dim': (c) => squeezeAxes(c, self(c), [axis(c.arg('dim'), self(c).shape.length)]),
  'squeeze': (c) => squeezeAxes(c, self(c), self(c).shape.map((_, i) => i)),
  'permute': permute,
  'transpose$int': (c) => {
    const x = self(c);
    const r = x.shape.length;
    return transposeTo(c, x, swap(r, axis(c.arg('dim0'), r), axis(c.arg('dim1'), r)));
  },
  't': (c) => (self(c).shape.length < 2 ? self(c).name : transposeTo(c, self(c), [1, 0])),
  'movedim$int': movedim,
  'expand': expand,
  'expand_as': like('Expand'),
  'contiguous': (c) => self(c).name,
  'clone': (c) => self(c).name,
  'detach': (c) => self(c).name,
  'to$dtype': convert,
  'to$device': convert,
  'to$other': convert,
  'type_as': convert,
  'cat': cat,
  'stack': stack,
  'split$Tensor': split(false),
  'split_with_sizes': split(false),
  'chunk': split(false),
  'unbind$int': split(true),
  'slice$Tensor': slice,
  'narrow': narrow,
  'select$int': select,
  'index_select': indexSelect,
  'gather': gather,
  'zeros_like': filledLike(0),
  'ones_like': filledLike(1),
  'full_like': filledLike(null),
  'pad': pad,
  'constant_pad_nd': pad,
  'flip': flip,
  'repeat': tile('repeats'),
  'tile': tile('dims'),
};
