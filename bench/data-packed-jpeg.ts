// Packed JPEG shards (issue 12 item 4): 512 photo-like 500×375 JPEGs packed by `packDataset`
// at 224 (Resize + CenterCrop) into JPEG-encoded shards, read memory-mapped →
// RandomResizedCrop(224) + horizontal flip → normalized float32 batches of 64. Tessera's
// DataLoader over packedDataset (the same native JPEG path as a folder) against torch's
// DataLoader over a Dataset reading the same shards (PIL decode from the mapped bytes), each at
// its best worker count. See bench/lib/data-folder.ts.
//
//   node dist/bench/data-packed-jpeg.js [--images 512] [--reps 5] [--batch 64] [--uv 2] [--vips 1] [--threads N]
import { defaultThreads, parseFlags } from './lib/harness.js';
import { runFolderBench } from './lib/data-folder.js';

const flags = parseFlags(
  { images: 512, reps: 5, batch: 64, uv: 2, vips: 1, threads: defaultThreads(), seed: 0 },
  'node dist/bench/data-packed-jpeg.js: packed 224-px JPEG shards → RandomResizedCrop(224) + flip → normalized batches, Tessera DataLoader vs torch DataLoader',
);
await runFolderBench({ name: 'data-packed-jpeg', recipe: 'train', source: 'packed', width: 500, height: 375, workers: [0, 2], peerWorkers: [0, 2], ...flags });
