// summary(model, inputShape): one forward pass on zeros (eval mode, no grad), recording every
// module's output shape, printed as a tree with parameter counts, like torchinfo / Keras.
//
//   Layer (type)                Output Shape          Param #
//   Sequential                  [2, 10]               --
//   ├─0: Conv2d                 [2, 8, 28, 28]        80
//   ...
import { noGrad } from '../tensor/autograd.js';
import type { DType } from '../tensor/dtype.js';
import { zeros } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface SummaryOptions {
  /** dtype of the zeros fed to the model (int64 for embeddings). Default float32. */
  dtype?: DType;
  device?: string;
  /** Deepest level shown (the model itself is depth 0). Default: all. */
  depth?: number;
}

export interface SummaryRow {
  /** Path in the state dict ('' for the model, 'features.0', …). */
  path: string;
  type: string;
  depth: number;
  /** Shapes of the tensors the call returned, depth first (one for most layers). */
  outputShapes: number[][];
  /** Parameters the module owns directly (children excluded); null on a repeated call of a shared module. */
  params: number | null;
  /** Parameters of the module and its descendants (shown when the depth limit hides the children). */
  totalParams: number;
  /** Whether it has children (its own count is then shown only if non-zero). */
  container: boolean;
  /** Row index of the enclosing call, -1 for the model. */
  parent: number;
}

export interface ModelSummary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  text: string;
}

function shapesOf(v: unknown, out: number[][] = []): number[][] {
  if (v instanceof Tensor) out.push(v.shape);
  else if (Array.isArray(v)) for (const x of v) shapesOf(x, out);
  return out;
}

type Forward = (...args: unknown[]) => unknown;

/** Runs the model once and returns the rows and totals (summary() formats them). */
export function summarize(model: Module, inputShape: readonly number[] | readonly (readonly number[])[], options: SummaryOptions = {}): ModelSummary {
  const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as number[][];
  const rows: SummaryRow[] = [];
  const stack: number[] = [];
  const counted = new Set<Module>();
  const modes = new Map<Module, boolean>();
  const wrapped: [Module, PropertyDescriptor | undefined][] = [];
  try {
    for (const [path, m] of model.namedModules()) {
      if (modes.has(m)) continue; // a shared module is wrapped once, under its first path
      modes.set(m, m.training);
      const own = Object.getOwnPropertyDescriptor(m, 'forward');
      const original = (m as unknown as { forward: Forward }).forward;
      const depth = path === '' ? 0 : path.split('.').length;
      const container = m.children().next().done !== true;
      const record: Forward = (...args) => {
        const row: SummaryRow = { path, type: m.constructor.name, depth, outputShapes: [], params: counted.has(m) ? null : m.parameters(false).reduce((n, p) => n + p.numel(), 0), totalParams: m.numParameters(), container, parent: stack.at(-1) ?? -1 };
        counted.add(m);
        rows.push(row);
        stack.push(rows.length - 1);
        try {
          const out = original.apply(m, args);
          row.outputShapes = shapesOf(out);
          return out;
        } finally {
          stack.pop();
        }
      };
      Object.defineProperty(m, 'forward', { value: record, configurable: true, writable: true });
      wrapped.push([m, own]);
    }
    model.eval(); // torchinfo's default: batch norm and dropout as at inference, batch size 1 allowed
    noGrad(() =>
      scope(() => {
        const inputs = shapes.map((s) => zeros(s, { dtype: options.dtype ?? 'float32', ...(options.device ? { device: options.device } : {}) }));
        (model as unknown as { forward: Forward }).forward(...inputs);
      }),
    );
  } finally {
    for (const [m, own] of wrapped) {
      if (own) Object.defineProperty(m, 'forward', own);
      else delete (m as unknown as { forward?: Forward }).forward;
    }
    for (const [m, training] of modes) m.training = training;
  }
  const totalParams = model.numParameters();
  const trainableParams = model.numParameters({ trainableOnly: true });
  return { rows, totalParams, trainableParams, text: format(rows, shapes, totalParams, trainableParams, options.depth ?? Infinity) };
}

/** The summary as text (print it with console.log). */
export function summary(model: Module, inputShape: readonly number[] | readonly (readonly number[])[], options: SummaryOptions = {}): string {
  return summarize(model, inputShape, options).text;
}

function format(rows: SummaryRow[], inputShapes: number[][], total: number, trainable: number, maxDepth: number): string {
  const shown = rows.map((r, i) => [r, i] as const).filter(([r]) => r.depth <= maxDepth);
  // A row is the last of its siblings when no later row has the same parent: it gets └─.
  const isLast = (i: number) => !rows.some((r, j) => j > i && r.parent === (rows[i] as SummaryRow).parent);
  const tree = (i: number): string => {
    const r = rows[i] as SummaryRow;
    if (r.parent < 0) return '';
    let prefix = '';
    for (let p = r.parent; p >= 0 && (rows[p] as SummaryRow).parent >= 0; p = (rows[p] as SummaryRow).parent) prefix = (isLast(p) ? '    ' : '│   ') + prefix;
    return `${prefix}${isLast(i) ? '└─' : '├─'}`;
  };
  const fmtShape = (s: number[][]) => (s.length === 0 ? '--' : s.map((x) => `[${x.join(', ')}]`).join(', '));
  const table = shown.map(([r, i]) => {
    const name = r.parent < 0 ? r.type : `${r.path.split('.').at(-1)}: ${r.type}`;
    const collapsed = r.container && r.depth === maxDepth;
    const params = r.params === null ? '(recursive)' : collapsed ? r.totalParams.toLocaleString('en-US') : r.container && r.params === 0 ? '--' : r.params.toLocaleString('en-US');
    return [tree(i) + name, fmtShape(r.outputShapes), params];
  });
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = head.map((h, c) => Math.max(h.length, ...table.map((row) => (row[c] as string).length)) + 4);
  const line = (cells: string[]) => cells.map((x, c) => (c === 2 ? x : x.padEnd(widths[c] as number))).join('').trimEnd();
  const rule = '='.repeat(widths.reduce((a, b) => a + b, 0));
  return [
    rule,
    line(head),
    rule,
    ...table.map(line),
    rule,
    `Total params: ${total.toLocaleString('en-US')}`,
    `Trainable params: ${trainable.toLocaleString('en-US')}`,
    `Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`,
    `Input shape: ${inputShapes.map((s) => `[${s.join(', ')}]`).join(', ')}`,
    rule,
  ].join('\n');
}
