// `tessera export <run>`: a trained run as a file to deploy (src/export/run.ts). ONNX by default,
// checked in ONNX Runtime against the model before it is written, with the run's test-time flip in
// the graph unless --no-test-flip; with --quantize int8, a static
// int8 ONNX file calibrated on --calibrate's images, measured against the fp32 one and refused when
// its accuracy falls by more than --max-accuracy-drop (src/export/quantize-run.ts).
import { type Command, InvalidArgumentError, Option } from 'commander';

import { CALIBRATION_METHODS, type CalibrationMethod } from '../export/calibrate.js';
import { MAX_OPSET, MIN_OPSET } from '../export/onnx.js';
import { quantizeRun, type QuantizeRunResult } from '../export/quantize-run.js';
import { EXPORT_FORMATS, exportRun, type ExportFormat } from '../export/run.js';

function opset(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < MIN_OPSET || n > MAX_OPSET) throw new InvalidArgumentError(`--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}`);
  return n;
}

function numberIn(flag: string, lo: number, hi: number, integer = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) throw new InvalidArgumentError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}`);
    return n;
  };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

const FLIP = "the run evaluates with a test-time flip (each image's logits averaged with its mirror image's):";

/** What an ONNX export did with the run's test-time flip. */
function flipLine(testFlip: 'in-file' | 'left-out'): string {
  return testFlip === 'in-file' ? `${FLIP} the graph does the same (--no-test-flip leaves it out)` : `${FLIP} left out of the graph (--no-test-flip)`;
}

interface ExportFlags {
  format: ExportFormat;
  out?: string;
  opset: number;
  verify: boolean;
  testFlip: boolean;
  quantize?: 'int8';
  calibrate?: string;
  calibrationSamples?: number;
  calibrationMethod?: CalibrationMethod;
  percentile?: number;
  maxAccuracyDrop?: number;
  force?: boolean;
  threads?: number;
  json?: boolean;
}

/** Flags that only mean something with --quantize: given without it, they are an error, not ignored. */
const QUANTIZE_ONLY = [
  ['calibrate', '--calibrate'],
  ['calibrationSamples', '--calibration-samples'],
  ['calibrationMethod', '--calibration-method'],
  ['percentile', '--percentile'],
  ['maxAccuracyDrop', '--max-accuracy-drop'],
  ['force', '--force'],
  ['threads', '--threads'],
  ['json', '--json'],
] as const;

export function registerExportCommand(program: Command): void {
  program
    .command('export <run>')
    .description("write a trained run's model as ONNX (default; --quantize int8 for a calibrated int8 file), safetensors with metadata, or a PyTorch .pt state dict")
    .addOption(new Option('--format <format>', 'file format').choices([...EXPORT_FORMATS]).default('onnx'))
    .option('-o, --out <file>', 'the file to write (default: model.onnx, model.int8.onnx, model.pt or model.export.safetensors in the run)')
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, opset, MAX_OPSET)
    .option('--no-verify', 'ONNX: write without comparing the fp32 file against the model in ONNX Runtime')
    .option('--no-test-flip', "ONNX: leave the run's test-time flip out of the graph (the plain model; eval and predict average each image's logits with its mirror image's when the run saved testFlip)")
    .addOption(new Option('--quantize <type>', 'static quantization (QDQ: int8 weights per channel, uint8 activations)').choices(['int8']))
    .option('--calibrate <source>', 'images to calibrate the activation ranges on (the run\'s source: its training split)')
    .option('--calibration-samples <n>', 'calibration images (default 512)', numberIn('--calibration-samples', 1, 1_000_000, true))
    .addOption(new Option('--calibration-method <method>', 'how a range is read from the calibration values (default minmax)').choices([...CALIBRATION_METHODS]))
    .option('--percentile <p>', 'percentile calibration: the share of values the range keeps, in percent (default 99.999)', numberIn('--percentile', 50, 100))
    .option('--max-accuracy-drop <x>', 'refuse to write when int8 top-1 accuracy is lower than fp32 by more than this fraction (default 0.01)', numberIn('--max-accuracy-drop', 0, 1))
    .option('--force', 'write the int8 file even when its accuracy drops by more than --max-accuracy-drop')
    .option('--threads <n>', 'ONNX Runtime threads for calibration and measurement (default: one per core)', numberIn('--threads', 1, 1024, true))
    .option('--json', 'with --quantize: print the figures as JSON')
    .action(async (run: string, flags: ExportFlags) => {
      // Only --no-test-flip says anything: without it the run decides (model.json testFlip).
      const testFlip = flags.testFlip ? {} : { testFlip: false };
      if (!flags.testFlip && flags.format !== 'onnx') throw new InvalidArgumentError(`--no-test-flip is for ONNX: --format ${flags.format} holds the weights only, never the flip`);
      if (!flags.quantize) {
        const stray = QUANTIZE_ONLY.find(([key]) => flags[key] !== undefined);
        if (stray) throw new InvalidArgumentError(`${stray[1]} goes with --quantize int8`);
        const r = await exportRun(run, { format: flags.format, opset: flags.opset, verify: flags.verify, ...testFlip, ...(flags.out ? { out: flags.out } : {}) });
        if (r.format !== 'onnx') {
          console.log(`wrote ${r.path} (${r.format}, ${mb(r.bytes)})`);
          if (r.testFlip) console.log(`${FLIP} the weights alone are the plain model: apply it yourself to answer as tessera eval does`);
          return;
        }
        console.log(`wrote ${r.path} (ONNX opset ${r.opset}, ${mb(r.bytes)}, ${r.foldedBatchNorms} batch norms folded into convolutions)`);
        if (r.testFlip) console.log(flipLine(r.testFlip));
        if (r.comparison) {
          const worst = Math.max(...r.comparison.map((c) => c.maxAbsDiff));
          console.log(`ONNX Runtime matches Tessera at batch ${r.comparison.map((c) => c.batch).join(' and ')} (max |Δ| ${worst.toExponential(1)})`);
        }
        return;
      }
      if (flags.format !== 'onnx') throw new InvalidArgumentError(`--quantize writes ONNX; it does not go with --format ${flags.format}`);
      if (!flags.calibrate) throw new InvalidArgumentError('--quantize int8 needs --calibrate <source>: images to measure the activation ranges on');
      if (flags.percentile !== undefined && flags.calibrationMethod !== 'percentile') throw new InvalidArgumentError('--percentile goes with --calibration-method percentile');
      const r = await quantizeRun(run, {
        calibrate: flags.calibrate,
        opset: flags.opset,
        verify: flags.verify,
        log: (line) => console.error(line),
        ...(flags.out ? { out: flags.out } : {}),
        ...(flags.calibrationSamples ? { calibrationSamples: flags.calibrationSamples } : {}),
        ...(flags.calibrationMethod ? { method: flags.calibrationMethod } : {}),
        ...(flags.percentile !== undefined ? { percentile: flags.percentile } : {}),
        ...(flags.maxAccuracyDrop !== undefined ? { maxAccuracyDrop: flags.maxAccuracyDrop } : {}),
        ...(flags.force ? { force: true } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
        ...testFlip,
      });
      console.log(flags.json ? JSON.stringify({ ...r, threads: flags.threads ?? null }, null, 2) : formatQuantizeReport(r, flags.threads));
      if (r.refusal) throw new Error(r.refusal);
    });
}

/** The before/after table `export --quantize` prints. */
export function formatQuantizeReport(r: QuantizeRunResult, threads?: number): string {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
  // A timing on a busy machine can come out the other way: say so rather than print "0.9× faster".
  const speed = (a: number, b: number) => (a >= b ? `${(a / b).toFixed(2)}× faster` : `${(b / a).toFixed(2)}× slower`);
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const row = (label: string, a: string, b: string, note: string) => `${label.padEnd(18)}${a.padStart(11)}${b.padStart(11)}   ${note}`;
  const lines = [
    r.written ? `wrote ${r.path} (int8 QDQ, ONNX opset ${r.opset}${r.forced ? ', forced: its accuracy fell by more than the limit' : ''})` : `not written: ${r.path}`,
    ...(r.testFlip ? [flipLine(r.testFlip)] : []),
    `calibrated on ${r.calibration.what} (${r.calibration.method}${r.calibration.percentile ? ` ${r.calibration.percentile}%` : ''}): ${r.summary.activations} activations, ${Object.entries(r.summary.weighted).map(([op, n]) => `${n} ${op}`).join(', ')} weights in int8`,
    row('', 'fp32', 'int8', ''),
    row('file size', mb(r.fp32.bytes), mb(r.int8.bytes), `${ratio(r.fp32.bytes, r.int8.bytes)} smaller`),
    ...r.fp32.latency.map((l, i) => {
      const q = r.int8.latency[i] as (typeof r.int8.latency)[number];
      return row(`latency, batch ${l.batch}`, ms(l.medianMs), ms(q.medianMs), `${speed(l.medianMs, q.medianMs)} (median of ${l.runs})`);
    }),
    row('top-1 accuracy', pct(r.fp32.accuracy), pct(r.int8.accuracy), `${r.accuracyDrop >= 0 ? '−' : '+'}${Math.abs(r.accuracyDrop * 100).toFixed(2)} points (limit ${(r.maxAccuracyDrop * 100).toFixed(2)}), on the ${r.measuredOn.split} split (${r.measuredOn.samples} images)`),
    `ONNX Runtime (${threads ? `${threads} thread${threads === 1 ? '' : 's'}` : 'its default threads'}) runs the int8 file as ${Object.entries(r.int8Ops).filter(([op]) => op.startsWith('Q') && op !== 'QuantizeLinear').map(([op, n]) => `${n} ${op}`).join(', ') || 'no integer kernels'}${Object.keys(r.leftInFloat).length ? `; left in float: ${Object.entries(r.leftInFloat).map(([op, n]) => `${n} ${op}`).join(', ')}` : ''}`,
  ];
  return lines.join('\n');
}
