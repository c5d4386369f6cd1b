// `tessera data check` and training agree on which files are bad: both decode with the loader's
// decoder and the same limits. A 14000×14000 PNG (196 M pixels, over the 100 M limit) is refused
// by both; a good BMP (which sharp cannot read, our decoder can) is fine for both; a garbled JPEG
// is bad for both.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';

import { resolveConfig } from '../../../src/config/load.js';
import { checkDataset } from '../../../src/data/doctor/check.js';
import { disposeBatch } from '../../../src/data/types.js';
import { openRunData } from '../../../src/run/data.js';
import { bmp, encode, pattern } from '../fixtures/images.js';

const root = mkdtempSync(join(tmpdir(), 'pipeline-agree-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = (CRC[(c ^ x) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A valid 1-bit grey PNG of side × side black pixels: a few kB on disk, side² pixels decoded. */
function hugePng(side: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grey
  const rows = Buffer.alloc(side * (1 + Math.ceil(side / 8))); // filter byte 0 + packed bits, all zero
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]);
}

describe('the doctor and training agree on which files are bad', () => {
  it('a 14000×14000 PNG is bad for both, a good BMP good for both, a garbled JPEG bad for both', async () => {
    const dir = join(root, 'mixed');
    for (const c of ['a', 'b']) mkdirSync(join(dir, c), { recursive: true });
    for (let k = 0; k < 4; k++) {
      writeFileSync(join(dir, 'a', `${k}.png`), await encode(pattern(16, 16, 3, k), 'png'));
      writeFileSync(join(dir, 'b', `${k}.png`), await encode(pattern(16, 16, 3, 10 + k), 'png'));
    }
    const good = bmp(pattern(20, 14, 3, 99));
    writeFileSync(join(dir, 'a', 'good.bmp'), good);
    writeFileSync(join(dir, 'b', 'huge.png'), hugePng(14000));
    const jpg = Uint8Array.from(await encode(pattern(64, 48, 3, 5), 'jpeg'));
    jpg.fill(0, 200, 600);
    writeFileSync(join(dir, 'b', 'garbled.jpg'), jpg);

    const report = await checkDataset(dir, { minSide: 1 });
    const doctorBad = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.id} ${p.code}`).sort();
    assert.deepEqual(doctorBad, [`${join(dir, 'b', 'garbled.jpg')} corrupt`, `${join(dir, 'b', 'huge.png')} too-large`]);
    assert.match(report.problems.find((p) => p.code === 'too-large')?.message ?? '', /14000x14000 = 196000000 pixels, over the decompression limit of 100000000/);

    const warnings: string[] = [];
    const config = resolveConfig({ overrides: [['data.source', JSON.stringify(dir)], ['data.valSplit', '0'], ['data.testSplit', '0'], ['data.imageSize', '[16,16]'], ['train.batchSize', '4']] });
    const data = await openRunData(config, { logger: { warn: (m) => warnings.push(m) } });
    try {
      const seen = new Set<string>();
      for await (const b of data.train.epoch(0)) {
        for (const id of b.ids) seen.add(id);
        disposeBatch(b);
      }
      const trainingBad = data.train.badSamples.map((s) => s.id).sort();
      assert.deepEqual(trainingBad, doctorBad.map((s) => s.split(' ')[0]), 'training skips exactly the files the doctor calls bad');
      assert.ok(seen.has(join(dir, 'a', 'good.bmp')), 'the BMP is trained on');
    } finally {
      await data.close();
    }
  });
});
