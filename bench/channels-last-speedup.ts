// How much faster ResNet-18 trains with channels_last (NHWC) memory format than contiguous (NCHW),
// in Tessera: the model's 4-D parameters converted as PyTorch's
// model.to(memory_format=torch.channels_last) does, and the inputs made `.contiguous('channelsLast')`
// once before timing, against the same model left contiguous (bench/lib/resnet18.ts), same initial
// weights, same batches, interleaved. The RESULT line's "peer" is Tessera contiguous, not PyTorch.
// For comparison the same two loops run in PyTorch (bench/peers/train_resnet18.py) in the same
// interleaving, and each Tessera loop is first checked against PyTorch's. float32 unless --bf16
// (then both variants run under bf16 autocast). Metric: training images per second.
//
//   node dist/bench/channels-last-speedup.js [--threads N] [--reps 5] [--steps 5] [--bf16]
import { runSpeedupBench } from './lib/training.js';
import { resnet18Defaults, resnet18Spec, resnet18Title } from './lib/resnet18.js';

await runSpeedupBench({
  name: 'channels-last-speedup',
  title: `${resnet18Title}: Tessera channels_last against Tessera contiguous`,
  peerScript: 'train_resnet18.py',
  defaults: resnet18Defaults,
  extraFlags: { bf16: false },
  module: resnet18Spec,
  variants: (flags) => {
    const precision = flags.bf16 ? ({ autocast: 'bfloat16' } as const) : {};
    return { fast: { ...precision, channelsLast: true }, base: { ...precision } };
  },
});
