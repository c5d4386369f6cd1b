// What `tessera export --quantize` reports for the fp32 and the int8 file alike, both measured in
// ONNX Runtime with the same session settings: latency at a batch size, accuracy over a labelled
// source, and the graph ORT really runs (its optimized model, read back), which says whether the
// QDQ groups became integer kernels (QLinearConv, QGemm, …) or stayed float.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fromBinary } from '@bufbuild/protobuf';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';

import { disposeBatch, type BatchSource } from '../data/types.js';
import { ModelProtoSchema } from './generated/onnx_pb.js';

type Ort = typeof import('onnxruntime-node');

export interface SessionSettings {
  /** Intra-op threads (default: ONNX Runtime's choice, one per physical core); inter-op is 1. */
  threads?: number;
}

export interface Latency {
  batch: number;
  /** Median over `runs` timed runs, after warm-up. */
  medianMs: number;
  runs: number;
}

/** One ONNX model in an ONNX Runtime session (graph optimizations on, as deployed). */
export class OrtModel {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    /** The op types of the graph ORT runs, counted (its optimized model). */
    readonly optimizedOps: Readonly<Record<string, number>>,
  ) {}

  static async load(bytes: Uint8Array, settings: SessionSettings = {}): Promise<OrtModel> {
    const ort: Ort = await import('onnxruntime-node');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ort-'));
    try {
      const optimizedModelFilePath = join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: 'all',
        optimizedModelFilePath,
        logSeverityLevel: 3, // not the warning that a saved 'all'-level graph is specific to this CPU: it is only read back here
        ...(settings.threads ? { intraOpNumThreads: settings.threads, interOpNumThreads: 1 } : {}),
      });
      if (session.inputNames.length !== 1) {
        await session.release();
        throw new RangeError(`the model takes ${session.inputNames.length} inputs; measuring needs one`);
      }
      const ops: Record<string, number> = {};
      for (const n of fromBinary(ModelProtoSchema, readFileSync(optimizedModelFilePath)).graph?.node ?? []) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
      return new OrtModel(ort, session, ops);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Logits for one batch (N, …) → the first output as numbers, with its dims. */
  async run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: number[] }> {
    const name = this.session.inputNames[0] as string;
    const out = await this.session.run({ [name]: new this.ort.Tensor('float32', data, dims) });
    const y = out[this.session.outputNames[0] as string] as OrtTensor;
    return { data: y.data as Float32Array, dims: y.dims.map(Number) };
  }

  /** Median latency of one run at `dims` (random normal inputs), after `warmup` untimed runs. */
  async latency(dims: readonly number[], o: { runs?: number; warmup?: number } = {}): Promise<Latency> {
    const runs = o.runs ?? 20;
    const size = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 1.5); // fixed, spread over the usual normalised range
    for (let i = 0; i < (o.warmup ?? 3); i++) await this.run(data, dims);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await this.run(data, dims);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const medianMs = times.length % 2 ? (times[mid] as number) : ((times[mid - 1] as number) + (times[mid] as number)) / 2;
    return { batch: dims[0] as number, medianMs, runs };
  }

  /** Top-1 accuracy over one pass of a labelled source (inputs as the run's preprocessing makes them). */
  async accuracy(source: BatchSource): Promise<{ correct: number; total: number; accuracy: number }> {
    let correct = 0;
    let total = 0;
    for await (const batch of source.epoch(0)) {
      try {
        const x = batch.x.contiguous();
        const labels = batch.y.data() as BigInt64Array;
        const { data, dims } = await this.run(x.data() as Float32Array, x.shape);
        x.dispose();
        const k = dims[1] as number;
        for (let i = 0; i < (dims[0] as number); i++) {
          let best = 0;
          for (let j = 1; j < k; j++) if ((data[i * k + j] as number) > (data[i * k + best] as number)) best = j;
          if (BigInt(best) === labels[i]) correct++;
          total++;
        }
      } finally {
        disposeBatch(batch);
      }
    }
    if (total === 0) throw new RangeError('accuracy: the source gave no samples');
    return { correct, total, accuracy: correct / total };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
