// Training speed of ResNet-18 (CIFAR variant, batch 128, SGD momentum 0.9, lr 0.1, weight decay
// 5e-4; bench/lib/resnet18.ts) under bf16 autocast: Tessera's `autocast(fn, { dtype: 'bfloat16' })`
// around forward and loss, against PyTorch's `with torch.autocast('cpu', dtype=torch.bfloat16)`
// around the same (bench/peers/train_resnet18.py); backward and the SGD step run outside autocast
// on both sides, as PyTorch's recipe has it. Metric: training images per second.
//
// After the timing, a numerics check of bf16 training itself: from the same initial weights and on
// the same batches, `--numericsSteps` (50) steps in float32 and 50 in bf16, in Tessera and in
// PyTorch. The bf16 loss after 50 steps must be within 5% of the float32 one (BF16_TOLERANCE).
// That part is not timed; it takes about 5 minutes (--numericsSteps 0 skips it).
//
//   node dist/bench/train-resnet18-bf16.js [--threads N] [--reps 5] [--steps 5] [--numericsSteps 50]
import { runTrainingBench, trajectories, type BenchContext } from './lib/training.js';
import { resnet18Defaults, resnet18Spec, resnet18Title } from './lib/resnet18.js';

/**
 * bf16 against float32: the loss after n steps may differ by at most this, relatively. bf16 keeps
 * 8 significant bits (relative rounding 2^-9 ≈ 0.2%) in the convolutions' inputs and weights, the
 * two trajectories drift apart step by step at lr 0.1, and 5% is the usual bar for "bf16 trains
 * like float32" over a short run. The mean loss of the last 10 steps is printed beside it (one
 * step's loss on one batch of random labels is noisy), and PyTorch's pair is shown for reference.
 * On random labels the loss settles near chance (ln 10 ≈ 2.30) within 50 steps, so this check
 * mainly rules out bf16 training going wrong; that Tessera's bf16 losses equal PyTorch's, step
 * for step, is the stronger statement, and it is printed too.
 */
const BF16_TOLERANCE = 0.05;

async function bf16Numerics(ctx: BenchContext): Promise<boolean> {
  const n = Number(ctx.flags.numericsSteps);
  if (!(n > 0)) return true;
  console.log('');
  console.log(`numerics of bf16 training: ${n} steps in float32 and ${n} in bf16 autocast, each from the initial weights, on the same batches`);
  const [fp32, bf16] = await trajectories(
    ctx,
    resnet18Spec,
    [
      { label: 'float32', variant: {}, peerVariant: 'fp32' },
      { label: 'bf16', variant: { autocast: 'bfloat16' }, peerVariant: 'default' },
    ],
    n,
  );
  if (!fp32 || !bf16) throw new Error('bf16 numerics: missing trajectory');
  console.log('  step  Tessera fp32  Tessera bf16  PyTorch fp32  PyTorch bf16');
  for (let i = 0; i < n; i++) {
    if (i > 2 && (i + 1) % 5 !== 0) continue;
    const cells = [fp32.ours, bf16.ours, fp32.peer, bf16.peer].map((l) => (l[i] as number).toFixed(5).padEnd(12));
    console.log(`  ${String(i + 1).padStart(4)}  ${cells.join('  ')}`);
  }
  const tail = Math.min(10, n);
  const mean = (l: number[]) => l.slice(-tail).reduce((a, b) => a + b, 0) / tail;
  const rel = (a: number[], b: number[]) => Math.abs(mean(a) - mean(b)) / mean(b);
  const ours = rel(bf16.ours, fp32.ours);
  const peer = rel(bf16.peer, fp32.peer);
  const same = (a: number[], b: number[]) => a.every((x, i) => x === b[i]);
  console.log(
    `  mean loss of steps ${n - tail + 1}-${n}: Tessera fp32 ${mean(fp32.ours).toFixed(5)}, bf16 ${mean(bf16.ours).toFixed(5)} (relative difference ${(100 * ours).toFixed(2)}%); ` +
      `PyTorch fp32 ${mean(fp32.peer).toFixed(5)}, bf16 ${mean(bf16.peer).toFixed(5)} (${(100 * peer).toFixed(2)}%)`,
  );
  console.log(`  loss at step ${n}: Tessera fp32 ${(fp32.ours[n - 1] as number).toFixed(5)}, bf16 ${(bf16.ours[n - 1] as number).toFixed(5)}; PyTorch fp32 ${(fp32.peer[n - 1] as number).toFixed(5)}, bf16 ${(bf16.peer[n - 1] as number).toFixed(5)}`);
  console.log(
    `  Tessera against PyTorch over all ${n} steps: fp32 ${same(fp32.ours, fp32.peer) ? 'bit-identical' : 'different'}, bf16 ${same(bf16.ours, bf16.peer) ? 'bit-identical' : 'different'}`,
  );
  const final = (l: number[]) => l[n - 1] as number;
  const oursFinal = Math.abs(final(bf16.ours) - final(fp32.ours)) / final(fp32.ours);
  const peerFinal = Math.abs(final(bf16.peer) - final(fp32.peer)) / final(fp32.peer);
  const ok = oursFinal <= BF16_TOLERANCE;
  console.log(
    `bf16 numerics: ${ok ? 'within' : 'OUTSIDE'} tolerance (loss after ${n} steps, bf16 within ${(100 * BF16_TOLERANCE).toFixed(0)}% of float32: ` +
      `Tessera ${(100 * oursFinal).toFixed(2)}%, PyTorch ${(100 * peerFinal).toFixed(2)}%)`,
  );
  return ok;
}

await runTrainingBench({
  name: 'train-resnet18-bf16',
  title: `${resnet18Title}, bf16 autocast`,
  peerScript: 'train_resnet18.py',
  goal: 1.0,
  defaults: resnet18Defaults,
  extraFlags: { numericsSteps: 50 },
  module: resnet18Spec,
  variant: { autocast: 'bfloat16' },
  extraPeerVariants: { fp32: {} },
  after: bf16Numerics,
});
