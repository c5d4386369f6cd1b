// The body of one loader worker thread: rebuild the pipeline from its workerSpec, say 'ready', then
// run one sample at a time and send the pixels back, transferring (not copying) their buffer.
import { parentPort, workerData } from 'node:worker_threads';

import type { RawImage, SampleContext, SampleInput, SamplePipeline } from '../types.js';
import { errorReason } from './bad-samples.js';

export interface WorkerSpec {
  module: string;
  export: string;
  args: unknown;
}

export type ToWorker = { id: number; input: SampleInput; mask?: SampleInput; ctx: SampleContext };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'done'; id: number; image: RawImage; mask?: RawImage }
  | { type: 'failed'; id: number; reason: string };

/** The image's pixels in a buffer of their own, which postMessage can hand over without copying. */
function transferable(image: RawImage): { image: RawImage; transfer: ArrayBuffer[] } {
  let data = image.data;
  if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || !(data.buffer instanceof ArrayBuffer)) data = new Uint8Array(data);
  return { image: { data, width: image.width, height: image.height, channels: image.channels }, transfer: [data.buffer as ArrayBuffer] };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker-main.js must run in a worker thread');
  const spec = workerData as WorkerSpec;
  let pipeline: SamplePipeline;
  try {
    const mod = (await import(spec.module)) as Record<string, unknown>;
    const factory = mod[spec.export];
    if (typeof factory !== 'function') throw new Error(`${spec.module} has no exported function '${spec.export}' (exports: ${Object.keys(mod).join(', ') || 'none'})`);
    pipeline = (await (factory as (args: unknown) => SamplePipeline | Promise<SamplePipeline>)(spec.args));
    if (!pipeline || typeof pipeline.run !== 'function') throw new Error(`${spec.module}#${spec.export}(args) did not return a SamplePipeline (no run method)`);
  } catch (e) {
    port.postMessage({ type: 'init-error', message: errorReason(e) } satisfies FromWorker);
    return;
  }
  const run = (m: ToWorker): Promise<{ image: RawImage; mask?: RawImage }> => {
    if (!m.mask) return pipeline.run(m.input, m.ctx).then((image) => ({ image }));
    if (!pipeline.runWithMask) return Promise.reject(new Error(`${spec.module}#${spec.export} makes a pipeline that cannot transform masks`));
    return pipeline.runWithMask(m.input, m.mask, m.ctx);
  };
  port.on('message', (m: ToWorker) => {
    run(m).then(
      (out) => {
        const { image, transfer } = transferable(out.image);
        const mask = out.mask ? transferable(out.mask) : undefined;
        const message = { type: 'done', id: m.id, image, ...(mask ? { mask: mask.image } : {}) } satisfies FromWorker;
        try {
          port.postMessage(message, [...transfer, ...(mask?.transfer ?? [])]);
        } catch {
          port.postMessage(message); // buffer not transferable (external memory): copy
        }
      },
      (e: unknown) => port.postMessage({ type: 'failed', id: m.id, reason: errorReason(e) } satisfies FromWorker),
    );
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

await main();
