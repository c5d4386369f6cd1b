// `tessera export <run> --quantize int8 --calibrate <source>`: the run's model as a static int8 ONNX
// file (QDQ, quantize.ts), calibrated on images prepared by the run's saved preprocessing, and
// measured next to the fp32 export in ONNX Runtime — file size, latency at batch 1 and 32, accuracy
// on the run's validation split (the test split when it held none out) — and not written when the
// accuracy drops by more than the limit, unless forced.
//
// Calibration images: from the run's own training split when <source> is the run's source (so the
// split that measures accuracy stays unseen), else from the source's training part; N of them,
// evenly spaced through it (every class of a class-sorted folder is represented), the first N of a
// stream.
import { join, resolve } from 'node:path';

import { openSource, trainingPart } from '../data/pipeline/open.js';
import type { Preprocessing } from '../data/pipeline/preprocessing.js';
import { subset } from '../data/subset.js';
import { disposeBatch, type Dataset } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { modelInfo } from '../models/registry.js';
import { measurementSplit, openRunSplits } from '../run/run-split.js';
import { loadRunModel } from '../run/saved-model.js';
import { CALIBRATION_METHODS, type CalibrationMethod, type InputBatch } from './calibrate.js';
import { quantizeOnnx, type QuantizationSummary } from './quantize.js';
import { OrtModel, type Latency } from './quantize-measure.js';
import { runToOnnx } from './run.js';
import type { OnnxComparison } from './verify.js';

export interface QuantizeRunOptions {
  /** Where calibration images come from (any source `tessera train` reads). */
  calibrate: string;
  /** Default 512. */
  calibrationSamples?: number;
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** 'percentile' only (default 99.999). */
  percentile?: number;
  /** The largest accepted fall in top-1 accuracy, as a fraction (default 0.01: one point). */
  maxAccuracyDrop?: number;
  /** Write the file even when the accuracy falls by more than maxAccuracyDrop. */
  force?: boolean;
  /** Default: model.int8.onnx in the run directory. */
  out?: string;
  opset?: number;
  /** Check the fp32 export against the model first (default true). */
  verify?: boolean;
  /** Put the run's test-time flip into the graph (default: when the run saved `testFlip`); calibration and measurement run the same graph. */
  testFlip?: boolean;
  /** ONNX Runtime intra-op threads for calibration and measurement, the same for both files (default: ORT's choice). */
  threads?: number;
  /** Timed runs per latency (default 20). */
  latencyRuns?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface ModelFigures {
  bytes: number;
  latency: Latency[];
  accuracy: number;
}

export interface QuantizeRunResult {
  path: string;
  /** False when refused: the accuracy fell by more than the limit and force was not given. */
  written: boolean;
  /** Why it was not written. */
  refusal?: string;
  /** Written by force although the accuracy fell by more than the limit. */
  forced: boolean;
  fp32: ModelFigures;
  int8: ModelFigures;
  /** fp32 accuracy − int8 accuracy. */
  accuracyDrop: number;
  maxAccuracyDrop: number;
  measuredOn: { split: 'validation' | 'test'; samples: number };
  calibration: { source: string; what: string; samples: number; method: CalibrationMethod; percentile?: number };
  summary: QuantizationSummary;
  /** Op types of the graph ONNX Runtime runs for the int8 file, counted. */
  int8Ops: Record<string, number>;
  /** Float convolutions and matrix products left in that graph (empty when every one fused). */
  leftInFloat: Record<string, number>;
  opset: number;
  comparison?: OnnxComparison[];
  /** The run's test-time flip: 'in-file' when both graphs compute it, 'left-out' when not; absent when the run has none. */
  testFlip?: 'in-file' | 'left-out';
}

const FLOAT_COMPUTE = new Set(['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul', 'ConvTranspose']);

export function defaultInt8Output(runDir: string): string {
  return join(runDir, 'model.int8.onnx');
}

export async function quantizeRun(runPath: string, options: QuantizeRunOptions): Promise<QuantizeRunResult> {
  const samples = options.calibrationSamples ?? 512;
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`--calibration-samples must be a positive integer, got ${samples}`);
  const method = options.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) throw new RangeError(`--calibration-method must be one of ${CALIBRATION_METHODS.join(', ')}, got '${String(method)}'`);
  const maxDrop = options.maxAccuracyDrop ?? 0.01;
  if (!(maxDrop >= 0 && maxDrop <= 1)) throw new RangeError(`--max-accuracy-drop must be a fraction from 0 to 1, got ${maxDrop}`);
  const log = options.log ?? (() => {});
  const threads = options.threads ? { threads: options.threads } : {};

  const loaded = loadRunModel(runPath);
  const { preprocessing, dir } = loaded;
  try {
    const task = modelInfo(loaded.name).task;
    if (task !== 'classify') throw new Error(`int8 export measures classification accuracy; ${loaded.name} is a '${task}' model`);
    const splits = await openRunSplits(dir);
    try {
      const measured = measurementSplit(splits);
      const { exported, comparison, testFlip } = await runToOnnx(loaded, options);

      const own = options.calibrate === splits.config.data.source || resolve(options.calibrate) === resolve(splits.config.data.source);
      const batches = own
        ? await calibrationBatches(splits.pipeline.trainSet, preprocessing, samples)
        : await withSource(options.calibrate, (d) => calibrationBatches(d, preprocessing, samples));
      const seen = batches.reduce((n, b) => n + (b.dims[0] as number), 0);
      const what = own ? `${seen} images of the run's training split` : `${seen} images of ${options.calibrate}`;
      log(`calibrating on ${what} (${method})`);
      const calibration = { source: options.calibrate, what, samples: seen, method, ...(method === 'percentile' ? { percentile: options.percentile ?? 99.999 } : {}) };
      const about = { format: 'QDQ', weights: 'int8, symmetric, per output channel', activations: 'uint8, asymmetric, per tensor', calibration: { method, samples: seen, ...(calibration.percentile ? { percentile: calibration.percentile } : {}) } };
      const { bytes: int8Bytes, summary } = await quantizeOnnx(exported.bytes, batches, {
        method,
        ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
        ...threads,
        metadata: { quantization: JSON.stringify(about) },
      });

      log(`measuring both files in ONNX Runtime on the ${measured.name} split`);
      const loader = await preprocessing.loader(measured.dataset, { batchSize: 64 });
      const { channels, height, width } = preprocessing.input;
      const measure = async (bytes: Uint8Array) => {
        const m = await OrtModel.load(bytes, threads);
        try {
          const runs = { runs: options.latencyRuns ?? 20 };
          const latency = [await m.latency([1, channels, height, width], runs), await m.latency([32, channels, height, width], { runs: Math.max(3, Math.ceil(runs.runs / 2)) })];
          const acc = await m.accuracy(loader);
          return { figures: { bytes: bytes.length, latency, accuracy: acc.accuracy }, correct: acc.correct, total: acc.total, ops: m.optimizedOps };
        } finally {
          await m.release();
        }
      };
      let fp32: Awaited<ReturnType<typeof measure>>;
      let int8: Awaited<ReturnType<typeof measure>>;
      try {
        fp32 = await measure(exported.bytes);
        int8 = await measure(int8Bytes);
      } finally {
        await loader.close();
      }
      const leftInFloat = Object.fromEntries(Object.entries(int8.ops).filter(([op]) => FLOAT_COMPUTE.has(op)));
      const drop = (fp32.correct - int8.correct) / fp32.total; // from the counts: 2/200 is exactly the 0.01 a user types
      const path = options.out ?? defaultInt8Output(dir);
      const refused = drop > maxDrop && !options.force;
      const refusal = refused
        ? `int8 accuracy ${pct(int8.figures.accuracy)} is ${(drop * 100).toFixed(2)} points below fp32's ${pct(fp32.figures.accuracy)}, more than --max-accuracy-drop ${maxDrop}; nothing written (--force writes it anyway)`
        : undefined;
      if (!refused) writeFileAtomic(path, [int8Bytes]);
      return {
        path,
        written: !refused,
        forced: drop > maxDrop && !refused,
        ...(refusal ? { refusal } : {}),
        fp32: fp32.figures,
        int8: int8.figures,
        accuracyDrop: drop,
        maxAccuracyDrop: maxDrop,
        measuredOn: { split: measured.name, samples: fp32.total },
        calibration,
        summary,
        int8Ops: int8.ops,
        leftInFloat,
        opset: exported.opset,
        ...(comparison ? { comparison } : {}),
        ...(loaded.testFlip ? { testFlip: testFlip ? ('in-file' as const) : ('left-out' as const) } : {}),
      };
    } finally {
      splits.close();
    }
  } finally {
    loaded.model.dispose();
  }
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

async function withSource<T>(source: string, fn: (d: Dataset) => Promise<T>): Promise<T> {
  const opened = await openSource({ source }, { shuffleShards: false });
  try {
    return await fn(opened.parts.length === 1 ? (opened.parts[0] as { dataset: Dataset }).dataset : trainingPart(opened));
  } finally {
    opened.dispose();
  }
}

/** Up to `n` images of `d` as the model's inputs, in batches of 32 (see the header for which ones). */
async function calibrationBatches(d: Dataset, preprocessing: Preprocessing, n: number): Promise<InputBatch[]> {
  const picked = d.kind === 'indexed' && d.length > n ? subset(d, Array.from({ length: n }, (_, k) => Math.floor((k * d.length) / n))) : d;
  const loader = await preprocessing.loader(picked, { batchSize: 32 });
  const batches: InputBatch[] = [];
  let count = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      try {
        const x = batch.x.contiguous();
        const [rows, ...sample] = x.shape as [number, ...number[]];
        const take = Math.min(rows, n - count);
        const data = (x.data() as Float32Array).slice(0, take * sample.reduce((a, b) => a * b, 1));
        x.dispose();
        batches.push({ data, dims: [take, ...sample] });
        count += take;
      } finally {
        disposeBatch(batch);
      }
      if (count >= n) break;
    }
  } finally {
    await loader.close();
  }
  if (count === 0) throw new Error(`no calibration images: ${d.describe()} gave none`);
  return batches;
}
