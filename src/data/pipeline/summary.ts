// `summary()`: one sample walked through every step of a set-up pipeline — read from the source,
// each per-sample step (decode, resize, crop, flips), collation into a batch with the samples after
// it, and each batch step (crop/flip, normalise, erase, mix, layout) — with the size, dtype and time
// after each, stopping at the step that fails and naming it. What `tessera data explain` prints.
// The batch it collates is made by the loader itself (the native JPEG kernel or the folded
// per-sample pipeline, or the tensor gather of the fast path), so a step that fails here fails
// there; which way each sample takes (jpeg-plan.ts) is shown too.
import { isTensorBacked } from '../loader/array-dataset.js';
import { BadSampleError } from '../loader/bad-samples.js';
import { collate, collateTargets } from '../loader/collate.js';
import { planJpegPath } from '../loader/jpeg-plan.js';
import { DataLoader } from '../loader/loader.js';
import type { XY } from '../transforms/batch.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Dataset, IndexedDataset, SampleContext, SamplePipeline, SampleRecord } from '../types.js';
import type { BatchStep } from './batch-steps.js';
import type { DataPipeline } from './pipeline.js';

export interface ExplainStep {
  /** `read`, a per-sample step (`decode(…)`, `resize(…)`), `collate`, or a batch step's name. */
  step: string;
  /** What came out, e.g. `64x64x3` or `x float32 [4, 3, 64, 64], y int64 [4]`. */
  output?: string;
  ms: number;
  error?: string;
}

export interface ExplainOptions {
  split?: 'train' | 'val' | 'test';
  /** The sample's position in the split (default 0). */
  index?: number;
  /** Samples collated into the batch: the sample and the ones after it (default 4). */
  batch?: number;
}

export interface PipelineExplanation {
  ok: boolean;
  /** The step that failed, when one did. */
  failed?: string;
  steps: ExplainStep[];
  text: string;
}

const describeTensor = (t: Tensor) => `${t.dtype} [${t.shape.join(', ')}]${t.ndim === 4 && t.isContiguous('channelsLast') && !t.isContiguous() ? ' channels_last' : ''}`;
const describeXY = (b: XY) => `x ${describeTensor(b.x)}, y ${describeTensor(b.y)}`;

/**
 * The records as a batch, made by a DataLoader over just them (each at its own index, so its random
 * draws are the ones training makes), policy 'fail': the uint8 batch before any batch step.
 */
async function loaderBatch(records: readonly (SampleRecord & { index: number })[], pipeline: SamplePipeline, classes: readonly string[], seed: number): Promise<XY> {
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const length = Math.max(...byIndex.keys()) + 1;
  const d: IndexedDataset = {
    kind: 'indexed', length, classes,
    labels: () => Int32Array.from({ length }, (_, i) => byIndex.get(i)?.label ?? -1),
    read: async (i) => byIndex.get(i) as SampleRecord,
    describe: () => 'the explained samples',
  };
  const sampler = { length: records.length, indices: () => Int32Array.from(records, (r) => r.index), describe: () => 'the explained samples, in order' };
  const loader = new DataLoader(d, { batchSize: records.length, sampler, seed, pipeline, batchTransforms: [], badSamples: { policy: 'fail' } });
  try {
    for await (const b of loader.epoch(0)) return { x: b.x, y: b.y };
  } catch (e) {
    if (e instanceof BadSampleError) throw new Error(`batch sample ${e.sample.id}: ${e.sample.reason}`);
    throw e;
  } finally {
    await loader.close();
  }
  throw new Error('the loader made no batch of the explained samples');
}

/** How the loader decodes this sample: the JPEG kernel (with its crop, resize and flip) or sharp. */
function samplePath(pipeline: SamplePipeline, r: SampleRecord, ctx: SampleContext, steps: readonly BatchStep[], workers: number): string {
  const plan = planJpegPath(pipeline, steps.map((s) => s.transform), workers);
  if (!plan.native) return plan.describe();
  const s = r.input.kind === 'encoded' ? plan.sample(r.input.bytes, ctx, r.id) : undefined;
  if (!s?.crop || !s.resize) return 'sharp: the JPEG kernel does not take this sample (not a JPEG it reads, or its geometry does not fold)';
  const c = s.crop;
  return `native JPEG kernel: crop ${c.width}x${c.height}+${c.left}+${c.top} → resize ${s.resize.width}x${s.resize.height} → ${plan.width}x${plan.height} at ${s.offset?.left ?? 0},${s.offset?.top ?? 0}${s.flip ? ', flipped' : ''}${plan.fused ? `, ${steps[0]?.name} fused` : ''}`;
}

/** Records `count` of them from position `at` (a stream is read from its start). */
async function recordsOf(d: Dataset, at: number, count: number): Promise<(SampleRecord & { index: number })[]> {
  if (d.kind === 'indexed') {
    if (at >= d.length) throw new RangeError(`index ${at} is past the last sample (${d.length} samples)`);
    const n = Math.min(count, d.length - at);
    return Promise.all(Array.from({ length: n }, async (_, k) => ({ ...(await d.read(at + k)), index: at + k })));
  }
  const out: (SampleRecord & { index: number })[] = [];
  const stop = new AbortController();
  let k = 0;
  try {
    for await (const r of d.stream({ epoch: 0, seed: 0, rank: 0, worldSize: 1, signal: stop.signal })) {
      if (k++ >= at) out.push(r);
      if (out.length >= count) break;
    }
  } finally {
    stop.abort();
  }
  if (out.length === 0) throw new RangeError(`index ${at} is past the end of the stream (${k} samples)`);
  return out;
}

export async function explainPipeline(p: DataPipeline, o: ExplainOptions = {}): Promise<PipelineExplanation> {
  const split = o.split ?? 'train';
  const index = o.index ?? 0;
  const size = Math.max(1, o.batch ?? 4);
  const train = split === 'train';
  const steps: ExplainStep[] = [];
  const header = [
    `source: ${p.opened.spec.source} (${p.opened.format}), ${p.classes.length} classes`,
    ...p.notes.map((n) => `  ${n}`),
  ];
  const run = async <T>(step: string, f: () => Promise<T> | T, output: (v: T) => string): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      const v = await f();
      steps.push({ step, output: output(v), ms: performance.now() - t0 });
      return v;
    } catch (e) {
      steps.push({ step, ms: performance.now() - t0, error: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  };
  const finish = (): PipelineExplanation => {
    const failed = steps.find((s) => s.error);
    const lines = [...header, `walking ${split} sample ${index} through the pipeline:`];
    steps.forEach((s, k) => lines.push(`  ${String(k).padStart(2)}  ${s.step.padEnd(58)} ${s.error ? `FAILED: ${s.error}` : s.output}  ${s.ms.toFixed(1)} ms`));
    lines.push(failed ? `step "${failed.step}" failed; later steps did not run` : `ok: the model gets ${p.preprocessing.input.channels}×${p.preprocessing.input.height}×${p.preprocessing.input.width} float32 inputs, ${p.classes.length} classes`);
    return { ok: !failed, ...(failed ? { failed: failed.step } : {}), steps, text: lines.join('\n') };
  };

  const d = split === 'train' ? p.trainSet : split === 'val' ? p.valSet : p.testSet;
  if (!d) {
    steps.push({ step: `${split} split`, ms: 0, error: `this pipeline has no ${split} split` });
    return finish();
  }
  header.push(`${split}: ${d.describe()}`);
  const records = await run('read', () => recordsOf(d, index, size), (rs) => {
    const r = rs[0] as SampleRecord;
    const stored = r.input.kind === 'encoded' ? `${r.input.bytes.length.toLocaleString('en-US')} bytes encoded` : `pixels ${r.input.image.width}x${r.input.image.height}x${r.input.image.channels}`;
    const t = r.target;
    const label = t?.kind === 'mask' ? 'a mask' : t?.kind === 'labels' ? `labels [${p.classes.filter((_, k) => t.labels[k]).join(', ')}]` : `label ${r.label} (${p.classes[r.label] ?? 'none'})`;
    return `${r.id}: ${label}, ${stored}`;
  });
  if (!records) return finish();
  const first = records[0] as SampleRecord & { index: number };
  const ctx = { seed: p.spec.loader.seed, epoch: 0, index: first.index };

  // Per-sample steps, one at a time (the loader folds the leading crops and resizes into decoding).
  const pipeline = train ? p.trainSamplePipeline() : p.preprocessing.isInputSized(first) ? undefined : p.preprocessing.samplePipeline();
  if (pipeline) {
    const s = await pipeline.summary(first.input, ctx, first.id);
    steps.push(...s.steps.map((x) => ({ step: x.step, ms: x.ms, ...(x.error ? { error: x.error } : { output: `${x.width}x${x.height}x${x.channels}` }) })));
    if (!s.ok) return finish();
  } else steps.push({ step: 'per-sample pipeline', output: 'none: stored pixels are the input size', ms: 0 });

  // Which way the loader decodes it, then collation with the samples after it, by the loader.
  const batchSteps = await run('batch steps', (): BatchStep[] => (train ? p.trainBatchSteps() : p.preprocessing.batchSteps()), (s) => s.map((x) => x.name).join(', ') || 'none');
  if (!batchSteps) return finish();
  if (pipeline) steps.push({ step: 'loader path', output: samplePath(pipeline, first, ctx, batchSteps, p.spec.loader.workers), ms: 0 });
  const indices = records.map((r) => r.index);
  let fromLoader: XY | undefined;
  try {
    await scope(async () => {
      const gathered = !pipeline && d.kind === 'indexed' && isTensorBacked(d);
      const collated = await run(gathered ? 'collate (tensor gather)' : 'collate', async () => {
        if (gathered) return (d as unknown as { gatherBatch(i: Int32Array): XY }).gatherBatch(Int32Array.from(indices));
        if (pipeline) return (fromLoader = await loaderBatch(records, pipeline, p.classes, ctx.seed));
        const samples = records.map((r) => {
          if (r.input.kind !== 'pixels') throw new Error(`${r.id} holds encoded bytes but the pipeline has no per-sample steps to decode them`);
          if (r.target?.kind === 'mask') throw new Error(`batch sample ${r.id}: it has a mask, but the pipeline cannot transform masks`);
          return { image: r.input.image, label: r.label, id: r.id, index: r.index, ...(r.target?.kind === 'labels' ? { labels: r.target.labels } : {}) };
        });
        return { x: collate(samples.map((x) => x.image), samples.map((x) => x.id)), y: collateTargets(samples) };
      }, (b) => `${records.length} sample${records.length === 1 ? '' : 's'}: ${describeXY(b)}`);
      let b: XY | undefined = collated;
      for (const [position, s] of batchSteps.entries()) {
        if (!b) break;
        const cur: XY = b;
        b = await run(s.name, () => s.transform(cur, { seed: ctx.seed, epoch: 0, batch: 0, indices, position }), describeXY);
      }
    });
  } finally {
    fromLoader?.x.dispose();
    fromLoader?.y.dispose();
  }
  return finish();
}
