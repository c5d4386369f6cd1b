// The malformed-request corpus: every way a client can get a request wrong — truncated, zero-byte,
// mislabelled and bomb images, wrong media types, oversized bodies, broken multipart, bad JSON,
// tensors of the wrong shape, datatype or content — is a 4xx whose message names the problem, and
// afterwards the same server (same model worker) still answers, with no 5xx counted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';

import sharp from 'sharp';

import { setNumThreads } from '../../src/index.js';
import { call, makeRun, picture, postBytes, postJson, serve, source, tensorRequest, type Answer } from './helpers.js';

setNumThreads(1);
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BODY_LIMIT = 256 * 1024;

/** A valid PNG whose header claims width × height (CRC fixed), with the original tiny pixel data. */
function pngClaiming(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function form(parts: [field: string, data: Uint8Array | string, type?: string, filename?: string][]): FormData {
  const f = new FormData();
  for (const [field, data, type, filename] of parts) {
    if (typeof data === 'string' && type === undefined) f.append(field, data);
    else f.append(field, new Blob([data], { type: type ?? 'application/octet-stream' }), filename ?? field);
  }
  return f;
}

describe('tessera serve: the malformed-request corpus', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let classify: string;
  let infer: string;
  let png: Buffer;
  let jpeg: Buffer;

  before(async () => {
    const run = makeRun(join(dir, 'run'), { model: 'fashion-net', channels: 1, size: 28 });
    server = await serve([source(run, { maxBatchSize: 4 }, 'm')], { bodyLimit: BODY_LIMIT, maxPixels: 1_000_000 });
    classify = `${server.url}/v2/models/m/classify`;
    infer = `${server.url}/v2/models/m/infer`;
    png = await picture(48, 40, 'png');
    jpeg = await picture(48, 40, 'jpeg');
  });
  after(() => server?.close());

  const cases: [what: string, send: () => Promise<Answer>, status: number, message: RegExp][] = [
    // Images.
    ['a zero-byte image', () => postBytes(classify, new Uint8Array(0), 'image/png'), 400, /image 'body' is empty \(0 bytes\)/],
    ['a truncated JPEG', () => postBytes(classify, jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg'), 400, /image 'body': cannot decode jpeg/],
    ['a truncated PNG', () => postBytes(classify, png.subarray(0, png.length - 30), 'image/png'), 400, /image 'body': cannot decode png/],
    ['bytes that are no image', () => postBytes(classify, Buffer.from('GET / HTTP/1.1\r\n'.repeat(20)), 'image/jpeg'), 400, /not a JPEG, PNG or WebP file/],
    ['a GIF', async () => postBytes(classify, await sharp(png).gif().toBuffer(), 'application/octet-stream'), 415, /image 'body' is GIF; the server reads JPEG, PNG and WebP/],
    ['a TIFF labelled image/png', async () => postBytes(classify, await sharp(png).tiff().toBuffer(), 'image/png'), 415, /is TIFF/],
    ['a decompression bomb (4 Mpx of one colour, 8 KB)', async () => postBytes(classify, await sharp({ create: { width: 2000, height: 2000, channels: 3, background: 'red' } }).png().toBuffer(), 'image/png'), 400, /2000x2000 = 4000000 pixels, over the decompression limit of 1000000/],
    ['a PNG whose header claims 100000×100000', () => postBytes(classify, pngClaiming(png, 100_000, 100_000), 'image/png'), 400, /100000x100000 = 10000000000 pixels, over the decompression limit/],
    ['an image over the body limit', () => postBytes(classify, Buffer.concat([jpeg, Buffer.alloc(BODY_LIMIT)]), 'image/jpeg'), 413, /over the limit of 262144 bytes/],
    ['text/plain', () => postBytes(classify, Buffer.from('hello'), 'text/plain'), 415, /unsupported media type 'text\/plain': …\/infer takes application\/json, …\/classify image\/jpeg/],
    ['JSON to the image route', () => postJson(classify, { image: 'x' }), 415, /…\/classify takes image\/jpeg, image\/png, image\/webp, application\/octet-stream or multipart\/form-data, got application\/json/],
    ['a bad top_k', () => postBytes(`${classify}?top_k=two`, png, 'image/png'), 400, /top_k must be a positive integer, got "two"/],
    ['a model that is not served', () => postBytes(`${server.url}/v2/models/nope/classify`, png, 'image/png'), 404, /no model named 'nope'/],
    ['GET on a POST route', () => call(classify), 404, /no route GET \/v2\/models\/m\/classify/],
    // Multipart.
    ['multipart: more images than the max batch size', () => call(classify, { method: 'POST', body: form(Array.from({ length: 5 }, (_, i) => ['image', png, 'image/png', `${i}.png`])) }), 413, /more than 4 images in one request/],
    ['multipart: an image over the body limit', () => call(classify, { method: 'POST', body: form([['image', Buffer.alloc(BODY_LIMIT + 10), 'image/png', 'big.png']]) }), 413, /over the body limit of 262144 bytes/],
    ['multipart: a text field', () => call(classify, { method: 'POST', body: form([['top_k', '3']]) }), 400, /multipart field 'top_k' is not a file/],
    ['multipart: a GIF part', () => call(classify, { method: 'POST', body: form([['image', png, 'image/gif', 'x.gif']]) }), 415, /multipart file 'x.gif' is image\/gif/],
    ['multipart: a truncated part among good ones', () => call(classify, { method: 'POST', body: form([['image', png, 'image/png', 'ok.png'], ['image', jpeg.subarray(0, 200), 'image/jpeg', 'cut.jpg']]) }), 400, /image 'cut.jpg': cannot decode jpeg/],
    ['multipart: a body cut short', () => postBytes(classify, Buffer.from('--zzz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc'), 'multipart/form-data; boundary=zzz'), 400, /malformed multipart body/],
    ['multipart: no parts', () => postBytes(classify, Buffer.from('--zzz--\r\n'), 'multipart/form-data; boundary=zzz'), 400, /no image file parts/],
    // JSON tensors.
    ['JSON cut short', () => postBytes(infer, Buffer.from('{"inputs": [{"name": "input"'), 'application/json'), 400, /the body is not valid JSON/],
    ['an empty JSON body', () => postBytes(infer, new Uint8Array(0), 'application/json'), 400, /the body is not valid JSON/],
    ['a prototype-poisoning body', () => postBytes(infer, Buffer.from('{"__proto__": {"x": 1}, "inputs": []}'), 'application/json'), 400, /prototype|not valid JSON/i],
    ['a body that is an array', () => postJson(infer, [1, 2]), 400, /the request body must be a JSON object with 'inputs', got an array/],
    ['no inputs', () => postJson(infer, { outputs: [] }), 400, /inputs must be a non-empty array of tensors, got nothing/],
    ['two inputs', () => postJson(infer, { inputs: [{}, {}] }), 400, /the model takes one input \('input'\), got 2/],
    ['an unknown field', () => postJson(infer, { ...tensorRequest([1, 1, 28, 28]), priority: 1 }), 400, /unknown field 'priority'/],
    ['the wrong input name', () => postJson(infer, { inputs: [{ ...(tensorRequest([1, 1, 28, 28]).inputs as object[])[0], name: 'x' }] }), 400, /inputs\[0\].name is "x"; the model's input is 'input'/],
    ['datatype INT64', () => postJson(infer, { inputs: [{ ...(tensorRequest([1, 1, 28, 28]).inputs as object[])[0], datatype: 'INT64' }] }), 400, /datatype "INT64" is not the model's FP32/],
    ['no datatype', () => postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 28, 28], data: [] }] }), 400, /datatype undefined is not the model's FP32/],
    ['the wrong image size', () => postJson(infer, tensorRequest([1, 1, 28, 27])), 400, /shape \[1, 1, 28, 27\] does not fit the model, which takes \[n, 1, 28, 28\] with n from 1 to 4/],
    ['a shape without a batch axis', () => postJson(infer, tensorRequest([1, 28, 28])), 400, /shape \[1, 28, 28\] does not fit the model/],
    ['a negative dimension', () => postJson(infer, { inputs: [{ name: 'input', shape: [-1, 1, 28, 28], datatype: 'FP32', data: [] }] }), 400, /shape must be an array of non-negative integers, got \[-1,1,28,28\]/],
    ['a batch over the max batch size', () => postJson(infer, tensorRequest([5, 1, 28, 28])), 400, /a batch of 5 is outside 1 to 4/],
    ['an empty batch', () => postJson(infer, { inputs: [{ name: 'input', shape: [0, 1, 28, 28], datatype: 'FP32', data: [] }] }), 400, /a batch of 0 is outside 1 to 4/],
    ['too few values', () => postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: [1, 2, 3] }] }), 400, /shape \[1, 1, 28, 28\] holds 784 values but data has 3/],
    ['a string among the values', () => postJson(infer, tensorRequest([1, 1, 28, 28], (i) => (i === 3 ? ('3' as unknown as number) : 0))), 400, /data\[3\] is a string, not a number/],
    ['a null among the values', () => postJson(infer, tensorRequest([1, 1, 28, 28], (i) => (i === 700 ? (null as unknown as number) : 0))), 400, /data\[700\] is null, not a number/],
    ['a value beyond float32', () => postJson(infer, tensorRequest([1, 1, 28, 28], (i) => (i === 9 ? 1e39 : 0))), 400, /data\[9\] \(1e\+39\) is outside float32's range/],
    ['nested data with a short row', () => postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 2, 2], datatype: 'FP32', data: [[[[1, 2], [3]]]] }] }), 400, /shape \[1, 1, 2, 2\] does not fit the model/],
    ['data not an array', () => postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: 'AAAA' }] }), 400, /data must be an array of numbers, got a string/],
    ['a parameter the server does not act on', () => postJson(infer, { ...tensorRequest([1, 1, 28, 28]), parameters: { priority: 2 } }), 400, /parameters.priority is not supported/],
    ['an output the model does not have', () => postJson(infer, { ...tensorRequest([1, 1, 28, 28]), outputs: [{ name: 'probabilities' }] }), 400, /outputs\[0\].name is "probabilities"; the model's output is 'output'/],
    ['JSON nested 100,000 deep', () => postBytes(infer, Buffer.from(`{"inputs": [${'['.repeat(100_000)}${']'.repeat(100_000)}]}`), 'application/json'), 400, /inputs\[0\] must be an object|not valid JSON/],
    ['an image to /infer', () => postBytes(infer, png, 'image/png'), 415, /POST …\/infer takes application\/json \(KServe v2 tensors\), got image\/png/],
  ];

  for (const [what, send, status, message] of cases)
    it(`${what} → ${status}`, async () => {
      const r = await send();
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body.error), message);
    });

  it('nested data of the right shape still works, with one short row refused by position', async () => {
    const row = Array.from({ length: 28 }, () => 0.5);
    const image = Array.from({ length: 28 }, () => row);
    const ok = await postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: [[image]] }] });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const bad = await postJson(infer, { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: [[[...image.slice(0, 27), row.slice(1)]]] }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "input 'input': data[0][0][27] has 27 entries, expected 28 (shape [1, 1, 28, 28])");
  });

  it('after the corpus the same server and model worker answer, and no 5xx was counted', async () => {
    assert.equal((await call(`${server.url}/v2/health/ready`)).status, 200);
    const r = await postBytes(classify, png, 'image/png');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(server.log, [], 'no worker restart and no internal error was logged');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.doesNotMatch(text, /tessera_http_requests_total\{[^}]*code="5\d\d"\}/);
  });
});
