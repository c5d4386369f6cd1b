// Evaluation-style preprocessing of an image folder (issue 12 item 5): 512 photo-like 500×375
// JPEGs → Resize(256) + CenterCrop(224) → normalized float32 batches of 64, Tessera's DataLoader
// (native JPEG path: the kernel resizes only the centre window) against torchvision's ImageFolder
// in torch's DataLoader, each at its best worker count. See bench/lib/data-folder.ts.
//
//   node dist/bench/data-eval.js [--images 512] [--reps 5] [--batch 64] [--uv 2] [--vips 1] [--threads N]
import { defaultThreads, parseFlags } from './lib/harness.js';
import { runFolderBench } from './lib/data-folder.js';

const flags = parseFlags(
  { images: 512, reps: 5, batch: 64, uv: 2, vips: 1, threads: defaultThreads(), seed: 0 },
  'node dist/bench/data-eval.js: image folder of JPEGs → Resize(256) + CenterCrop(224) → normalized batches, Tessera DataLoader vs torchvision + torch DataLoader',
);
await runFolderBench({ name: 'data-eval', recipe: 'eval', source: 'folder', width: 500, height: 375, workers: [0, 2], peerWorkers: [0, 2], ...flags });
