// Shared pieces of the ONNX export tests: the Python reference (ONNX's checker, PyTorch's exporter),
// ONNX Runtime runs, and batch-norm statistics that make eval mode (and so the folding) matter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nn, noGrad, type Tensor } from '../../src/index.js';
import { compareWithOnnxRuntime } from '../../src/export/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'export', 'reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export interface TwinRequest {
  name: string;
  /** Python expression building the twin (torch, torchvision in scope). */
  build: string;
  /** A .pt state dict written by Tessera. */
  weights: string;
  /** The example input's shape for torch.onnx.export. */
  input: number[];
  /** Where PyTorch writes its ONNX file. */
  out: string;
}

function reference(request: { check?: string[]; twins?: TwinRequest[] }): { check?: Record<string, string | null>; twins?: Record<string, string | null> } {
  const r = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, `reference.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof reference>;
}

/** ONNX's checker with strict shape inference on every file (one Python process); fails naming each bad file. */
export function assertOnnxChecks(paths: readonly string[]): void {
  const result = reference({ check: [...paths] }).check ?? {};
  const bad = paths.filter((p) => result[p] !== null).map((p) => `${p}: ${result[p] ?? 'not checked'}`);
  assert.deepEqual(bad, [], `the ONNX checker rejects:\n${bad.join('\n')}`);
}

/** PyTorch's torch.onnx.export of each twin (one Python process); fails naming each failure. */
export function exportTwins(cases: readonly TwinRequest[]): void {
  const result = reference({ twins: [...cases] }).twins ?? {};
  const bad = cases.filter((c) => result[c.name] !== null).map((c) => `${c.name}: ${result[c.name] ?? 'not exported'}`);
  assert.deepEqual(bad, [], `torch.onnx.export failed:\n${bad.join('\n')}`);
}

/** ONNX Runtime's outputs agree with the model's eval outputs (rtol 1e-3, atol 1e-5) on every input set. */
export async function assertMatchesModel(what: string, model: nn.Module, onnx: Uint8Array, inputSets: readonly (readonly Tensor[])[]): Promise<void> {
  const results = await compareWithOnnxRuntime(model, onnx, inputSets, { threads: 1 });
  for (const r of results) assert.ok(r.ok, `${what}: ONNX Runtime differs from Tessera at batch ${r.batch}: max |Δ| ${r.maxAbsDiff}, worst ${r.worst.toFixed(2)}× the tolerance`);
}

/** Running means ~ U(-0.5, 0.5), variances ~ U(0.5, 1.5), affine weights ~ U(0.5, 1.5): eval-mode batch norm then does something. */
export function randomizeNorms(model: nn.Module): void {
  noGrad(() => {
    for (const [name, b] of model.namedBuffers()) {
      if (name.endsWith('running_mean')) nn.init.uniform_(b, -0.5, 0.5);
      else if (name.endsWith('running_var')) nn.init.uniform_(b, 0.5, 1.5);
    }
    for (const m of model.modules()) {
      if (!(m instanceof nn.NormBase || m instanceof nn.LayerNorm || m instanceof nn.GroupNorm)) continue;
      const w = m.weight;
      const b = m.bias;
      if (w) nn.init.uniform_(w, 0.5, 1.5);
      if (b) nn.init.uniform_(b, -0.5, 0.5);
    }
  });
}

/** Runs a file in ONNX Runtime on one float32 input; returns its first output. */
export async function runOnnxRuntime(onnx: Uint8Array, x: Tensor): Promise<{ dims: number[]; data: Float32Array }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await session.run({ [session.inputNames[0] as string]: new ort.Tensor('float32', x.data() as Float32Array, x.shape) });
    const y = out[session.outputNames[0] as string] as InstanceType<typeof ort.Tensor>;
    return { dims: y.dims.map(Number), data: y.data as Float32Array };
  } finally {
    await session.release();
  }
}
