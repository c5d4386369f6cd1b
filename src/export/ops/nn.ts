// Layers' ops: convolutions, linear maps, pooling, normalisation, dropout, embedding, resampling.
// Batch norm is written as BatchNormalization here; the passes fold it into the convolution before
// it where there is one (optimize.ts).
import { attr, type Attr, type Attrs } from '../graph.js';
import { intList, num, type Mapping, type OpCall, type Output } from './call.js';

/** Conv and ConvTranspose attributes from PyTorch's stride/padding/dilation lists. */
function convAttrs(c: OpCall, kernel: readonly number[], pads: readonly number[]): Record<string, Attr> {
  const n = kernel.length;
  return {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(intList(c.arg('stride'), n, Array<number>(n).fill(1))),
    pads: attr.ints([...pads, ...pads]),
    dilations: attr.ints(intList(c.arg('dilation'), n, Array<number>(n).fill(1))),
    group: attr.int(num(c.arg('groups'), 1)),
  };
}

const optional = (c: OpCall, name: string) => (c.has(name) ? c.input(name).name : '');

/** conv1d/conv2d, with padding as numbers or as 'same'/'valid' (the `$padding` overloads). */
const conv: Mapping = (c) => {
  const w = c.input('weight');
  const kernel = w.shape.slice(2);
  const n = kernel.length;
  const padding = c.arg('padding');
  let attrs: Attrs;
  if (typeof padding === 'string') {
    const dilation = intList(c.arg('dilation'), n, Array<number>(n).fill(1));
    // 'same': PyTorch pads d·(k−1) in total, the odd one on the end side.
    const total = padding === 'same' ? kernel.map((k, i) => (dilation[i] as number) * (k - 1)) : kernel.map(() => 0);
    const begin = total.map((t) => Math.floor(t / 2));
    attrs = { ...convAttrs(c, kernel, begin), pads: attr.ints([...begin, ...total.map((t, i) => t - (begin[i] as number))]) };
  } else {
    attrs = convAttrs(c, kernel, intList(padding, n, Array<number>(n).fill(0)));
  }
  const inputs = [c.input('input').name, w.name];
  if (c.has('bias')) inputs.push(c.input('bias').name);
  return c.node('Conv', inputs, attrs);
};

const convTranspose: Mapping = (c) => {
  const w = c.input('weight');
  const kernel = w.shape.slice(2);
  const n = kernel.length;
  const attrs = { ...convAttrs(c, kernel, intList(c.arg('padding'), n, Array<number>(n).fill(0))), output_padding: attr.ints(intList(c.arg('output_padding'), n, Array<number>(n).fill(0))) };
  const inputs = [c.input('input').name, w.name];
  if (c.has('bias')) inputs.push(c.input('bias').name);
  return c.node('ConvTranspose', inputs, attrs);
};

/** y = x·Wᵀ + b: Gemm for 2-D input (as torch.onnx), else MatMul with Wᵀ (a constant, transposed here) and Add. */
const linear: Mapping = (c) => {
  const x = c.input('input');
  const w = c.input('weight');
  const b = optional(c, 'bias');
  if (x.shape.length === 2) return c.node('Gemm', b ? [x.name, w.name, b] : [x.name, w.name], { transB: attr.int(1) });
  const values = c.valuesOf('weight');
  const [rows, cols] = w.shape as [number, number];
  const wt = values ? c.constant(w.dtype, [cols, rows], transpose(values.values, rows, cols)) : c.node('Transpose', [w.name], { perm: attr.ints([1, 0]) });
  const y = c.node('MatMul', [x.name, wt]);
  return b ? c.node('Add', [y, b]) : y;
};

function transpose(values: Float64Array, rows: number, cols: number): number[] {
  const out = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = values[r * cols + k] as number;
  return out;
}

/** A per-channel vector, or `fill` repeated when the optional tensor is absent (affine=False). */
function perChannel(c: OpCall, name: string, channels: number, fill: number, dtype: Parameters<OpCall['constant']>[0]): string {
  return c.has(name) ? c.input(name).name : c.constant(dtype, [channels], Array<number>(channels).fill(fill));
}

const batchNorm: Mapping = (c) => {
  const x = c.input('input');
  if (c.arg('training') === true) return c.fail('batch norm with batch statistics (training mode, or track_running_stats=False) has no per-sample export');
  if (!c.has('running_mean') || !c.has('running_var')) return c.fail('batch norm without running statistics has no export');
  const ch = x.shape[1] as number;
  const inputs = [x.name, perChannel(c, 'weight', ch, 1, x.dtype), perChannel(c, 'bias', ch, 0, x.dtype), c.input('running_mean').name, c.input('running_var').name];
  return c.node('BatchNormalization', inputs, { epsilon: attr.float(num(c.arg('eps'), 1e-5)) });
};

const instanceNorm: Mapping = (c) => {
  const x = c.input('input');
  const ch = x.shape[1] as number;
  const eps = attr.float(num(c.arg('eps'), 1e-5));
  const scale = perChannel(c, 'weight', ch, 1, x.dtype);
  const bias = perChannel(c, 'bias', ch, 0, x.dtype);
  if (c.arg('use_input_stats') === false) return c.node('BatchNormalization', [x.name, scale, bias, c.input('running_mean').name, c.input('running_var').name], { epsilon: eps });
  return c.node('InstanceNormalization', [x.name, scale, bias], { epsilon: eps });
};

/** Mean and variance over the last `k` axes, then the affine map: LayerNormalization from opset 17, spelled out before. */
const layerNorm: Mapping = (c) => {
  const x = c.input('input');
  const k = (c.arg('normalized_shape') as readonly number[]).length;
  const eps = num(c.arg('eps'), 1e-5);
  const shape = x.shape.slice(x.shape.length - k);
  const size = shape.reduce((a, b) => a * b, 1);
  const weight = c.has('weight') ? c.input('weight').name : c.constant(x.dtype, shape, Array<number>(size).fill(1));
  const bias = optional(c, 'bias');
  if (c.opset >= 17) return c.node('LayerNormalization', bias ? [x.name, weight, bias] : [x.name, weight], { axis: attr.int(-k), epsilon: attr.float(eps) });
  const axes = { axes: attr.ints(Array.from({ length: k }, (_, i) => i - k)) };
  const centred = c.node('Sub', [x.name, c.node('ReduceMean', [x.name], axes)]);
  const variance = c.node('ReduceMean', [c.node('Mul', [centred, centred])], axes);
  const normed = c.node('Div', [centred, c.node('Sqrt', [c.node('Add', [variance, c.constant(x.dtype, [], [eps])])])]);
  const scaled = c.node('Mul', [normed, weight]);
  return bias ? c.node('Add', [scaled, bias]) : scaled;
};

/** GroupNormalization arrives in opset 18: (N, C, …) → (N, G, −1), InstanceNormalization, back, then the affine map. */
const groupNorm: Mapping = (c) => {
  const x = c.input('input');
  const groups = num(c.arg('num_groups'), 1);
  const ch = x.shape[1] as number;
  const grouped = c.node('Reshape', [x.name, c.ints([0, groups, -1])]);
  const ones = c.constant(x.dtype, [groups], Array<number>(groups).fill(1));
  const zeros = c.constant(x.dtype, [groups], Array<number>(groups).fill(0));
  const normed = c.node('InstanceNormalization', [grouped, ones, zeros], { epsilon: attr.float(num(c.arg('eps'), 1e-5)) });
  let y = c.node('Reshape', [normed, c.node('Shape', [x.name])]);
  const channelShape = c.ints([ch, ...Array<number>(x.shape.length - 2).fill(1)]);
  if (c.has('weight')) y = c.node('Mul', [y, c.node('Reshape', [c.input('weight').name, channelShape])]);
  if (c.has('bias')) y = c.node('Add', [y, c.node('Reshape', [c.input('bias').name, channelShape])]);
  return y;
};

const dropout: Mapping = (c) => {
  if (c.arg('train') === true) return c.fail('dropout in training mode has no export (the trace runs in eval mode; a forward that forces training cannot be exported)');
  return c.input('input').name;
};

/** Pooling windows: kernel, stride (default: the kernel), padding (both sides), dilation. */
function poolAttrs(c: OpCall, n: number, withDilation: boolean): Record<string, Attr> {
  const kernel = intList(c.arg('kernel_size'), n, []);
  const stride = intList(c.arg('stride'), n, kernel);
  const padding = intList(c.arg('padding'), n, Array<number>(n).fill(0));
  const attrs: Record<string, Attr> = {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(stride.length ? stride : kernel),
    pads: attr.ints([...padding, ...padding]),
    ceil_mode: attr.int(c.arg('ceil_mode') === true),
  };
  if (withDilation) attrs.dilations = attr.ints(intList(c.arg('dilation'), n, Array<number>(n).fill(1)));
  return attrs;
}

const maxPool = (n: number): Mapping => (c) => c.node('MaxPool', [c.input('self').name], poolAttrs(c, n, true));

const avgPool = (n: number): Mapping => (c) => {
  if (n === 2 && c.has('divisor_override')) c.fail('average pooling with divisor_override has no export'); // avg_pool1d has no such argument
  const x = c.input('self');
  const kernel = intList(c.arg('kernel_size'), n, []);
  const padding = intList(c.arg('padding'), n, Array<number>(n).fill(0));
  // A window over the whole map without padding (a global pool written as avg_pool2d, as
  // fashion-net's head is) is GlobalAveragePool: the same mean, and the node ONNX Runtime's int8
  // graph fuses (QLinearGlobalAveragePool).
  if (kernel.length === n && kernel.every((k, i) => k === x.shape[x.shape.length - n + i]) && padding.every((p) => p === 0))
    return c.node('GlobalAveragePool', [x.name]);
  return c.node('AveragePool', [x.name], { ...poolAttrs(c, n, false), count_include_pad: attr.int(c.arg('count_include_pad') !== false) });
};

/**
 * Adaptive pooling to `output_size`: global pooling for 1×…×1, a plain pool when each input side is
 * a multiple of the output side; otherwise (average only) a product with constant averaging
 * matrices, one per spatial axis, which is exact for any sizes.
 */
const adaptivePool = (kind: 'Average' | 'Max', n: number): Mapping => (c) => {
  const x = c.input('self');
  const inSize = x.shape.slice(x.shape.length - n);
  const outSize = intList(c.arg('output_size'), n, []);
  const one = (v: string): Output | Output[] => (kind === 'Max' ? [v, null] : v); // max pooling also returns indices
  if (outSize.every((s) => s === 1)) return one(c.node(`Global${kind}Pool`, [x.name]));
  if (inSize.every((s, i) => s % (outSize[i] as number) === 0)) {
    const k = inSize.map((s, i) => s / (outSize[i] as number));
    return one(c.node(`${kind}Pool`, [x.name], { kernel_shape: attr.ints(k), strides: attr.ints(k) }));
  }
  if (kind === 'Max') return c.fail(`adaptive max pooling from [${inSize.join(', ')}] to [${outSize.join(', ')}] (not a multiple) has no export`);
  // Along each axis: out[i] = mean of in[floor(i·I/O) .. ceil((i+1)·I/O)), PyTorch's windows.
  let y = x.name;
  outSize.forEach((o, a) => {
    const len = inSize[a] as number;
    const m = new Array<number>(len * o).fill(0); // (I, O): y ← y·M on this axis
    for (let i = 0; i < o; i++) {
      const start = Math.floor((i * len) / o);
      const end = Math.ceil(((i + 1) * len) / o);
      for (let j = start; j < end; j++) m[j * o + i] = 1 / (end - start);
    }
    const axis = x.shape.length - n + a;
    const last = x.shape.length - 1;
    const perm = Array.from({ length: x.shape.length }, (_, i) => (i === axis ? last : i === last ? axis : i));
    const moved = axis === last ? y : c.node('Transpose', [y], { perm: attr.ints(perm) });
    const pooled = c.node('MatMul', [moved, c.constant(x.dtype, [len, o], m)]);
    y = axis === last ? pooled : c.node('Transpose', [pooled], { perm: attr.ints(perm) });
  });
  return y;
};

/** Rows of the weight by index: the result has the indices' shape (and batch axis) plus the embedding axis. */
const embedding: Mapping = (c) => {
  const indices = c.input('indices');
  return { name: c.node('Gather', [c.input('weight').name, indices.name], { axis: attr.int(0) }), batchAxis: indices.batchAxis };
};

/** Upsampling to the traced output size; the batch dimension comes from the input at run time. */
const resize = (mode: 'nearest' | 'linear'): Mapping => (c) => {
  const x = c.input('input');
  const out = c.results[0]!.shape;
  const sizes = c.node('Concat', [c.node('Slice', [c.node('Shape', [x.name]), c.ints([0]), c.ints([2])]), c.ints(out.slice(2))], { axis: attr.int(0) });
  const attrs: Attrs =
    mode === 'nearest'
      ? { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') }
      : { mode: attr.string('linear'), coordinate_transformation_mode: attr.string(c.arg('align_corners') === true ? 'align_corners' : 'pytorch_half_pixel') };
  return c.node('Resize', [x.name, '', '', sizes], attrs);
};

/** Einsum; the batch axis follows its letter from the first input that has one into the result's subscripts. */
const einsum: Mapping = (c) => {
  const equation = String(c.arg('equation')).replace(/\s/g, '');
  const inputs = c.inputList('tensors');
  const name = c.node('Einsum', inputs.map((v) => v.name), { equation: attr.string(equation) });
  const [lhs = '', rhs] = equation.split('->');
  const k = inputs.findIndex((v) => v.batchAxis !== null);
  const letter = k < 0 || equation.includes('.') ? undefined : lhs.split(',')[k]?.[inputs[k]!.batchAxis as number];
  const at = letter && rhs !== undefined ? rhs.indexOf(letter) : -1;
  return { name, batchAxis: at < 0 ? null : at };
};

const pixelShuffle: Mapping = (c) => c.node('DepthToSpace', [c.input('self').name], { blocksize: attr.int(num(c.arg('upscale_factor'), 1)), mode: attr.string('CRD') });

export const NN: Readonly<Record<string, Mapping>> = {
  'conv1d': conv,
  'conv1d$padding': conv,
  'conv2d': conv,
  'conv2d$padding': conv,
  'conv_transpose2d$input': convTranspose,
  'linear': linear,
  'matmul': (c) => c.node('MatMul', [c.input('self').name, c.input('other').name]),
  // β·self + α·(mat1 @ mat2)
  'addmm': (c) => c.node('Gemm', [c.input('mat1').name, c.input('mat2').name, c.input('self').name], { alpha: attr.float(num(c.arg('alpha'), 1)), beta: attr.float(num(c.arg('beta'), 1)) }),
  'einsum': einsum,
  'mm': (c) => c.node('MatMul', [c.input('self').name, c.input('mat2').name]),
  'bmm': (c) => c.node('MatMul', [c.input('self').name, c.input('mat2').name]),
  'batch_norm': batchNorm,
  'instance_norm': instanceNorm,
  'layer_norm': layerNorm,
  'group_norm': groupNorm,
  'dropout': dropout,
  'feature_dropout': dropout,
  'alpha_dropout': dropout,
  'max_pool1d': maxPool(1),
  'max_pool2d': maxPool(2),
  'max_pool2d_with_indices': (c) => [c.node('MaxPool', [c.input('self').name], poolAttrs(c, 2, true)), null],
  'avg_pool1d': avgPool(1),
  'avg_pool2d': avgPool(2),
  'adaptive_avg_pool1d': adaptivePool('Average', 1),
  'adaptive_avg_pool2d': adaptivePool('Average', 2),
  'adaptive_max_pool2d': adaptivePool('Max', 2),
  'embedding': embedding,
  'upsample_nearest2d$vec': resize('nearest'),
  'upsample_bilinear2d$vec': resize('linear'),
  'pixel_shuffle': pixelShuffle,
};
