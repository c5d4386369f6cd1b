// Large camera photos (issue 12 item 5): 64 photo-like 4000×3000 JPEGs (a few MB each) →
// RandomResizedCrop(224) + horizontal flip → normalized float32 batches of 32. Where DCT scaling
// matters most: the kernel decodes a crop much larger than 224 at 1/2, 1/4 or 1/8 scale, PIL
// decodes every pixel. Tessera's DataLoader against torchvision's ImageFolder in torch's
// DataLoader, each at its best worker count. See bench/lib/data-folder.ts.
//
//   node dist/bench/data-camera.js [--images 64] [--reps 3] [--batch 32] [--uv 2] [--vips 1] [--threads N]
import { defaultThreads, parseFlags } from './lib/harness.js';
import { runFolderBench } from './lib/data-folder.js';

const flags = parseFlags(
  { images: 64, reps: 3, batch: 32, uv: 2, vips: 1, threads: defaultThreads(), seed: 0 },
  'node dist/bench/data-camera.js: 4000×3000 JPEGs → RandomResizedCrop(224) + flip → normalized batches, Tessera DataLoader vs torchvision + torch DataLoader',
);
await runFolderBench({ name: 'data-camera', recipe: 'train', source: 'folder', width: 4000, height: 3000, workers: [0, 2], peerWorkers: [0, 2], ...flags });
