// How much faster ResNet-18 trains under bf16 autocast than in float32, in Tessera: Tessera bf16
// against Tessera float32, same model (bench/lib/resnet18.ts), same initial weights, same batches,
// interleaved. The RESULT line's "peer" is Tessera float32, not PyTorch. For comparison the same
// two loops run in PyTorch (bench/peers/train_resnet18.py) in the same interleaving, and each
// Tessera loop is first checked against PyTorch's (losses of the first steps). Both variants are
// contiguous unless --channelsLast. Metric: training images per second.
//
//   node dist/bench/bf16-speedup.js [--threads N] [--reps 5] [--steps 5] [--channelsLast]
import { runSpeedupBench } from './lib/training.js';
import { resnet18Defaults, resnet18Spec, resnet18Title } from './lib/resnet18.js';

await runSpeedupBench({
  name: 'bf16-speedup',
  title: `${resnet18Title}: Tessera bf16 autocast against Tessera float32`,
  peerScript: 'train_resnet18.py',
  goal: 2.0,
  defaults: resnet18Defaults,
  extraFlags: { channelsLast: false },
  module: resnet18Spec,
  variants: (flags) => {
    const channelsLast = Boolean(flags.channelsLast);
    return { fast: { autocast: 'bfloat16', channelsLast }, base: { channelsLast } };
  },
});
