// `tessera export`: a trained run (model.json + model.safetensors, src/run/saved-model.ts) as a file
// to deploy. ONNX by default, checked in ONNX Runtime against the model before it is written;
// safetensors (the weights with the metadata) and PyTorch .pt (src/io's writer) on request.
//
// The ONNX graph is a trace of the function eval and predict run on each batch (the inference
// pass's inferenceForward): for a run that saved `testFlip`, the mean of the logits for the image
// and for its mirror image, so the file answers as `tessera eval` does. Metadata `test_time_flip`
// (present when the run evaluates so) says whether the file computes it ("true") or leaves it to
// the user ("false": weights-only formats, or --no-test-flip).
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../io/atomic.js';
import { saveStateDict } from '../io/state-dict.js';
import { loadRunModel } from '../run/saved-model.js';
import { randn } from '../tensor/generated/ops.js';
import { getRngState, manualSeed, setRngState } from '../tensor/random.js';
import { inferenceForward } from '../train/inference.js';
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
  /**
   * ONNX: put the run's test-time flip into the graph (default: when the run saved `testFlip`);
   * false exports the plain model. True for a run without one is an error.
   */
  testFlip?: boolean;
}

export interface ExportRunResult {
  path: string;
  format: ExportFormat;
  bytes: number;
  /** ONNX only. */
  opset?: number;
  foldedBatchNorms?: number;
  comparison?: OnnxComparison[];
  /** The run's test-time flip: 'in-file' when the ONNX graph computes it, 'left-out' when it is the user's to apply; absent when the run has none. */
  testFlip?: 'in-file' | 'left-out';
}

/** The input layout every zoo model takes. */
const LAYOUT = 'NCHW';

export function defaultOutput(runDir: string, format: ExportFormat): string {
  return join(runDir, format === 'safetensors' ? 'model.export.safetensors' : `model.${format}`);
}

/** What runToOnnx needs of a loaded run (loadRunModel). */
export type LoadedRun = Pick<ReturnType<typeof loadRunModel>, 'model' | 'name' | 'preprocessing' | 'testFlip' | 'dir'>;

/** Whether the export computes the run's test-time flip: the run's choice unless `wanted` says otherwise. */
function exportsTestFlip(run: Pick<LoadedRun, 'testFlip' | 'dir'>, wanted: boolean | undefined): boolean {
  if (wanted === true && !run.testFlip) throw new Error(`the run ${run.dir} does not evaluate with a test-time flip (its model.json has no testFlip), so the export has none to include`);
  return run.testFlip === true && wanted !== false;
}

/** Metadata `test_time_flip` (see the header): absent for a run without one. */
function testFlipMetadata(run: Pick<LoadedRun, 'testFlip'>, inFile: boolean): Record<string, string> {
  return run.testFlip ? { test_time_flip: String(inFile) } : {};
}

/**
 * The run's model as ONNX — what eval computes per batch, with the run's test-time flip unless
 * `testFlip` is false — with the metadata that makes the file usable alone (classes, layout,
 * preprocessing, zoo name, test_time_flip); unless `verify` is false, run in ONNX Runtime next to
 * the same function at batch 1 and 7, and refused (an error) when they disagree.
 */
export async function runToOnnx(run: LoadedRun, options: { opset?: number; verify?: boolean; testFlip?: boolean } = {}): Promise<{ exported: OnnxExport; comparison?: OnnxComparison[]; testFlip: boolean }> {
  const { model, name, preprocessing } = run;
  const flip = exportsTestFlip(run, options.testFlip);
  // What eval and predict compute per batch, in float32 (an export is fp32 whatever the run's autocast).
  const forward = inferenceForward(model, { flip });
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
      opset: options.opset ?? MAX_OPSET, classes: [...preprocessing.classes], inputLayout: LAYOUT, preprocessing: preprocessing.toJSON(), forward,
      metadata: { model: name, ...testFlipMetadata(run, flip) },
    });
    if (options.verify ?? true) comparison = await compareWithOnnxRuntime(model, exported.bytes, [[inputs[1]], [inputs[2]]], { forward });
  } finally {
    inputs.forEach((x) => x.dispose());
  }
  const bad = comparison?.find((c) => !c.ok);
  if (bad) throw new Error(`the exported model does not match the Tessera model in ONNX Runtime at batch ${bad.batch} (max |Δ| ${bad.maxAbsDiff.toExponential(2)}); nothing written (--no-verify writes it anyway)`);
  return { exported, ...(comparison ? { comparison } : {}), testFlip: flip };
}

export async function exportRun(runPath: string, options: ExportRunOptions = {}): Promise<ExportRunResult> {
  const format = options.format ?? 'onnx';
  if (!EXPORT_FORMATS.includes(format)) throw new RangeError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(format)}'`);
  // The run's saved eval-time preprocessing goes into the file as it is (its JSON form), so the file
  // alone says how to turn an image into the model's input.
  const run = loadRunModel(runPath);
  const { model, name, preprocessing, dir } = run;
  const classes = [...preprocessing.classes];
  const out = options.out ?? defaultOutput(dir, format);
  try {
    if (format !== 'onnx') {
      // Weights only: the flip cannot be in the file (asking for it is an error); the metadata says it is the user's to apply.
      if (options.testFlip === true) throw new Error(`--format ${format} holds the weights only: a test-time flip cannot be part of it (export ONNX for that)`);
      const flipped = run.testFlip ? { testFlip: 'left-out' as const } : {};
      const metadata = { model: name, classes: JSON.stringify(classes), input_layout: LAYOUT, preprocessing: JSON.stringify(preprocessing.toJSON()), ...testFlipMetadata(run, false) };
      saveStateDict(out, model, format === 'safetensors' ? { format, metadata } : { format });
      return { path: out, format, bytes: statSync(out).size, ...flipped };
    }
    const { exported, comparison, testFlip: flip } = await runToOnnx(run, options);
    const { bytes, opset, foldedBatchNorms } = exported;
    writeFileAtomic(out, [bytes]);
    return { path: out, format, bytes: bytes.length, opset, foldedBatchNorms, ...(comparison ? { comparison } : {}), ...(run.testFlip ? { testFlip: flip ? 'in-file' : 'left-out' } : {}) };
  } finally {
    model.dispose();
  }
}
