// `tessera export <run>`: a trained run as a file to deploy (src/export/run.ts). ONNX by default,
// checked in ONNX Runtime against the model before it is written.
import { type Command, InvalidArgumentError, Option } from 'commander';

import { MAX_OPSET, MIN_OPSET } from '../export/onnx.js';
import { EXPORT_FORMATS, exportRun, type ExportFormat } from '../export/run.js';

function opset(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < MIN_OPSET || n > MAX_OPSET) throw new InvalidArgumentError(`--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}`);
  return n;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function registerExportCommand(program: Command): void {
  program
    .command('export <run>')
    .description("write a trained run's model as ONNX (default), safetensors with metadata, or a PyTorch .pt state dict")
    .addOption(new Option('--format <format>', 'file format').choices([...EXPORT_FORMATS]).default('onnx'))
    .option('-o, --out <file>', 'the file to write (default: model.onnx, model.pt or model.export.safetensors in the run)')
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, opset, MAX_OPSET)
    .option('--no-verify', 'ONNX: write without comparing the file against the model in ONNX Runtime')
    .action(async (run: string, flags: { format: ExportFormat; out?: string; opset: number; verify: boolean }) => {
      const r = await exportRun(run, { format: flags.format, opset: flags.opset, verify: flags.verify, ...(flags.out ? { out: flags.out } : {}) });
      if (r.format !== 'onnx') return void console.log(`wrote ${r.path} (${r.format}, ${mb(r.bytes)})`);
      console.log(`wrote ${r.path} (ONNX opset ${r.opset}, ${mb(r.bytes)}, ${r.foldedBatchNorms} batch norms folded into convolutions)`);
      if (r.comparison) {
        const worst = Math.max(...r.comparison.map((c) => c.maxAbsDiff));
        console.log(`ONNX Runtime matches Tessera at batch ${r.comparison.map((c) => c.batch).join(' and ')} (max |Δ| ${worst.toExponential(1)})`);
      }
    });
}
