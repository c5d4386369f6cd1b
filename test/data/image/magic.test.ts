import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import sharp from 'sharp';

import { inspectEncoded } from '../../../src/data/doctor/inspect.js';
import { formatFromName, sniffFormat } from '../../../src/data/image/magic.js';
import { smoothImage } from '../fixtures/corpus.js';

const img = () => sharp(smoothImage(3, 40, 40), { raw: { width: 40, height: 40, channels: 3 } });

/** A 2×1 24-bit BMP, written by hand (sharp cannot write BMP). */
function bmp(): Buffer {
  const b = Buffer.alloc(62);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(62, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(8, 34);
  return b;
}

describe('format sniffing', () => {
  it('recognises every listed format by its bytes, whatever the name', async () => {
    assert.equal(sniffFormat(await img().jpeg().toBuffer()), 'jpeg');
    assert.equal(sniffFormat(await img().png().toBuffer()), 'png');
    assert.equal(sniffFormat(await img().gif().toBuffer()), 'gif');
    assert.equal(sniffFormat(await img().webp().toBuffer()), 'webp');
    assert.equal(sniffFormat(await img().tiff().toBuffer()), 'tiff');
    assert.equal(sniffFormat(await img().avif({ effort: 0 }).toBuffer()), 'avif');
    assert.equal(sniffFormat(bmp()), 'bmp');
    assert.equal(sniffFormat(Buffer.from('<html><body>404</body></html>')), undefined);
    assert.equal(sniffFormat(new Uint8Array(0)), undefined);
  });

  it('reads the claimed format from the name, case-insensitively', () => {
    assert.equal(formatFromName('/a/b.JPEG'), 'jpeg');
    assert.equal(formatFromName('x.tif'), 'tiff');
    assert.equal(formatFromName('.png'), undefined); // a hidden file named ".png" has no extension
    assert.equal(formatFromName('dir.jpg/file'), undefined);
    assert.equal(formatFromName('notes.txt'), undefined);
  });

  it('flags a WebP named .png, accepts an AVIF named .avif, and reads BMP as training does', async () => {
    const webp = await inspectEncoded(await img().webp().toBuffer(), 'a.png', { minSide: 1, failOn: 'error' });
    assert.deepEqual(webp.issues, [{ code: 'extension-mismatch', message: 'named .png but the content is WEBP' }]);
    const avif = await inspectEncoded(await img().avif({ effort: 0 }).toBuffer(), 'a.avif', { minSide: 1, failOn: 'error' });
    assert.deepEqual(avif.issues, []);
    assert.equal(avif.width, 40);
    const b = await inspectEncoded(bmp(), 'a.bmp', { minSide: 1, failOn: 'error' });
    assert.deepEqual(b.issues, [], 'sharp cannot decode BMP, but the loader\'s own decoder can: the doctor uses it');
    assert.equal(b.format, 'bmp');
  });
});
