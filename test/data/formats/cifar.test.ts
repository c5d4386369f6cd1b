import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { openCifarBatch } from '../../../src/data/formats/cifar.js';
import { cifarRecords } from './cifar-records.js';
import { fuzz, py } from './fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'cifar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CIFAR binary batches', () => {
  it('turns planar records into HWC images exactly as numpy reshapes them', () => {
    writeFileSync(join(dir, 'b10.bin'), cifarRecords(3, 10, 1));
    writeFileSync(join(dir, 'b100.bin'), cifarRecords(3, 100, 2));
    // The usual numpy recipe for CIFAR binaries: reshape(3, 32, 32).transpose(1, 2, 0).
    const ref = JSON.parse(py(`
import json
out = {}
for name, head in [('b10.bin', 1), ('b100.bin', 2)]:
    r = np.fromfile(name, dtype=np.uint8).reshape(-1, head + 3072)
    out[name] = [r[:, :head].tolist(), [x[head:].reshape(3, 32, 32).transpose(1, 2, 0).ravel()[:: 97].tolist() for x in r]]
print(json.dumps(out))`, dir)) as Record<string, [number[][], number[][]]>;
    for (const [name, variant] of [['b10.bin', 10], ['b100.bin', 100]] as const) {
      const b = openCifarBatch(join(dir, name), variant);
      const [heads, samples] = ref[name]!;
      assert.equal(b.count, 3);
      for (let i = 0; i < 3; i++) {
        const img = b.image(i);
        assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
        assert.deepEqual(Array.from(img.data).filter((_, k) => k % 97 === 0), samples[i], `${name}[${i}] pixels`);
        assert.equal(b.fine[i], heads[i]![variant === 10 ? 0 : 1]);
        if (variant === 100) assert.equal(b.coarse![i], heads[i]![0]);
      }
    }
  });

  it('names the file and the offending byte offset', () => {
    const bytes = cifarRecords(2, 10, 3);
    writeFileSync(join(dir, 'short.bin'), bytes.subarray(0, 3073 + 100));
    assert.throws(() => openCifarBatch(join(dir, 'short.bin'), 10), /short\.bin: size 3173 is not a multiple of the 3073-byte CIFAR-10 record: 100 stray bytes from byte offset 3073/);
    const badLabel = Uint8Array.from(bytes);
    badLabel[3073] = 12;
    writeFileSync(join(dir, 'label.bin'), badLabel);
    assert.throws(() => openCifarBatch(join(dir, 'label.bin'), 10), /label\.bin: record 1 at byte offset 3073: label 12 is not below 10/);
    const badCoarse = cifarRecords(2, 100, 4);
    badCoarse[3074] = 25;
    writeFileSync(join(dir, 'coarse.bin'), badCoarse);
    assert.throws(() => openCifarBatch(join(dir, 'coarse.bin'), 100), /coarse\.bin: record 1 at byte offset 3074: coarse label 25 is not below 20/);
    // A CIFAR-100 file read as CIFAR-10 (or the reverse) is caught by the record size.
    assert.throws(() => openCifarBatch(join(dir, 'b100.bin'), 10), /not a multiple of the 3073-byte CIFAR-10 record.*other CIFAR variant/);
    writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
    assert.throws(() => openCifarBatch(join(dir, 'empty.bin'), 10), /empty\.bin: the file is empty/);
    assert.throws(() => openCifarBatch(join(dir, 'b10.bin'), 10).image(3), /b10\.bin\[3\]: record out of range/);
  });

  it('fuzz: damaged batches give a DataError naming the file (300 cases)', async () => {
    const good = cifarRecords(3, 100, 5);
    const path = join(dir, 'fuzz.bin');
    await fuzz({
      good, name: 'fuzz.bin', cases: 300, seed: 99, headerBytes: 2,
      attempt: (bytes) => {
        writeFileSync(path, bytes);
        const b = openCifarBatch(path, 100);
        for (let i = 0; i < b.count; i++) assert.equal(b.image(i).data.length, 3072);
      },
    });
  });
});
