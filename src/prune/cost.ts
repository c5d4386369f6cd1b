// What a model costs: parameters (and how many are non-zero, which is what unstructured pruning
// changes), multiply-adds per image counted from its traced graph (convolutions and matrix products,
// the usual convention: norms, activations and pooling are not counted), and its forward latency in
// Tessera at a batch size (eval mode, no grad, the median of timed runs after warm-up).
import { traceModule } from '../export/trace.js';
import type { Graph, Node } from '../export/graph.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { countNonzero, randn, zeros } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ModelCost {
  parameters: number;
  nonzeroParameters: number;
  /** Per image, at the traced input size. */
  multiplyAdds: number;
}

/** Parameters and multiply-adds of `model` on inputs of `inputShape` (C, H, W: one image). */
export function modelCost(model: Module, inputShape: readonly number[]): ModelCost {
  const params = model.parameters();
  const nonzeroParameters = noGrad(() => scope(() => params.reduce((n, p) => n + Number(countNonzero(p).item()), 0)));
  const { graph } = scope(() => traceModule(model, [zeros([1, ...inputShape])], { opset: 17, inputNames: ['input'], batchAxis: 0 }));
  const multiplyAdds = graph.nodes.reduce((n, node) => n + nodeMultiplyAdds(graph, node), 0);
  return { parameters: params.reduce((n, p) => n + p.numel(), 0), nonzeroParameters, multiplyAdds };
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Conv: every output element sums C_in/groups · k… products; ConvTranspose: every input element spreads to C_out/groups · k…; Gemm/MatMul: M·N·K. */
function nodeMultiplyAdds(graph: Graph, n: Node): number {
  const shape = (name: string | undefined) => (name ? (graph.initializers.get(name)?.shape ?? graph.shapes.get(name)) : undefined);
  const w = shape(n.inputs[1]);
  switch (n.opType) {
    case 'Conv': {
      const out = shape(n.outputs[0]);
      return out && w ? product(out) * product(w.slice(1)) : 0;
    }
    case 'ConvTranspose': {
      const x = shape(n.inputs[0]);
      return x && w ? product(x) * product(w.slice(1)) : 0;
    }
    case 'Gemm':
    case 'MatMul': {
      const [a, out] = [shape(n.inputs[0]), shape(n.outputs[0])];
      if (!a || !out) return 0;
      const reduced = n.opType === 'Gemm' && n.attrs.transA?.value === 1 ? a[0] : a[a.length - 1]; // A is (M, K), or (K, M) transposed
      return product(out) * (reduced as number);
    }
    default:
      return 0;
  }
}

export interface ForwardLatency {
  batch: number;
  medianMs: number;
  runs: number;
}

/** The median time of `model.forward` on a (batch, …inputShape) input, in eval mode without gradients (the mode is restored). */
export function forwardLatency(model: Module & { forward(x: Tensor): Tensor }, inputShape: readonly number[], batch: number, o: { runs?: number; warmup?: number } = {}): ForwardLatency {
  const runs = o.runs ?? 20;
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      scope(() => {
        const x = randn([batch, ...inputShape]);
        for (let i = 0; i < (o.warmup ?? 3); i++) scope(() => void model.forward(x));
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          scope(() => void model.forward(x));
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        const mid = times.length >> 1;
        return { batch, medianMs: times.length % 2 ? (times[mid] as number) : ((times[mid - 1] as number) + (times[mid] as number)) / 2, runs };
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
