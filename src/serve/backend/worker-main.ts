// The body of a model's worker thread: load the back end, warm it up, say 'ready', then run one
// batch at a time and hand the logits back, transferring (not copying) their buffer. The batcher on
// the main thread sends the next batch only after this one's answer, so runs never overlap.
import { parentPort, workerData } from 'node:worker_threads';

import { loadOnnxBackend } from './onnx.js';
import { loadTorchBackend } from './torch.js';
import type { Backend, ModelInfo, ModelSource } from './types.js';

export interface WorkerInit {
  source: ModelSource;
}

export type BatchShape = [number, number, number, number];
export type ToWorker = { type: 'infer'; id: number; batch: Float32Array; shape: BatchShape } | { type: 'close' };
export type FromWorker =
  | { type: 'ready'; info: ModelInfo; loadMs: number }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; logits: Float32Array; ms: number }
  | { type: 'failed'; id: number; message: string };

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs a batch of zeros at batch 1 and at the largest batch, so the first requests do not pay for
 * allocations and kernel selection; the batch-1 pass also tells how many logits a sample has.
 */
async function warmUp(backend: Backend, maxBatchSize: number): Promise<number> {
  const [c, h, w] = backend.info.input.shape;
  let size = 0;
  for (const b of maxBatchSize > 1 ? [1, maxBatchSize] : [1]) {
    const out = await backend.infer(new Float32Array(b * c * h * w), [b, c, h, w]);
    if (out.length === 0 || out.length % b !== 0) throw new Error(`the model gave ${out.length} outputs for a batch of ${b}`);
    if (size && out.length / b !== size) throw new Error(`the model gave ${out.length / b} outputs per sample at batch ${b} but ${size} at batch 1`);
    size = out.length / b;
  }
  const classes = backend.info.classes?.length;
  if (classes !== undefined && classes !== size) throw new Error(`the model gives ${size} logits per image but names ${classes} classes`);
  return size;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker-main.js must run in a worker thread');
  const { source } = workerData as WorkerInit;
  let backend: Backend;
  let info: ModelInfo;
  try {
    const t0 = performance.now();
    backend = source.backend === 'torch' ? await loadTorchBackend(source.path, source.batching.threads) : await loadOnnxBackend(source.path, source.batching.threads);
    info = { ...backend.info, output: { ...backend.info.output, size: await warmUp(backend, source.batching.maxBatchSize) } };
    port.postMessage({ type: 'ready', info, loadMs: performance.now() - t0 } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: 'init-error', message: message(e) } satisfies FromWorker);
    port.close();
    return;
  }
  port.on('message', async (m: ToWorker) => {
    if (m.type === 'close') {
      await backend.dispose();
      port.close();
      return;
    }
    const t0 = performance.now();
    try {
      const logits = await backend.infer(m.batch, m.shape);
      if (logits.length !== m.shape[0] * info.output.size) throw new Error(`the model gave ${logits.length} outputs for a batch of ${m.shape[0]}; expected ${m.shape[0] * info.output.size}`);
      port.postMessage({ type: 'result', id: m.id, logits, ms: performance.now() - t0 } satisfies FromWorker, [logits.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'failed', id: m.id, message: message(e) } satisfies FromWorker);
    }
  });
}

await main();
