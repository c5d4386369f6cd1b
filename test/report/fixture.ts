// A realistic report for the tests: 10 classes (one with a hostile name when asked), six epochs,
// a per-step LR curve, a test report computed from random predictions, and PNG gallery images.
import sharp from 'sharp';

import { classificationReport } from '../../src/metrics/index.js';
import { REPORT_FORMAT, type GalleryItem, type ReportData } from '../../src/report/index.js';
import { RandomStream } from '../../src/data/random.js';

export const HOSTILE = ['<script>window.__pwned = 1</script>', '"><img src=x onerror="window.__pwned = 2">', "it's & <b>bold</b>"];

function rng(seed: number): () => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

export async function makeReport(options: { hostile?: boolean; galleryItems?: number } = {}): Promise<ReportData> {
  const r = rng(7);
  const base = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  const classes = options.hostile ? [...HOSTILE, ...base.slice(HOSTILE.length)] : base;
  const K = classes.length;
  // A model that is right about 70% of the time, with classes 2 and 6 often swapped.
  const n = 2000;
  const probs: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = Math.floor(r() * K);
    const row = Array.from({ length: K }, () => r());
    const favourite = r() < 0.7 ? y : y === 2 ? 6 : y === 6 ? 2 : Math.floor(r() * K);
    row[favourite] = (row[favourite] as number) + 4;
    const sum = row.reduce((a, b) => a + b, 0);
    probs.push(...row.map((v) => v / sum));
    labels.push(y);
  }
  const test = classificationReport(probs, labels, K, { classes });
  const history = Array.from({ length: 6 }, (_, i) => ({
    epoch: i + 1,
    train: { loss: 1.2 / (i + 1) + 0.2, accuracy: 0.6 + 0.05 * i },
    val: { loss: 1.1 / (i + 1) + 0.3, accuracy: 0.58 + 0.045 * i, f1_macro: 0.55 + 0.04 * i },
    lr: 0.1 * 0.5 ** i,
    seconds: 12.5 + r(),
    imagesPerSecond: 4000 + 200 * r(),
  }));
  const lrCurve = Array.from({ length: 300 }, (_, step) => ({ step, lr: step < 30 ? (0.1 * (step + 1)) / 30 : 0.05 * (1 + Math.cos((Math.PI * (step - 30)) / 270)) + 1e-4 }));
  const gallery: GalleryItem[] = [];
  for (let g = 0; g < (options.galleryItems ?? 6); g++) {
    const [w, h, c] = g % 2 === 0 ? [28, 28, 1] : [32, 32, 3];
    const pixels = Uint8Array.from({ length: w * h * c }, (_, i) => (i * (g + 3) + Math.floor(r() * 40)) % 256);
    const png = await sharp(pixels, { raw: { width: w, height: h, channels: c as 1 | 3 } }).png().toBuffer();
    gallery.push({ pngBase64: png.toString('base64'), trueLabel: g % K, predLabel: (g + 1) % K, probability: 0.9 - g * 0.05, trueProbability: 0.02, loss: 3.9 - g * 0.1, id: `test[${g * 17}]` });
  }
  return {
    format: REPORT_FORMAT,
    runName: options.hostile ? '</title><script>window.__pwned = 3</script>' : 'fashion-mnist resnet18',
    createdAt: '2025-01-02T03:04:05.000Z',
    config: { model: 'resnet18', epochs: 6, batchSize: 128, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, note: options.hostile ? '<script>alert(1)</script>' : 'baseline' },
    dataset: {
      description: 'IDX /usr/share/datasets/fashion-mnist',
      classes,
      imageSize: { width: 28, height: 28, channels: 1 },
      splits: [
        { name: 'train', count: 54000, perClass: Array(K).fill(5400) as number[] },
        { name: 'val', count: 6000, perClass: Array(K).fill(600) as number[] },
        { name: 'test', count: n, perClass: test.perClass.map((c) => c.support) },
      ],
    },
    history,
    lrCurve,
    test,
    gallery,
    timing: [{ name: 'data loading', seconds: 8.2 }, { name: 'forward + backward', seconds: 61.3 }, { name: 'evaluation', seconds: 6.1 }],
    environment: { info: 'tessera 0.1.0 · LibTorch 1.13.1 (CPU) · 2 threads · OpenBLAS (openmp)', node: process.version },
  };
}

/**
 * A small run that used to render badly: 3 classes and 3 epochs, a first-epoch loss 100× the
 * last, per-batch timings next to the run's parts, and two skipped files.
 */
export async function makeSmallReport(): Promise<ReportData> {
  const full = await makeReport({ galleryItems: 2 });
  const classes = ['cat', 'dog', 'horse'];
  const probs: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 60; i++) {
    const row = [0.1, 0.1, 0.1];
    row[i % 7 === 0 ? (i + 1) % 3 : i % 3] = 0.8;
    probs.push(...row);
    labels.push(i % 3);
  }
  return {
    ...full,
    runName: 'pets resnet18',
    dataset: {
      description: 'image folder ./pets (3 classes)',
      classes,
      imageSize: { width: 64, height: 64, channels: 3 },
      splits: [{ name: 'train', count: 480, perClass: [200, 180, 100] }, { name: 'val', count: 60, perClass: [25, 20, 15] }, { name: 'test', count: 60, perClass: [20, 20, 20] }],
    },
    history: [45, 0.9, 0.4].map((loss, i) => ({ epoch: i + 1, train: { loss, accuracy: 0.3 + 0.25 * i }, val: { loss: [3.2, 0.8, 0.5][i] as number, accuracy: 0.4 + 0.2 * i }, lr: 0.1 / 10 ** i, seconds: 80 })),
    lrCurve: undefined,
    test: classificationReport(probs, labels, 3, { classes }),
    gallery: full.gallery!.map((g, i) => ({ ...g, trueLabel: i, predLabel: (i + 1) % 3 })),
    timing: [
      { name: 'training (total)', seconds: 240 },
      { name: 'test evaluation', seconds: 7 },
      { name: 'data', seconds: 0.05, perBatch: true },
      { name: 'forward + backward', seconds: 52, perBatch: true },
    ],
    skipped: [
      { id: '/data/pets/cat/broken.jpg', reason: 'JPEG is truncated', split: 'train' },
      { id: '/data/pets/dog/<b>x</b>.png', reason: 'not an image', split: 'test' },
    ],
  };
}
