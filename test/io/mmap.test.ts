import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { mapFile } from '../../src/io/mmap.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-mmap-'));

test('mapFile gives the file bytes, and writes into them never reach the file', () => {
  const path = join(dir, 'a.bin');
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  writeFileSync(path, bytes);
  const mapped = mapFile(path);
  assert.equal(mapped.length, bytes.length);
  assert.deepEqual(Buffer.from(mapped), bytes);
  mapped[0] = 200;
  assert.equal(mapped[0], 200);
  assert.deepEqual(readFileSync(path), bytes);
});

test('mapFile of an empty file is empty', () => {
  const path = join(dir, 'empty.bin');
  writeFileSync(path, Buffer.alloc(0));
  assert.equal(mapFile(path).length, 0);
});

test('mapFile names the path for a missing file or a directory, and the process lives', () => {
  assert.throws(() => mapFile(join(dir, 'missing.bin')), /missing\.bin: No such file/);
  assert.throws(() => mapFile(dir), /not a regular file/);
});

test('mapFile refuses a file above 4 GiB with a message, instead of taking the process down', () => {
  const path = join(dir, 'huge.bin');
  // A sparse file: no disk space is used.
  writeFileSync(path, Buffer.alloc(0));
  truncateSync(path, 2 ** 32 + 1);
  assert.throws(() => mapFile(path), /more than one ArrayBuffer can hold/);
  truncateSync(path, 0);
});
