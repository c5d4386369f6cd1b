import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { DataLoader, tensorDataset } from '../../../src/data/loader/index.js';
import { normalize, randomCropFlip, randomCropFlipParams } from '../../../src/data/transforms/batch.js';
import { subset } from '../../../src/data/subset.js';
import type { IndexedDataset } from '../../../src/data/types.js';
import { memoryStats, tensor } from '../../../src/tensor/index.js';
import { collect } from './fixtures/collect.js';

/** n images of h×w×c with pixel values from the index, as one buffer. */
function pixels(n: number, h: number, w: number, c: number): Uint8Array {
  return Uint8Array.from({ length: n * h * w * c }, (_, j) => (j * 13 + Math.floor(j / (h * w * c)) * 7) % 256);
}

/** The same data set without its fast path: the loader then reads sample by sample. */
function slowView(d: IndexedDataset): IndexedDataset {
  return { kind: 'indexed', length: d.length, classes: d.classes, labels: () => d.labels(), read: (i) => d.read(i), describe: () => d.describe() };
}

function python(code: string, input: unknown): unknown {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('ArrayDataset (the in-memory fast path)', () => {
  for (const [name, shape, layout] of [
    ['grey N×H×W', [23, 5, 6], 'hwc'],
    ['colour N×H×W×C', [23, 5, 6, 3], 'hwc'],
    ['colour N×C×H×W', [23, 3, 5, 6], 'chw'],
  ] as const) {
    it(`gathers the same batches as reading sample by sample: ${name}`, async () => {
      const [n, a, b, c = 1] = shape;
      const d = tensorDataset(pixels(n, a, b, c), Array.from({ length: n }, (_, i) => i % 4), { shape, layout, name: 'arr' });
      const opts = { batchSize: 4, shuffle: true, seed: 2, batchTransforms: [] };
      const fast = await collect(new DataLoader(d, opts), 1);
      const slow = await collect(new DataLoader(slowView(d), opts), 1);
      assert.deepEqual(fast, slow);
      const chw = layout === 'chw' ? [a, b, shape[3] as number] : [c, a, b];
      assert.deepEqual(fast[0]?.shape, [4, ...chw]);
      assert.deepEqual(await collect(new DataLoader(d, opts), 1, { skipBatches: 2 }), fast.slice(2));
      assert.equal(fast[0]?.ids[0], `arr[${fast[0]?.indices[0]}]`);
      d.dispose();
    });
  }

  it('checks its inputs and names the problem', () => {
    assert.throws(() => tensorDataset(new Uint8Array(10), [0], { shape: [1, 2, 2] }), /shape \[1,2,2\] needs 4 bytes of pixels, got 10/);
    assert.throws(() => tensorDataset(new Uint8Array(8), [0, 1], { shape: [2, 2, 2] , classes: ['a'] }), /label 1 but only 1 classes/);
    assert.throws(() => tensorDataset(new Uint8Array(16), [0], { shape: [1, 2, 2, 4] }), /4 channels/);
  });

  it('a subset keeps the fast path and maps indices', async () => {
    const d = tensorDataset(pixels(10, 2, 2, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [10, 2, 2], name: 'arr' });
    const s = subset(d, [9, 2, 5]);
    assert.deepEqual(Array.from(s.labels()), [9, 2, 5]);
    const [b] = await collect(new DataLoader(s, { batchSize: 3, batchTransforms: [] }), 0);
    assert.deepEqual(b?.ids, ['arr[9]', 'arr[2]', 'arr[5]']);
    assert.deepEqual(b?.y, [9, 2, 5]);
    assert.deepEqual(b?.x.slice(0, 4), Array.from(pixels(10, 2, 2, 1).subarray(36, 40)));
    assert.throws(() => subset(d, [3, 10]), /indices\[1\] is 10, outside \[0, 10\)/);
  });

  it('keeps live tensors flat across epochs (fast path with batch transforms)', async () => {
    const d = tensorDataset(pixels(50, 8, 8, 3), Array.from({ length: 50 }, (_, i) => i % 5), { shape: [50, 8, 8, 3] });
    const loader = new DataLoader(d, { batchSize: 8, shuffle: true, batchTransforms: [randomCropFlip({ padding: 2 }), normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])] });
    await collect(loader, 0);
    const before = memoryStats().liveTensors;
    for (let e = 1; e <= 3; e++) await collect(loader, e);
    assert.equal(memoryStats().liveTensors, before);
    d.dispose();
  });
});

describe('batch transforms', () => {
  const ctx = { seed: 4, epoch: 2, batch: 0, indices: [10, 11, 12, 13, 14, 15], position: 0 };

  it('randomCropFlip equals torchvision pad + crop + hflip with the same per-sample parameters', () => {
    const [n, c, h, w, p] = [6, 3, 5, 7, 2];
    const data = Uint8Array.from({ length: n * c * h * w }, (_, j) => (j * 37) % 251);
    const x = tensor(data, { shape: [n, c, h, w] });
    const y = tensor([0, 1, 2, 3, 4, 5]);
    const out = randomCropFlip({ padding: p })({ x, y }, ctx);
    const params = randomCropFlipParams(ctx, p, true);
    assert.ok(params.flipped.some((f) => f) && params.flipped.some((f) => !f), 'the test should cover flipped and unflipped samples');
    assert.ok(new Set(params.dx).size > 1, 'and different offsets');
    const expected = python(`
import json, sys, torch
import torchvision.transforms.functional as F
a = json.load(sys.stdin)
x = torch.tensor(a['data'], dtype=torch.uint8).reshape(a['shape'])
out = []
for i in range(x.shape[0]):
    img = F.crop(F.pad(x[i], a['p'], fill=0), a['dy'][i], a['dx'][i], x.shape[2], x.shape[3])
    out.append(F.hflip(img) if a['flipped'][i] else img)
print(json.dumps(torch.stack(out).flatten().tolist()))
`, { data: Array.from(data), shape: [n, c, h, w], p, dy: params.dy, dx: params.dx, flipped: params.flipped }) as number[];
    assert.deepEqual(out.x.shape, [n, c, h, w]);
    assert.equal(out.x.dtype, 'uint8');
    assert.deepEqual(Array.from(out.x.data() as Uint8Array), expected);
    for (const t of [x, y, out.x]) t.dispose();
  });

  it('draws crop parameters per sample index, not per batch position', () => {
    const a = randomCropFlipParams({ seed: 1, epoch: 0, batch: 0, indices: [5, 6, 7], position: 1 }, 4, true);
    const b = randomCropFlipParams({ seed: 1, epoch: 0, batch: 9, indices: [7, 5], position: 1 }, 4, true);
    assert.deepEqual([b.dy[1], b.dx[1], b.flipped[1]], [a.dy[0], a.dx[0], a.flipped[0]]);
    assert.deepEqual([b.dy[0], b.dx[0], b.flipped[0]], [a.dy[2], a.dx[2], a.flipped[2]]);
  });

  it('normalize equals torchvision ToTensor + Normalize', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 * 4 }, (_, j) => (j * 29) % 256);
    const x = tensor(data, { shape: [2, 3, 4, 4] });
    const y = tensor([0, 1]);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const out = normalize(mean, std)({ x, y }, ctx);
    const expected = python(`
import json, sys, torch
import torchvision.transforms as T
a = json.load(sys.stdin)
x = torch.tensor(a['data'], dtype=torch.uint8).reshape(2, 3, 4, 4)
print(json.dumps(T.Normalize(a['mean'], a['std'])(x.float() / 255).flatten().tolist()))
`, { data: Array.from(data), mean, std }) as number[];
    const got = Array.from(out.x.data() as Float32Array);
    got.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] as number)) < 2e-6, `element ${i}: ${v} vs ${expected[i]}`));
    for (const t of [x, y, out.x]) t.dispose();
  });
});

