// An image folder into augmented batches (issue 12): 512 photo-like 500×375 JPEGs in 10 class
// folders → decode → RandomResizedCrop(224) + horizontal flip → normalized float32 N×3×224×224
// batches of 64, Tessera's DataLoader (the native JPEG path: decode, crop, resize and flip in the
// kernel, normalised floats written straight into the batch) against torchvision's ImageFolder in
// torch's DataLoader, each at its best worker count; plus Tessera's sharp path for the speed-up
// and the event loop's p99 delay while loading. See bench/lib/data-folder.ts.
//
//   node dist/bench/data-folder.js [--images 512] [--reps 5] [--batch 64] [--uv 2] [--vips 1] [--threads N]
import { defaultThreads, parseFlags } from './lib/harness.js';
import { runFolderBench } from './lib/data-folder.js';

const flags = parseFlags(
  { images: 512, reps: 5, batch: 64, uv: 2, vips: 1, threads: defaultThreads(), seed: 0 },
  'node dist/bench/data-folder.js: image folder of JPEGs → RandomResizedCrop(224) + flip → normalized batches, Tessera DataLoader vs torchvision ImageFolder + torch DataLoader',
);
await runFolderBench({ name: 'data-folder', recipe: 'train', source: 'folder', width: 500, height: 375, workers: [0, 2], peerWorkers: [0, 2], ...flags });
