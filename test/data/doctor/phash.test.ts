import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { LookalikeIndex } from '../../../src/data/doctor/lookalikes.js';
import { hamming, type PHash, phashFromGrey, phashHex } from '../../../src/data/doctor/phash.js';
import { inspectEncoded } from '../../../src/data/doctor/inspect.js';
import { RandomStream } from '../../../src/data/random.js';
import { smoothImage } from '../fixtures/corpus.js';
import { photo } from '../image/jpeg-fixtures.js';

const OPTS = { minSide: 1, failOn: 'error' as const };
const hashOf = async (bytes: Uint8Array) => (await inspectEncoded(bytes, 'x', OPTS)).phash as PHash;
// Photo-like images (texture, hard-edged blocks): a smooth colour field has almost no energy at the
// hash's frequencies, so its bits are noise and even PIL's own resize puts its copies 6–18 bits away.
const png = (seed: number, w: number, h: number) => sharp(photo(seed, w, h), { raw: { width: w, height: h, channels: 3 } });

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

  it('the look-alike index groups exactly as a full comparison with every group\'s first image does', () => {
    const r = new RandomStream({ seed: 12345, purpose: 'test' });
    const rand32 = () => r.uint32();
    const flip = (h: PHash, bits: number[]): PHash => bits.reduce((x, b) => (b < 32 ? { hi: (x.hi ^ (1 << (31 - b))) >>> 0, lo: x.lo } : { hi: x.hi, lo: (x.lo ^ (1 << (63 - b))) >>> 0 }), h);
    // Twenty pictures, each followed by variations up to 12 bits away, then unrelated hashes.
    const hashes: PHash[] = [];
    for (let p = 0; p < 20; p++) {
      const base = { hi: rand32(), lo: rand32() };
      hashes.push(base);
      for (let v = 0; v < 30; v++) hashes.push(flip(base, Array.from({ length: v % 13 }, () => rand32() % 64)));
    }
    for (let k = 0; k < 400; k++) hashes.push({ hi: rand32(), lo: rand32() });
    for (const max of [0, 3, 8, 12, 20]) {
      const index = new LookalikeIndex(max);
      const firsts: number[] = [];
      hashes.forEach((h, k) => {
        const want = firsts.find((f) => hamming(hashes[f] as PHash, h) <= max);
        const got = index.add(k, h);
        assert.deepEqual(got, want === undefined ? undefined : { first: want, distance: hamming(hashes[want] as PHash, h) }, `max ${max}, hash ${k}`);
        if (want === undefined) firsts.push(k);
      });
      assert.equal(index.groups, firsts.length);
      if (max === 12) assert.ok(firsts.length <= 20 + 400 + 10, `${firsts.length} groups: the variations join their picture's group`);
    }
  });
});
