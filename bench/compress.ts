// What compression buys at inference, for fashion-net (28×28 grey) and resnet18 (64×64 colour, the
// small-image stem), at batch 1 and 32, every side with the same thread count and interleaved:
//   int8-<model>-b<B>        the int8 QDQ file (src/export/quantize.ts, calibrated on 64 random
//                            inputs) against the fp32 file, both in ONNX Runtime (graph optimizations on);
//   pruned-ort-<model>-b<B>  the model with 50% of its channels removed (src/prune/channels.ts)
//                            against the unpruned one, both exported and run in ONNX Runtime;
//   pruned-<model>-b<B>      the same two models' forward in Tessera (LibTorch, eval, no grad).
// The RESULT line's "peer" is the uncompressed model, not PyTorch: ratio > 1 means the compressed
// model is faster. Weights are random (with batch-norm statistics that make eval mode matter):
// latency does not depend on them; accuracy is what `tessera export --quantize` and `tessera prune`
// report on a real run. Metric: images per second.
//
//   node dist/bench/compress.js [--threads N] [--reps 5] [--runs 20] [--models fashion-net,resnet18]
import { manualSeed, models, nn, noGrad, randn, scope, setNumThreads, zeros, type Tensor } from '../src/index.js';
import { exportOnnx, quantizeOnnx, type InputBatch } from '../src/export/index.js';
import { OrtModel } from '../src/export/quantize-measure.js';
import { pruneChannels } from '../src/prune/channels.js';
import { defaultThreads, describeLoad, describeStats, interleaveN, parseFlags, resultLine, stats, type TimedSide } from './lib/harness.js';

const flags = parseFlags(
  { threads: defaultThreads(), reps: 5, runs: 20, models: 'fashion-net,resnet18' },
  'node dist/bench/compress.js: int8 (ONNX Runtime) and channel-pruned (ONNX Runtime, Tessera) against the uncompressed model, batch 1 and 32',
);
setNumThreads(flags.threads);

const SHAPES: Record<string, [number, number, number]> = { 'fashion-net': [1, 28, 28], resnet18: [3, 64, 64] };
type Model = nn.Module & { forward(x: Tensor): Tensor };

function build(name: string): Model {
  const shape = SHAPES[name];
  if (!shape) throw new Error(`--models: ${name} is not one of ${Object.keys(SHAPES).join(', ')}`);
  manualSeed(0);
  const m = models.createModel(name, { classes: 10, inChannels: shape[0], imageSize: shape[1] });
  noGrad(() => {
    for (const [k, b] of m.namedBuffers()) if (k.endsWith('running_var')) b.uniform_(0.5, 1.5);
  });
  return m.eval();
}

const rate = async (runs: number, batch: number, once: () => unknown) => {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  return (runs * batch) / ((performance.now() - t0) / 1000);
};

async function compare(name: string, sides: [TimedSide, TimedSide], unit: string): Promise<void> {
  const r = await interleaveN({ reps: flags.reps, sides, pids: () => [process.pid] });
  const [fast, base] = r.values.map(stats) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
  console.log(`${name}: ${sides[0].label} ${describeStats(fast, unit)}`);
  console.log(`${name}: ${sides[1].label} ${describeStats(base, unit)}`);
  console.log(describeLoad(r));
  console.log(resultLine(name, fast.median, base.median, unit));
}

for (const name of flags.models.split(',')) {
  const shape = SHAPES[name] as [number, number, number];
  const model = build(name);
  const fp32 = exportOnnx(model, randn([1, ...shape])).bytes;
  const x = randn([64, ...shape]);
  const calibration: InputBatch[] = [0, 32].map((i) => ({ data: (x.narrow(0, i, 32).contiguous().data() as Float32Array).slice(), dims: [32, ...shape] }));
  const int8 = (await quantizeOnnx(fp32, calibration, { threads: flags.threads })).bytes;
  const pruned = build(name);
  scope(() => pruneChannels(pruned, zeros([1, ...shape]), 0.5));
  const prunedOnnx = exportOnnx(pruned, randn([1, ...shape])).bytes;
  console.log(`${name}: fp32 ${(fp32.length / 1e6).toFixed(2)} MB, int8 ${(int8.length / 1e6).toFixed(2)} MB; ${model.numParameters()} parameters, pruned ${pruned.numParameters()}`);
  const ort = await Promise.all([fp32, int8, prunedOnnx].map((b) => OrtModel.load(b, { threads: flags.threads })));
  const [fOrt, qOrt, pOrt] = ort as [OrtModel, OrtModel, OrtModel];
  for (const batch of [1, 32]) {
    const input = randn([batch, ...shape]);
    const data = input.data() as Float32Array;
    const dims = input.shape;
    const runs = batch === 1 ? flags.runs : Math.max(2, Math.ceil(flags.runs / 4));
    const ortSide = (label: string, m: OrtModel): TimedSide => ({ label, run: () => rate(runs, batch, () => m.run(data, dims)) });
    const torchSide = (label: string, m: Model): TimedSide => ({ label, run: () => rate(runs, batch, () => noGrad(() => scope(() => void m.forward(input)))) });
    await compare(`int8-${name}-b${batch}`, [ortSide('int8 (ORT)', qOrt), ortSide('fp32 (ORT)', fOrt)], 'images/s');
    await compare(`pruned-ort-${name}-b${batch}`, [ortSide('pruned 50% (ORT)', pOrt), ortSide('unpruned (ORT)', fOrt)], 'images/s');
    await compare(`pruned-${name}-b${batch}`, [torchSide('pruned 50% (Tessera)', pruned), torchSide('unpruned (Tessera)', model)], 'images/s');
    input.dispose();
  }
  for (const m of ort) await m.release();
  x.dispose();
  model.dispose();
  pruned.dispose();
}
