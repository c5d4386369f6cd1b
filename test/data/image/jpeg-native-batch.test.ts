// The native JPEG path as a batch call: bad files are errors that name them (the corrupt corpus,
// truncations, damaged data, fuzzed bytes, the pixel limit) and never take the process down; the
// warning policy follows sharp's failOn; slots, zeroing and argument errors; the same bytes for any
// thread count; the work runs off the event loop; idle pools let the process and workers exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { decodeJpegBatch, isJpeg, probeJpeg, type JpegBatchOptions, type JpegSample } from '../../../src/data/image/jpeg-native.js';
import { fromBufferShared } from '../../../src/tensor/index.js';
import { DataError } from '../../../src/data/types.js';
import { ORIENTED, writeCorruptCorpus } from '../fixtures/corpus.js';
import { lcg, tempDir, writeJpeg } from './jpeg-fixtures.js';

const JPEG_NATIVE = fileURLToPath(new URL('../../../src/data/image/jpeg-native.js', import.meta.url));

let photo: Uint8Array; // 4:2:0, 203×157
let big: Uint8Array; // 4:2:0, 640×480

before(async () => {
  const dir = tempDir();
  photo = new Uint8Array(readFileSync(await writeJpeg(dir, 'photo.jpg', '420', 3, 203, 157)));
  big = new Uint8Array(readFileSync(await writeJpeg(dir, 'big.jpg', '420', 4, 640, 480)));
});

const opts = (o: Partial<JpegBatchOptions> = {}): JpegBatchOptions => ({ width: 32, height: 24, ...o });

/** Decodes one sample into a fresh 32×24 RGB buffer; returns the error (or undefined) and the pixels. */
async function one(bytes: Uint8Array, id: string, o: Partial<JpegBatchOptions> = {}, s: Partial<JpegSample> = {}): Promise<{ err: DataError | undefined; px: Uint8Array }> {
  const px = new Uint8Array(3 * 32 * 24).fill(7);
  const [err] = await decodeJpegBatch([{ bytes, id, ...s }], px, opts(o));
  return { err, px };
}

test('the corrupt corpus: every bad file is a DataError naming it; good JPEGs decode upright', async () => {
  const corpus = await writeCorruptCorpus(tempDir());
  for (const f of corpus.files) {
    const bytes = new Uint8Array(readFileSync(join(corpus.root, f.path)));
    const { err, px } = await one(bytes, f.path);
    if (f.expect === 'bad' || f.content !== 'jpeg') {
      // Bad files, and good files that are not JPEGs (the loader keeps sharp for those).
      assert.ok(err instanceof DataError, `${f.path}: expected an error`);
      assert.equal(err.id, f.path);
      assert.match(err.message, new RegExp(`^${f.path}: `));
      assert.ok(px.every((v) => v === 0), `${f.path}: a failed sample's slot is zeroed`);
      if (f.content === 'jpeg' && f.reason === 'truncated') assert.match(err.message, /premature end/i, f.path);
      if (f.content !== 'jpeg' && f.content !== 'empty') assert.match(err.message, /not a JPEG file/, f.path);
      continue;
    }
    assert.equal(err, undefined, `${f.path}: ${err?.message}`);
    if (f.orientation) {
      // Upright 48×32 resized to 32×24 (exactly 2/3 on each axis) is the identical picture: red
      // block top left, blue bottom right, whatever the stored orientation.
      const [w, h] = [32, 24];
      const at = (c: number, x: number, y: number) => px[c * w * h + y * w + x] as number;
      assert.ok(at(0, 2, 2) > 200 && at(2, 2, 2) < 60, `${f.path}: top left is not red`);
      assert.ok(at(2, w - 3, h - 3) > 200 && at(0, w - 3, h - 3) < 60, `${f.path}: bottom right is not blue`);
      assert.deepEqual(probeJpeg(bytes, f.path), { width: ORIENTED.width, height: ORIENTED.height, orientation: f.orientation, bands: 3 });
    }
  }
});

test('truncation is an error under every failOn, even when the crop ends before the damage', async () => {
  const sos = photo.findIndex((v, i) => v === 0xff && photo[i + 1] === 0xda);
  const cuts = [sos + 40, Math.floor(photo.length * 0.5), photo.length - 300, photo.length - 2 /* only the end marker missing */];
  for (const cut of cuts)
    for (const failOn of ['truncated', 'error', 'warning'] as const) {
      const { err } = await one(photo.subarray(0, cut), `cut-${cut}`, { failOn }, { crop: { left: 0, top: 0, width: 40, height: 16 } });
      assert.ok(err instanceof DataError, `cut at ${cut} of ${photo.length}, failOn ${failOn}: decoded`);
      assert.match(err.message, /cut-\d+: cannot decode jpeg: .*premature end/i);
    }
  // Cut inside the header: the probe cannot read it (a loader sends such files to decodeImage).
  assert.equal(probeJpeg(photo.subarray(0, 30), 'header-cut'), undefined);
  const { err } = await one(photo.subarray(0, 30), 'header-cut');
  assert.match(err?.message ?? '', /^header-cut: cannot decode jpeg: no readable frame header/);
});

test('damaged data follows sharp\'s failOn: extraneous bytes and corrupt scans pass unless failOn is warning', async () => {
  const sos = photo.findIndex((v, i) => v === 0xff && photo[i + 1] === 0xda);
  const extraneous = new Uint8Array([...photo.subarray(0, sos), 1, 2, 3, ...photo.subarray(sos)]);
  const corrupt = photo.slice();
  for (let k = 0; k < 40; k++) corrupt[sos + 200 + k * 7] = (corrupt[sos + 200 + k * 7] as number) ^ 0x5a;
  for (const [name, bytes] of [['extraneous', extraneous], ['corrupt-scan', corrupt]] as const) {
    for (const failOn of ['truncated', 'error'] as const) assert.equal((await one(bytes, name, { failOn })).err, undefined, `${name}, failOn ${failOn}`);
    const { err } = await one(bytes, name, { failOn: 'warning' });
    assert.match(err?.message ?? '', new RegExp(`^${name}: cannot decode jpeg: Corrupt JPEG data`), name);
  }
});

test('fuzzed bytes: every result is a decode or a DataError, and the process stays up', async () => {
  const r = lcg(12345);
  const samples: JpegSample[] = [];
  for (let k = 0; k < 150; k++) {
    const b = photo.slice(0, k % 3 === 0 ? 3 + Math.floor(r() * photo.length) : photo.length);
    for (let e = 0; e < 1 + (k % 5); e++) b[2 + Math.floor(r() * (b.length - 2))] = Math.floor(r() * 256);
    samples.push({ bytes: b, id: `fuzz-${k}`, crop: { left: 10, top: 10, width: 150, height: 100 } });
  }
  // A damaged header may now declare another size: those samples get the whole image.
  const out = new Uint8Array(samples.length * 3 * 32 * 24);
  let failed = 0;
  for (const [k, s] of samples.entries()) {
    let info;
    try {
      info = probeJpeg(s.bytes, s.id);
    } catch (e) {
      assert.ok(e instanceof DataError && /decompression limit/.test(e.message), String(e)); // a damaged size
    }
    const crop = info && info.width >= 160 && info.height >= 110 ? s.crop : undefined;
    const [err] = await decodeJpegBatch([{ ...s, crop, slot: k }], out, opts());
    if (err) {
      assert.ok(err instanceof DataError && err.id === s.id, String(err));
      failed++;
    } else assert.ok(info, `${s.id}: decoded although its header could not be read`);
  }
  assert.ok(failed > 0 && failed < samples.length, `${failed} of ${samples.length} failed: the fuzzing should break some files and spare others`);
});

test('the pixel limit is checked from the header, with the sizes in the message', async () => {
  assert.throws(() => probeJpeg(big, 'big.jpg', { maxPixels: 1000 }), /big\.jpg: image is 640x480 = 307200 pixels, over the decompression limit of 1000/);
  const { err } = await one(big, 'big.jpg', { maxPixels: 640 * 480 - 1 });
  assert.match(err?.message ?? '', /big\.jpg: image is 640x480 = 307200 pixels, over the decompression limit of 307199 \(maxPixels\)/);
  assert.equal((await one(big, 'big.jpg', { maxPixels: 640 * 480 })).err, undefined);
});

test('slots: each sample lands in its own slot, the others are untouched, a failed one is zeroed', async () => {
  const per = 3 * 32 * 24;
  const out = new Uint8Array(4 * per).fill(99);
  const errs = await decodeJpegBatch(
    [
      { bytes: photo, id: 'a', slot: 2 },
      { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2), id: 'bad', slot: 0 },
    ],
    out,
    opts(),
  );
  assert.equal(errs[0], undefined);
  assert.ok(errs[1] instanceof DataError && errs[1].id === 'bad');
  assert.ok(out.subarray(0, per).every((v) => v === 0), 'slot 0 (failed) zeroed');
  assert.ok(out.subarray(per, 2 * per).every((v) => v === 99) && out.subarray(3 * per).every((v) => v === 99), 'slots 1 and 3 untouched');
  const single = new Uint8Array(per);
  await decodeJpegBatch([{ bytes: photo, id: 'a' }], single, opts());
  assert.deepEqual(out.subarray(2 * per, 3 * per), single, 'slot 2 holds the sample');
});

test('bad arguments are errors that name the problem (the caller\'s bug, not the data\'s)', async () => {
  const u8 = new Uint8Array(3 * 32 * 24);
  const s = [{ bytes: photo, id: 'p' }];
  await assert.rejects(decodeJpegBatch(s, new Uint8Array(100), opts()), /out has 100 elements, not a whole number of 3×24×32 samples/);
  await assert.rejects(decodeJpegBatch(s, new Int16Array(10) as unknown as Uint8Array, opts()), /out must be a Uint8Array or a Float32Array/);
  await assert.rejects(decodeJpegBatch(s, u8, opts({ normalize: { mean: [0, 0, 0], std: [1, 1, 1] } })), /normalize needs a Float32Array out/);
  await assert.rejects(decodeJpegBatch(s, new Float32Array(u8.length), opts({ normalize: { mean: [0], std: [1] } })), /normalize needs 3 finite mean and non-zero std/);
  await assert.rejects(decodeJpegBatch([...s, { bytes: photo, id: 'q', slot: 0 }], new Uint8Array(2 * u8.length), opts()), /q: slot 0 is used by two samples/);
  await assert.rejects(decodeJpegBatch([{ bytes: photo, id: 'p', slot: 1 }], u8, opts()), /p: slot 1 is outside out \(1 samples\)/);
  await assert.rejects(decodeJpegBatch([{ bytes: photo, id: 'p', crop: { left: 100, top: 0, width: 104, height: 10 } }], u8, opts()), /p: crop 104x10\+100\+0 does not fit in the 203x157 \(upright\) image/);
  await assert.rejects(decodeJpegBatch([{ bytes: photo, id: 'p', resize: { width: 40, height: 30 }, offset: { left: 9, top: 0 } }], u8, opts()), /p: the 32x24 output at offset 9,0 does not fit in the 40x30 resized image/);
  await assert.rejects(decodeJpegBatch(s, u8, opts({ threads: 0 })), /threads must be an integer 1..256/);
  await assert.rejects(decodeJpegBatch(s, u8, opts({ width: 0 })), /width and height must be positive integers/);
  assert.equal(isJpeg(photo), true);
  assert.equal(isJpeg(Uint8Array.of(0x89, 0x50)), false);
  assert.equal(probeJpeg(Uint8Array.of(0x89, 0x50, 0x4e, 0x47), 'png'), undefined);
});

test('deterministic: the same bytes for 1, 2 and 3 threads, uint8 and normalised float32', async () => {
  const r = lcg(99);
  const samples: JpegSample[] = [];
  for (let k = 0; k < 24; k++) {
    const src = k % 3 === 0 ? big : photo;
    const [W, H] = src === big ? [640, 480] : [203, 157];
    const w = 40 + Math.floor(r() * (W - 40));
    const h = 30 + Math.floor(r() * (H - 30));
    samples.push({ bytes: src, id: `s${k}`, crop: { left: Math.floor(r() * (W - w)), top: Math.floor(r() * (H - h)), width: w, height: h }, flip: r() < 0.5 });
  }
  const normalize = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  for (const float of [false, true]) {
    const outs: Uint8Array[] = [];
    for (const threads of [1, 2, 3, 2]) {
      const out = float ? new Float32Array(samples.length * 3 * 32 * 24) : new Uint8Array(samples.length * 3 * 32 * 24);
      const errs = await decodeJpegBatch(samples, out, opts({ threads, normalize: float ? normalize : undefined }));
      assert.ok(errs.every((e) => e === undefined));
      outs.push(new Uint8Array(out.buffer));
    }
    for (const o of outs.slice(1)) assert.deepEqual(o, outs[0], float ? 'float32' : 'uint8');
  }
});

test('runs off the event loop: a setImmediate queued after the call runs before the batch resolves', async () => {
  const samples = Array.from({ length: 8 }, (_, k) => ({ bytes: big, id: `b${k}` }));
  let immediate = false;
  const done = decodeJpegBatch(samples, new Uint8Array(8 * 3 * 32 * 24), opts()).then(() => immediate);
  setImmediate(() => (immediate = true));
  assert.equal(await done, true);
});

test('the batch buffer becomes the batch tensor without a copy (fromBufferShared)', async () => {
  const out = new Float32Array(2 * 3 * 24 * 32);
  await decodeJpegBatch([{ bytes: photo, id: 'a' }, { bytes: big, id: 'b', flip: true }], out, opts());
  using x = fromBufferShared(out, [2, 3, 24, 32]);
  assert.deepEqual(x.shape, [2, 3, 24, 32]);
  out[5] = 0.25; // the tensor sees writes to the buffer: it is the same memory
  assert.equal((x.data() as Float32Array)[5], 0.25);
});

test('an idle pool does not keep the process alive, and a worker thread torn down mid-batch exits cleanly', () => {
  const file = join(tempDir(), 'big.jpg');
  writeFileSync(file, big);
  // A batch on the main thread, then a worker that leaves a 64-sample batch in flight and is
  // terminated: the environment's cleanup must stop its pool's threads. Then the process must end
  // by itself (nothing left to do), with status 0.
  const decode = `(threads, n) => import(${JSON.stringify(JPEG_NATIVE)}).then(({ decodeJpegBatch }) => {
    const bytes = new Uint8Array(require('node:fs').readFileSync(${JSON.stringify(file)}));
    return decodeJpegBatch(Array.from({ length: n }, (_, k) => ({ bytes, id: 'x' + k })), new Uint8Array(n * 3 * 8 * 8), { width: 8, height: 8, threads });
  })`;
  const worker = `(${decode})(3, 64); require('node:worker_threads').parentPort.postMessage('started');`;
  const main = `(${decode})(2, 4).then((errs) => {
    if (errs.some((e) => e)) throw errs.find((e) => e);
    const w = new (require('node:worker_threads').Worker)(${JSON.stringify(worker)}, { eval: true });
    w.on('message', () => w.terminate());
    w.on('exit', () => console.log('worker exited'));
  });`;
  const r = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `status ${r.status}, signal ${r.signal} (a timeout means something kept the process alive)\n${r.stderr}`);
  assert.match(r.stdout, /worker exited/);
});
