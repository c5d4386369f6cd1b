// Printing that looks like PyTorch's (torch/_tensor_str.py): `tensor([[1., 2.], [3., 4.]])`,
// 4 decimals, scientific notation when magnitudes call for it, summarised past 1000 elements,
// and the dtype/device/grad suffixes PyTorch prints.
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;

/** Dtypes PyTorch leaves out of the suffix because they are inferred from the values. */
const IMPLIED: ReadonlySet<DType> = new Set(['float32', 'int64', 'bool']);

type Formatter = (v: number) => string;

/** Chooses one number format for the whole tensor, as PyTorch's _Formatter does. */
function makeFormatter(values: number[], dtype: DType): Formatter {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(dtype)) return (v) => String(v);
  const finite = values.filter((v) => Number.isFinite(v));
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.length === 0) return (v) => special(v);
  const abs = finite.map(Math.abs).filter((v) => v !== 0);
  const integral = finite.every((v) => Number.isInteger(v));
  const max = abs.length ? Math.max(...abs) : 0;
  const min = abs.length ? Math.min(...abs) : 0;
  if (integral) {
    if (max > 1e8) return (v) => (Number.isFinite(v) ? sci(v) : special(v));
    return (v) => (Number.isFinite(v) ? `${v.toFixed(0)}.` : special(v));
  }
  if (max / (min || 1) > 1000 || max > 1e8 || (min !== 0 && min < 1e-4)) {
    return (v) => (Number.isFinite(v) ? sci(v) : special(v));
  }
  return (v) => (Number.isFinite(v) ? v.toFixed(PRECISION) : special(v));
}

function sci(v: number): string {
  const [mant = '0', exp = '0'] = v.toExponential(PRECISION).split('e');
  const e = Number(exp);
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Row-major values, with only the edge items of long dims when summarising. */
function gather(flat: ArrayLike<number | bigint>, shape: number[], summarize: boolean): { values: number[] } {
  const values: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const walk = (d: number, offset: number) => {
    const n = shape[d] as number;
    const idx = summarize && n > 2 * EDGE_ITEMS
      ? [...Array(EDGE_ITEMS).keys(), ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
      : [...Array(n).keys()];
    for (const i of idx) {
      const o = offset + i * (strides[d] as number);
      if (d === shape.length - 1) values.push(Number(flat[o]));
      else walk(d + 1, o);
    }
  };
  if (shape.length === 0) values.push(Number(flat[0]));
  else walk(0, 0);
  return { values };
}

function render(flat: ArrayLike<number | bigint>, shape: number[], fmt: Formatter, width: number, summarize: boolean, indent: number): string {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const block = (d: number, offset: number, ind: number): string => {
    const n = shape[d] as number;
    const cut = summarize && n > 2 * EDGE_ITEMS;
    const idx = cut ? [...Array(EDGE_ITEMS).keys(), -1, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)] : [...Array(n).keys()];
    if (d === shape.length - 1) {
      // PyTorch writes the elision as ' ...' whatever the element width.
      const items = idx.map((i) => (i < 0 ? ' ...' : fmt(Number(flat[offset + i])).padStart(width)));
      // Wrap long rows the way PyTorch does: as many items per line as fit in the line width.
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - ind) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
    }
    const sep = `,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(ind + 1)}`;
    const parts = idx.map((i) => (i < 0 ? '...' : block(d + 1, offset + i * (strides[d] as number), ind + 1)));
    return `[${parts.join(sep)}]`;
  };
  return block(0, 0, indent);
}

export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const dtype = t.dtype;
  const numel = shape.reduce((a, b) => a * b, 1);
  const detached = t.detach();
  const onCpu = detached.cpu();
  const flat = onCpu.data() as ArrayLike<number | bigint>;
  onCpu.dispose();
  detached.dispose();
  const summarize = numel > THRESHOLD;
  const suffix: string[] = [];
  if (t.device !== 'cpu') suffix.push(`device='${t.device}'`);
  if (numel === 0 && shape.length !== 1) suffix.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  if (!IMPLIED.has(dtype) || (numel === 0 && dtype !== 'float32')) suffix.push(`dtype=torch.${dtype}`);
  const gradFn = t.gradFn;
  if (gradFn) suffix.push(`grad_fn=<${gradFn}>`);
  else if (t.requiresGrad) suffix.push('requires_grad=True');

  let body: string;
  if (numel === 0) body = '[]';
  else {
    const { values } = gather(flat, shape, summarize);
    const fmt = makeFormatter(values, dtype);
    const width = Math.max(...values.map((v) => fmt(v).length));
    body = shape.length === 0 ? fmt(values[0] as number) : render(flat, shape, fmt, width, summarize, 'tensor('.length);
  }
  return `tensor(${body}${suffix.map((s) => `, ${s}`).join('')})`;
}
