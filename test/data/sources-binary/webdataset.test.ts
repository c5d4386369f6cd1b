import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { writeTar, type TarEntry } from '../../../src/data/formats/tar.js';
import { locationFreeId, streamPart } from '../../../src/data/pipeline/shards.js';
import { webDataset } from '../../../src/data/sources/webdataset.js';
import { DataError, type SampleRecord, type StreamContext, type StreamingDataset } from '../../../src/data/types.js';
import { withinMs } from '../formats/fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'wds-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SHARDS = 5;
const PER_SHARD = 4;
const shardName = (s: number) => `shard-${String(s).padStart(2, '0')}.tar`;

// Shard s holds samples s{s}/{i}: a fake JPEG whose bytes say which sample it is, and a .cls label.
for (let s = 0; s < SHARDS; s++) {
  const entries: TarEntry[] = [];
  for (let i = 0; i < PER_SHARD; i++) {
    entries.push({ name: `s${s}/${i}.jpg`, data: `jpeg ${s}/${i} ${'x'.repeat(3000)}` });
    entries.push({ name: `s${s}/${i}.cls`, data: String((s + i) % 3) });
  }
  await writeTar(join(dir, shardName(s)), entries);
}
const ALL = Array.from({ length: SHARDS * PER_SHARD }, (_, k) => `s${Math.floor(k / PER_SHARD)}/${k % PER_SHARD}`);

type Out = SampleRecord & { index: number };
async function collect(ds: StreamingDataset, ctx: Partial<StreamContext> = {}): Promise<Out[]> {
  const out: Out[] = [];
  for await (const r of ds.stream({ epoch: 0, seed: 1, rank: 0, worldSize: 1, ...ctx })) out.push(r);
  return out;
}
const key = (r: SampleRecord) => r.id.slice(r.id.indexOf('#') + 1);

describe('webDataset: local shards', () => {
  const pattern = join(dir, 'shard-{00..04}.tar');

  it('groups members by key into samples, in shard order, with labels and ids', async () => {
    const ds = webDataset(pattern, { shuffleShards: false, classes: ['a', 'b', 'c'], lengthHint: 20 });
    const got = await collect(ds);
    assert.deepEqual(got.map(key), ALL);
    assert.deepEqual(got.map((r) => r.index), ALL.map((_, i) => i));
    const r = got[6]!;
    assert.equal(r.id, `${join(dir, 'shard-01.tar')}#s1/2`);
    assert.equal(r.label, (1 + 2) % 3);
    assert.ok(r.input.kind === 'encoded');
    assert.match(Buffer.from(r.input.bytes).toString(), /^jpeg 1\/2 /);
    assert.equal(ds.lengthHint, 20);
    assert.match(ds.describe(), /WebDataset 5 shards \(.*shard-\{00\.\.04\}\.tar\), 3 classes/);
  });

  it('shuffles shards per epoch, the same way for the same (seed, epoch)', async () => {
    const ds = webDataset(pattern);
    const order = async (epoch: number, seed = 1) => [...new Set((await collect(ds, { epoch, seed })).map((r) => r.id.split('#')[0]))].join();
    const e0 = await order(0);
    assert.equal(await order(0), e0);
    const others = [await order(1), await order(2), await order(0, 2)];
    assert.ok(others.some((o) => o !== e0), 'another epoch or seed gives another order');
    for (const o of others) assert.deepEqual(o.split(',').sort(), e0.split(',').sort());
  });

  for (const worldSize of [2, 3, 5, 8]) {
    it(`splits across ${worldSize} ranks: every sample exactly once${worldSize > SHARDS ? ' (by sample: fewer shards than ranks)' : ' (by shard)'}`, async () => {
      const ds = webDataset(pattern);
      const seen: string[] = [];
      const indices: number[] = [];
      for (let rank = 0; rank < worldSize; rank++) {
        for (const r of await collect(ds, { rank, worldSize, epoch: 3 })) {
          seen.push(key(r));
          indices.push(r.index);
        }
      }
      assert.deepEqual([...seen].sort(), [...ALL].sort());
      assert.equal(new Set(indices).size, indices.length, 'indices are unique across ranks');
      if (worldSize > SHARDS) assert.deepEqual([...indices].sort((a, b) => a - b), ALL.map((_, i) => i), 'by sample: true global positions');
    });
  }

  it('reads labels from .json and .txt, by index or class name; unlabelled samples get -1', async () => {
    const p = join(dir, 'labels.tar');
    await writeTar(p, [
      { name: 'a.jpg', data: 'x' }, { name: 'a.json', data: '{"label": "dog", "extra": 1}' },
      { name: 'b.png', data: 'x' }, { name: 'b.txt', data: 'cat\n' },
      { name: 'c.webp', data: 'x' }, { name: 'c.json', data: '1' },
      { name: 'd.jpeg', data: 'x' },
      { name: '__meta__.json', data: '{}' },
      { name: 'e.jpg', data: 'x' }, { name: 'e.seg.png', data: 'mask' }, { name: 'e.cls', data: ' 0 ' },
    ]);
    const got = await collect(webDataset(p, { classes: ['cat', 'dog'] }));
    assert.deepEqual(got.map((r) => [key(r), r.label]), [['a', 1], ['b', 0], ['c', 1], ['d', -1], ['e', 0]]);
  });

  it('label problems name the sample and the member', async () => {
    const cases: [TarEntry[], RegExp, string[]?][] = [
      [[{ name: 'k.jpg', data: 'x' }, { name: 'k.cls', data: 'dog' }], /bad\.tar#k\.cls: label is the class name 'dog', but no class list was given/],
      [[{ name: 'k.jpg', data: 'x' }, { name: 'k.txt', data: 'horse' }], /bad\.tar#k\.txt: class 'horse' is not one of the 2 classes/, ['cat', 'dog']],
      [[{ name: 'k.jpg', data: 'x' }, { name: 'k.cls', data: '7' }], /bad\.tar#k\.cls: label 7 is not a class index \(2 classes\)/, ['cat', 'dog']],
      [[{ name: 'k.jpg', data: 'x' }, { name: 'k.json', data: '{oops' }], /bad\.tar#k\.json: not valid JSON/],
      [[{ name: 'k.jpg', data: 'x' }, { name: 'k.json', data: '{"y": 1}' }], /bad\.tar#k\.json: no label in undefined/],
      [[{ name: 'k.cls', data: '1' }, { name: 'k.txt', data: 'hi' }], /bad\.tar#k: no image member \(has \.cls, \.txt; expected one of \.jpg/],
    ];
    for (const [entries, re, classes] of cases) {
      await writeTar(join(dir, 'bad.tar'), entries);
      await assert.rejects(collect(webDataset(join(dir, 'bad.tar'), classes ? { classes } : {})), (e: Error) => e instanceof DataError && re.test(e.message), String(re));
    }
  });

  it('a missing or truncated shard is a DataError naming it', async () => {
    await assert.rejects(collect(webDataset(join(dir, 'nope-{1..2}.tar'))), /nope-\d\.tar: cannot read: ENOENT/);
    const cut = join(dir, 'cut.tar');
    await writeTar(cut, [{ name: 'a.jpg', data: 'x'.repeat(5000) }]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cut, readFileSync(cut).subarray(0, 3000));
    await assert.rejects(collect(webDataset(cut)), /cut\.tar: in member 'a\.jpg': the archive ends in the middle of a member \(truncated\)/);
  });

  it('refuses a rank outside the world', async () => {
    await assert.rejects(collect(webDataset(pattern), { rank: 2, worldSize: 2 }), /rank 2 is not in 0\.\.1/);
  });
});

// ---- over http -------------------------------------------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse, file: Buffer, hits: number) => void;
const servers: { close: () => void }[] = [];
after(() => servers.forEach((s) => s.close()));

/** A local server for the shards; `handler` decides how each request is answered. */
async function serve(handler: Handler): Promise<{ base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const n = (hits.get(name) ?? 0) + 1;
    hits.set(name, n);
    let file: Buffer;
    try {
      file = readFileSync(join(dir, name));
    } catch {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    handler(req, res, file, n);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => { server.closeAllConnections(); server.close(); } });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** Honours Range; sends at most up to byte `stopAt` of the file, then drops the connection. */
function send(req: IncomingMessage, res: ServerResponse, file: Buffer, opts: { range?: boolean; stopAt?: number } = {}): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m && opts.range !== false ? Number(m[1]) : 0;
  const headers = { 'content-length': String(file.length - start), ...(start ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}) };
  res.writeHead(start ? 206 : 200, headers);
  if (opts.stopAt === undefined || opts.stopAt >= file.length) {
    res.end(file.subarray(start));
    return;
  }
  res.write(file.subarray(start, Math.max(start, opts.stopAt)), () => res.destroy());
}

const fast = { backoffMs: 5, idleTimeoutMs: 2000 };

describe('webDataset: http(s) shards', () => {
  it('streams shards from a server, brace pattern and all', async () => {
    const { base } = await serve((req, res, file) => send(req, res, file));
    const got = await collect(webDataset(`${base}/shard-{00..04}.tar`, { shuffleShards: false, ...fast }));
    assert.deepEqual(got.map(key), ALL);
    assert.ok(got[0]!.id.startsWith(`${base}/shard-00.tar#`));
  });

  it('names the URL and the status of a failed request, without retrying a 404', async () => {
    const { base, hits } = await serve((req, res, file) => send(req, res, file));
    await assert.rejects(collect(webDataset(`${base}/missing.tar`, fast)), (e: Error) => e instanceof DataError && e.message === `${base}/missing.tar: HTTP 404 Not Found`);
    assert.equal(hits.get('missing.tar'), 1);
  });

  it('retries a 503 with backoff', async () => {
    const { base, hits } = await serve((req, res, file, n) => (n <= 2 ? res.writeHead(503).end() : send(req, res, file)));
    assert.equal((await collect(webDataset(`${base}/shard-00.tar`, fast))).length, PER_SHARD);
    assert.equal(hits.get('shard-00.tar'), 3);
  });

  it('a connection dropped mid-shard resumes with a Range request: every sample exactly once', async () => {
    const { base, hits } = await serve((req, res, file, n) => send(req, res, file, n === 1 ? { stopAt: 5000 } : {}));
    const got = await withinMs(collect(webDataset(`${base}/shard-{00..04}.tar`, { shuffleShards: false, ...fast })), 5000, 'resume');
    assert.deepEqual(got.map(key), ALL);
    assert.ok([...hits.values()].every((n) => n === 2), 'each shard: the dropped request and one resume');
  });

  it('resumes even when the server ignores Range (the bytes already read are skipped)', async () => {
    const { base } = await serve((req, res, file, n) => send(req, res, file, { range: false, ...(n === 1 ? { stopAt: 7000 } : {}) }));
    const got = await withinMs(collect(webDataset(`${base}/shard-03.tar`, fast)), 5000, 'no range');
    assert.deepEqual(got.map(key), ALL.filter((k) => k.startsWith('s3/')));
  });

  it('gives up with an error naming the URL when every attempt drops at the same place', async () => {
    const { base, hits } = await serve((req, res, file) => send(req, res, file, { stopAt: 5000 }));
    await assert.rejects(withinMs(collect(webDataset(`${base}/shard-01.tar`, { ...fast, retries: 2 })), 5000, 'give up'),
      (e: Error) => e instanceof DataError && new RegExp(`^${base}/shard-01\\.tar: 3 attempts in a row failed \\(5000 bytes received in all\\)`).test(e.message));
    assert.equal(hits.get('shard-01.tar'), 3, 'one attempt that delivered data, then 2 retries that did not');
  });

  it('a server that stalls mid-shard times out instead of hanging', async () => {
    const { base } = await serve((req, res, file) => {
      res.writeHead(200, { 'content-length': String(file.length) });
      res.write(file.subarray(0, 1000)); // and then nothing, connection left open
    });
    const t = performance.now();
    await assert.rejects(withinMs(collect(webDataset(`${base}/shard-02.tar`, { backoffMs: 5, idleTimeoutMs: 150, retries: 1 })), 5000, 'stall'),
      /shard-02\.tar: 2 attempts in a row failed \(1000 bytes received in all\): no data for 150 ms/);
    assert.ok(performance.now() - t < 3000);
  });

  it('stops when the stream is aborted', async () => {
    const { base } = await serve((req, res, file) => {
      res.writeHead(200, { 'content-length': String(file.length) });
      res.write(file.subarray(0, 1000));
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stopped by the test')), 100);
    await assert.rejects(withinMs(collect(webDataset(`${base}/shard-02.tar`, { idleTimeoutMs: 60_000 }), { signal: ac.signal }), 3000, 'abort'), /stopped by the test/);
  });
});

describe('webDataset: a held-out split by sample id', () => {
  it('depends on the shard file name and the key, not on where the shards are', () => {
    const rule = { seed: 0, val: 0.2, test: 0.3 };
    const keys = Array.from({ length: 200 }, (_, i) => `shard-${i % 3}.tar#${String(i).padStart(4, '0')}`);
    const parts = (dir: string) => keys.map((k) => streamPart(`${dir}${k}`, rule));
    const here = parts('/tmp/tessera-a1b2/sources/wds/');
    assert.deepEqual(parts('/data/copy/'), here);
    assert.deepEqual(parts('https://example.org/shards/'), here);
    assert.deepEqual(parts(''), here);
    // …and the rule still splits: every part gets about its share.
    const share = (p: string) => here.filter((x) => x === p).length / keys.length;
    assert.ok(Math.abs(share('test') - 0.3) < 0.1 && Math.abs(share('val') - 0.2) < 0.1, `test ${share('test')}, val ${share('val')}`);
    assert.equal(locationFreeId('/a/b/shard-0.tar#x/y'), 'shard-0.tar#x/y', 'a key with a slash keeps it');
  });
});
