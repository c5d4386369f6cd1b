import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import { encodeTar, readTar, writeTar, type TarMember } from '../../../src/data/formats/tar.js';
import { DataError } from '../../../src/data/types.js';
import { fuzz, py, withinMs } from './fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'tar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function* chunked(bytes: Uint8Array, size = 700): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function members(bytes: Uint8Array, name = 'shard.tar', opts = {}): Promise<TarMember[]> {
  const out: TarMember[] = [];
  for await (const m of readTar(chunked(bytes), name, opts)) out.push(m);
  return out;
}
const text = (m: TarMember) => Buffer.from(m.data).toString();

const ENTRIES = [
  { name: 'train/0001.jpg', data: new Uint8Array(1500).fill(7) },
  { name: 'train/0001.cls', data: '3' },
  { name: 'train/0002.jpg', data: new Uint8Array(512).fill(9) },
  { name: 'train/0002.cls', data: '1' },
];

describe('tar shards', () => {
  it('round-trips, and Python tarfile reads what we write', async () => {
    const path = join(dir, 'ours.tar');
    await writeTar(path, ENTRIES);
    const got = await members(readFileSync(path));
    assert.deepEqual(got.map((m) => [m.name, m.data.length]), [['train/0001.jpg', 1500], ['train/0001.cls', 1], ['train/0002.jpg', 512], ['train/0002.cls', 1]]);
    assert.equal(text(got[3]!), '1');
    const listed = py(`import tarfile\nt = tarfile.open('ours.tar')\nprint(';'.join('%s:%d:%d' % (m.name, m.size, sum(t.extractfile(m).read())) for m in t))`, dir).trim();
    assert.equal(listed, 'train/0001.jpg:1500:10500;train/0001.cls:1:51;train/0002.jpg:512:4608;train/0002.cls:1:49');
  });

  it("reads Python's tar files: GNU and PAX long names, directories skipped, gzip detected", async () => {
    const long = `${'d'.repeat(120)}/0001`;
    py(`
import tarfile, io
for fmt, name in [(tarfile.GNU_FORMAT, 'gnu.tar'), (tarfile.PAX_FORMAT, 'pax.tar')]:
    with tarfile.open(name, 'w', format=fmt) as t:
        d = tarfile.TarInfo('${long.split('/')[0]}'); d.type = tarfile.DIRTYPE; t.addfile(d)
        for ext, data in [('png', b'\\x89PNG' * 100), ('cls', b'4')]:
            info = tarfile.TarInfo('${long}.' + ext); info.size = len(data); t.addfile(info, io.BytesIO(data))
with tarfile.open('gz.tar.gz', 'w:gz') as t:
    info = tarfile.TarInfo('a.txt'); info.size = 2; t.addfile(info, io.BytesIO(b'hi'))`, dir);
    for (const f of ['gnu.tar', 'pax.tar']) {
      const got = await members(readFileSync(join(dir, f)), f);
      assert.deepEqual(got.map((m) => [m.name, m.data.length]), [[`${long}.png`, 400], [`${long}.cls`, 1]], f);
    }
    const gz = await members(readFileSync(join(dir, 'gz.tar.gz')), 'gz.tar.gz');
    assert.deepEqual(gz.map((m) => [m.name, text(m)]), [['a.txt', 'hi']]);
  });

  it('damage is a DataError naming the shard and the member', async () => {
    const good = Buffer.concat(await encodeTar(ENTRIES));
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 900), /^DataError: s\.tar: in member 'train\/0001\.jpg': the archive ends in the middle of a member \(truncated\)/],
      [good.subarray(0, 512 + 1536), /s\.tar: after member 'train\/0001\.jpg': the archive has no end-of-archive marker: truncated\?/],
      [new Uint8Array(3000).fill(65), /s\.tar: at the start: invalid tar header/],
      [Uint8Array.from([...good.subarray(0, 2048), ...new Uint8Array(512).fill(1)]), /s\.tar: after member 'train\/0001\.jpg': invalid tar header/],
      [new Uint8Array(0), /s\.tar: at the start: the shard is empty/],
      [gzipSync(good).subarray(0, 60), /s\.tar: at the start: corrupt gzip data/],
    ];
    for (const [bytes, re] of cases) {
      await assert.rejects(withinMs(members(bytes, 's.tar'), 2000, String(re)), (e: Error) => e instanceof DataError && re.test(String(e)), String(re));
    }
    await assert.rejects(members(good, 's.tar', { maxMemberBytes: 1000 }), /in member 'train\/0001\.jpg': member of 1500 bytes exceeds the 1000-byte limit/);
  });

  it('stopping early releases the source', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(Buffer.concat(await encodeTar(ENTRIES)), 100);
        for (;;) yield new Uint8Array(0); // a source that would never end on its own
      } finally {
        finished = true;
      }
    }
    for await (const m of readTar(source(), 'endless.tar')) {
      assert.equal(m.name, 'train/0001.jpg');
      break;
    }
    await new Promise((r) => setImmediate(r));
    assert.ok(finished, 'the source generator was closed');
  });

  it('fuzz: damaged shards end in a DataError or valid members, never a hang (300 cases)', async () => {
    const good = Buffer.concat(await encodeTar(ENTRIES));
    await fuzz({
      good, name: 'fuzz.tar', cases: 300, seed: 4242, headerBytes: 512,
      attempt: async (bytes, c) => {
        for (const m of await withinMs(members(bytes, 'fuzz.tar'), 2000, `case ${c}`)) assert.ok(m.data instanceof Uint8Array);
      },
    });
  });
});
