// Reductions: mean, sum, max/min, argmax/argmin, logsumexp; and the running sum. Up to opset 17 the Reduce* ops take
// their axes as an attribute, except ReduceSum, which takes them as an input from opset 13.
import { attr, type Value } from '../graph.js';
import { axis, type Mapping, type OpCall, type Output } from './call.js';

/** The axes PyTorch reduces over: `dim` (one int or a list), or every axis when it is absent or empty (or the overload has none). */
function axesOf(c: OpCall, x: Value, all: boolean): number[] {
  const d = all ? undefined : c.arg('dim');
  const r = x.shape.length;
  if (d === undefined || d === null || (Array.isArray(d) && d.length === 0)) return Array.from({ length: r }, (_, i) => i);
  return (Array.isArray(d) ? (d as number[]) : [d as number]).map((a) => axis(a, r));
}

/** Where the batch axis lands after reducing `axes` (null when it is reduced away). */
function batchAfter(x: Value, axes: readonly number[], keepdims: boolean): number | null {
  const b = x.batchAxis;
  if (b === null || axes.includes(b)) return null;
  return keepdims ? b : b - axes.filter((a) => a < b).length;
}

const reduce = (op: string, all = false): Mapping => (c) => {
  const x = c.input('self');
  const axes = axesOf(c, x, all);
  const keepdims = !all && c.arg('keepdim') === true;
  const input = c.cast(x.name, x.dtype, c.results[0]!.dtype); // the optional `dtype` argument, or PyTorch's promotion (sum of ints → int64)
  const name =
    op === 'ReduceSum'
      ? c.node(op, [input, c.ints(axes)], { keepdims: attr.int(keepdims) })
      : c.node(op, [input], { axes: attr.ints(axes), keepdims: attr.int(keepdims) });
  return { name, batchAxis: batchAfter(x, axes, keepdims) };
};

/** argmax/argmin over one axis, or over the flattened tensor when `dim` is absent. */
const arg = (op: 'ArgMax' | 'ArgMin'): Mapping => (c) => {
  const x = c.input('self');
  const keepdims = c.arg('keepdim') === true;
  if (c.arg('dim') === undefined || c.arg('dim') === null) {
    const flat = c.node('Reshape', [x.name, c.ints([-1])]);
    return { name: c.node(op, [flat], { axis: attr.int(0), keepdims: attr.int(keepdims) }), batchAxis: null };
  }
  const d = axis(c.arg('dim'), x.shape.length);
  return { name: c.node(op, [x.name], { axis: attr.int(d), keepdims: attr.int(keepdims) }), batchAxis: batchAfter(x, [d], keepdims) };
};

/** max.dim / min.dim: the values and their indices. */
const extremum = (reduceOp: 'ReduceMax' | 'ReduceMin', argOp: 'ArgMax' | 'ArgMin'): Mapping => (c) => {
  const x = c.input('self');
  const d = axis(c.arg('dim'), x.shape.length);
  const keepdims = attr.int(c.arg('keepdim') === true);
  const batchAxis = batchAfter(x, [d], c.arg('keepdim') === true);
  const values: Output = { name: c.node(reduceOp, [x.name], { axes: attr.ints([d]), keepdims }), batchAxis };
  return [values, { name: c.node(argOp, [x.name], { axis: attr.int(d), keepdims }), batchAxis }];
};

/** A running sum along one axis (CumSum takes the axis as an input). */
const cumsum: Mapping = (c) => {
  const x = c.input('self');
  const d = axis(c.arg('dim'), x.shape.length);
  return c.node('CumSum', [c.cast(x.name, x.dtype, c.results[0]!.dtype), c.ints([d])]);
};

export const REDUCE: Readonly<Record<string, Mapping>> = {
  'mean$dim': reduce('ReduceMean'),
  'mean': reduce('ReduceMean', true),
  'sum$dim_IntList': reduce('ReduceSum'),
  'sum': reduce('ReduceSum', true),
  'amax': reduce('ReduceMax'),
  'amin': reduce('ReduceMin'),
  'logsumexp': reduce('ReduceLogSumExp'),
  'argmax': arg('ArgMax'),
  'argmin': arg('ArgMin'),
  'max$dim': extremum('ReduceMax', 'ArgMax'),
  'min$dim': extremum('ReduceMin', 'ArgMin'),
  'cumsum': cumsum,
};
