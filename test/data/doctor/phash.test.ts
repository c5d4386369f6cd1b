import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { hamming, nearPairs, type PHash, phashFromGrey, phashHex } from '../../../src/data/doctor/phash.js';
import { inspectEncoded } from '../../../src/data/doctor/inspect.js';
import { RandomStream } from '../../../src/data/random.js';
import { smoothImage } from '../fixtures/corpus.js';

const OPTS = { minSide: 1, failOn: 'error' as const };
const hashOf = async (bytes: Uint8Array) => (await inspectEncoded(bytes, 'x', OPTS)).phash as PHash;
const png = (seed: number, w: number, h: number) => sharp(smoothImage(seed, w, h), { raw: { width: w, height: h, channels: 3 } });

describe('pHash', () => {
  it('matches a NumPy implementation of the same definition', () => {
    const greys = [1, 2, 3].map((seed) => {
      const rgb = smoothImage(seed, 32, 32);
      return Uint8Array.from({ length: 1024 }, (_, i) => rgb[i * 3] as number);
    });
    const py = `
import json, sys, numpy as np
for g in json.loads(sys.argv[1]):
    img = np.array(g, dtype=np.float64).reshape(32, 32)
    n = np.arange(32)
    C = np.cos(np.outer(np.arange(1, 9), 2 * n + 1) * np.pi / 64)   # (8, 32): u = 1..8
    block = C @ img @ C.T                                            # (v, u)
    bits = (block.flatten() > np.median(block)).astype(int)
    print(''.join('%x' % int(''.join(map(str, bits[k:k + 4])), 2) for k in range(0, 64, 4)))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, JSON.stringify(greys.map((g) => [...g]))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      greys.map((g) => phashHex(phashFromGrey(g))),
      r.stdout.trim().split('\n'),
    );
  });

  it('a resized, re-encoded copy is a near duplicate; a different image is not', async () => {
    const original = await png(7, 320, 240).png().toBuffer();
    const h = await hashOf(original);
    const copies = [
      await sharp(original).resize(160, 120).jpeg({ quality: 60 }).toBuffer(),
      await sharp(original).resize(640, 480).webp({ quality: 50 }).toBuffer(),
      await sharp(original).modulate({ brightness: 1.1 }).jpeg({ quality: 80 }).toBuffer(),
    ];
    for (const c of copies) assert.ok(hamming(h, await hashOf(c)) <= 6, `copy at distance ${hamming(h, await hashOf(c))}`);
    for (const seed of [8, 9, 10, 11]) {
      const other = await hashOf(await png(seed, 320, 240).png().toBuffer());
      assert.ok(hamming(h, other) >= 16, `different image (seed ${seed}) at distance ${hamming(h, other)}`);
    }
    // Mirroring changes the picture's layout, and the hash with it.
    assert.ok(hamming(h, await hashOf(await sharp(original).flop().png().toBuffer())) >= 16);
  });

  it('hashes an image the same whatever its EXIF orientation, once upright', async () => {
    const upright = await png(12, 96, 64).png().toBuffer();
    const stored = await sharp(upright).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    assert.ok(hamming(await hashOf(upright), await hashOf(stored)) <= 4);
  });

  it('a negative flips every bit; distances count differing bits', () => {
    const rgb = smoothImage(5, 32, 32);
    const grey = Uint8Array.from({ length: 1024 }, (_, i) => rgb[i * 3 + 1] as number);
    assert.equal(hamming(phashFromGrey(grey), phashFromGrey(grey.map((v) => 255 - v))), 64);
    assert.equal(hamming({ hi: 0xffffffff, lo: 0 }, { hi: 0, lo: 0x0000000f }), 36);
    assert.equal(phashHex({ hi: 0xa, lo: 0xffffffff }), '0000000affffffff');
    assert.throws(() => phashFromGrey(new Uint8Array(10)), /32×32/);
  });

  it('nearPairs (BK-tree) finds exactly the pairs a full comparison finds', () => {
    const r = new RandomStream({ seed: 12345, purpose: 'test' });
    const rand32 = () => r.uint32();
    const hashes: (PHash | undefined)[] = [];
    for (let k = 0; k < 600; k++) {
      const base = hashes[k - 1];
      if (base && k % 5 === 0) hashes.push({ hi: (base.hi ^ (1 << (k % 32))) >>> 0, lo: (base.lo ^ (3 << (k % 30))) >>> 0 }); // 3 bits away
      else if (k % 50 === 0) hashes.push(undefined);
      else hashes.push({ hi: rand32(), lo: rand32() });
    }
    for (const max of [0, 3, 10]) {
      const brute: { a: number; b: number; distance: number }[] = [];
      for (let a = 0; a < hashes.length; a++) {
        for (let b = a + 1; b < hashes.length; b++) {
          const [x, y] = [hashes[a], hashes[b]];
          if (x && y && hamming(x, y) <= max) brute.push({ a, b, distance: hamming(x, y) });
        }
      }
      assert.deepEqual(nearPairs(hashes, max), brute);
      if (max === 3) assert.ok(brute.length >= 100);
    }
  });
});
