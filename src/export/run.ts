// `tessera export`: a trained run (model.json + model.safetensors, src/run/saved-model.ts) as a file
// to deploy. ONNX by default, checked in ONNX Runtime against the model before it is written;
// safetensors (the weights with the metadata) and PyTorch .pt (src/io's writer) on request.
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../io/atomic.js';
import { saveStateDict } from '../io/state-dict.js';
import { loadRunModel } from '../run/saved-model.js';
import { randn } from '../tensor/generated/ops.js';
import { getRngState, manualSeed, setRngState } from '../tensor/random.js';
import { exportOnnx, MAX_OPSET, type OnnxExport } from './onnx.js';
import { compareWithOnnxRuntime, type OnnxComparison } from './verify.js';

export const EXPORT_FORMATS = ['onnx', 'safetensors', 'pt'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRunOptions {
  format?: ExportFormat;
  /** The file to write (default: next to the run's model, see defaultOutput). */
  out?: string;
  /** ONNX opset (default 17). */
  opset?: number;
  /** ONNX: run the file in ONNX Runtime at batch 1 and 7 and refuse to write it unless it matches the model (default true). */
  verify?: boolean;
}

export interface ExportRunResult {
  path: string;
  format: ExportFormat;
  bytes: number;
  /** ONNX only. */
  opset?: number;
  foldedBatchNorms?: number;
  comparison?: OnnxComparison[];
}

/** The input layout every zoo model takes. */
const LAYOUT = 'NCHW';

export function defaultOutput(runDir: string, format: ExportFormat): string {
  return join(runDir, format === 'safetensors' ? 'model.export.safetensors' : `model.${format}`);
}

/** What runToOnnx needs of a loaded run (loadRunModel). */
export type LoadedRun = Pick<ReturnType<typeof loadRunModel>, 'model' | 'name' | 'preprocessing'>;

/**
 * The run's model as ONNX, with the metadata that makes the file usable alone (classes, layout,
 * preprocessing, zoo name); unless `verify` is false, run in ONNX Runtime next to the model at batch
 * 1 and 7, and refused (an error) when they disagree.
 */
export async function runToOnnx(run: LoadedRun, options: { opset?: number; verify?: boolean } = {}): Promise<{ exported: OnnxExport; comparison?: OnnxComparison[] }> {
  const { model, name, preprocessing } = run;
  const { channels, height, width } = preprocessing.input;
  // The example and check inputs are the same on every run, without disturbing the caller's generator.
  const rng = getRngState();
  manualSeed(0);
  const sample = (batch: number) => randn([batch, channels, height, width]);
  const inputs = [sample(2), sample(1), sample(7)] as const;
  setRngState(rng);
  rng.dispose();
  let comparison: OnnxComparison[] | undefined;
  let exported: OnnxExport;
  try {
    exported = exportOnnx(model, inputs[0], {
      opset: options.opset ?? MAX_OPSET, classes: [...preprocessing.classes], inputLayout: LAYOUT, preprocessing: preprocessing.toJSON(), metadata: { model: name },
    });
    if (options.verify ?? true) comparison = await compareWithOnnxRuntime(model, exported.bytes, [[inputs[1]], [inputs[2]]]);
  } finally {
    inputs.forEach((x) => x.dispose());
  }
  const bad = comparison?.find((c) => !c.ok);
  if (bad) throw new Error(`the exported model does not match the Tessera model in ONNX Runtime at batch ${bad.batch} (max |Δ| ${bad.maxAbsDiff.toExponential(2)}); nothing written (--no-verify writes it anyway)`);
  return { exported, ...(comparison ? { comparison } : {}) };
}

export async function exportRun(runPath: string, options: ExportRunOptions = {}): Promise<ExportRunResult> {
  const format = options.format ?? 'onnx';
  if (!EXPORT_FORMATS.includes(format)) throw new RangeError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(format)}'`);
  // The run's saved eval-time preprocessing goes into the file as it is (its JSON form), so the file
  // alone says how to turn an image into the model's input.
  const { model, name, preprocessing, dir } = loadRunModel(runPath);
  const classes = [...preprocessing.classes];
  const out = options.out ?? defaultOutput(dir, format);
  try {
    if (format !== 'onnx') {
      const metadata = { model: name, classes: JSON.stringify(classes), input_layout: LAYOUT, preprocessing: JSON.stringify(preprocessing.toJSON()) };
      saveStateDict(out, model, format === 'safetensors' ? { format, metadata } : { format });
      return { path: out, format, bytes: statSync(out).size };
    }
    const { exported, comparison } = await runToOnnx({ model, name, preprocessing }, options);
    const { bytes, opset, foldedBatchNorms } = exported;
    writeFileAtomic(out, [bytes]);
    return { path: out, format, bytes: bytes.length, opset, foldedBatchNorms, ...(comparison ? { comparison } : {}) };
  } finally {
    model.dispose();
  }
}
