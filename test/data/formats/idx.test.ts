import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import { IdxFormatError, parseIdx, readIdx } from '../../../src/data/formats/idx.js';
import { rng } from './fuzz.js';

/** An IDX file: magic, type, dims, big-endian sizes, payload. */
function idx(type: number, shape: number[], payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  const dv = new DataView(header.buffer);
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, payload]);
}

describe('IDX reader', () => {
  it('reads uint8 images and big-endian int32 data', () => {
    const a = parseIdx(idx(0x08, [2, 2, 3], Uint8Array.from({ length: 12 }, (_, i) => i)));
    assert.deepEqual(a.shape, [2, 2, 3]);
    assert.equal(a.type, 'uint8');
    assert.deepEqual(Array.from(a.data), [...Array(12).keys()]);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setInt32(0, -5, false);
    new DataView(be.buffer).setInt32(4, 70000, false);
    assert.deepEqual(Array.from(parseIdx(idx(0x0c, [2], be)).data), [-5, 70000]);
  });

  it('reads gzip files from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    const path = join(dir, 'labels-idx1-ubyte.gz');
    writeFileSync(path, gzipSync(idx(0x08, [3], Uint8Array.from([7, 8, 9]))));
    assert.deepEqual(Array.from(readIdx(path).data), [7, 8, 9]);
  });

  it('names the file and the field at fault', () => {
    assert.throws(() => parseIdx(Uint8Array.from([1, 0, 8, 1]), 'x.idx'), /x\.idx: bad magic number/);
    assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x42, 1]), 'x.idx'), /unknown element type 0x42/);
    assert.throws(() => parseIdx(idx(0x08, [10], new Uint8Array(4)), 'x.idx'), /needs 18 bytes, file has 12 \(truncated\)/);
    assert.throws(() => readIdx('/nonexistent/file.gz'), /\/nonexistent\/file\.gz: cannot read/);
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    writeFileSync(join(dir, 'bad.gz'), Uint8Array.from([0x1f, 0x8b, 1, 2, 3]));
    assert.throws(() => readIdx(join(dir, 'bad.gz')), /bad\.gz: corrupt gzip data/);
  });

  it('never allocates from a lying header: a claimed 4-billion-element file fails fast', () => {
    const t = performance.now();
    assert.throws(() => parseIdx(idx(0x08, [65535, 65535], new Uint8Array(10))), IdxFormatError);
    assert.ok(performance.now() - t < 100);
  });

  it('survives random mutations with clean errors (fuzz)', () => {
    const good = idx(0x08, [4, 5, 5], Uint8Array.from({ length: 100 }, (_, i) => i));
    const rnd = rng(12345);
    let clean = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from(good);
      const mutations = 1 + rnd(4);
      for (let m = 0; m < mutations; m++) bytes[rnd(bytes.length)] = rnd(256);
      const cut = rnd(3) === 0 ? rnd(bytes.length) : bytes.length;
      try {
        const out = parseIdx(bytes.subarray(0, cut), 'fuzz');
        assert.equal(out.data.length, out.shape.reduce((a, b) => a * b, 1));
      } catch (e) {
        assert.ok(e instanceof IdxFormatError, `unexpected ${(e as Error).name}: ${(e as Error).message}`);
        clean++;
      }
    }
    assert.ok(clean > 0);
  });
});
