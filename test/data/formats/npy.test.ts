import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { memoryBytes, openFileBytes } from '../../../src/data/formats/file-bytes.js';
import { parseNpy, readNpy, toNumbers, type NpyDtype } from '../../../src/data/formats/npy.js';
import { encodeNpy, writeNpy } from '../../../src/data/formats/npy-write.js';
import { parseNpz, readNpz } from '../../../src/data/formats/npz.js';
import { DataError } from '../../../src/data/types.js';
import { fuzz, py } from './fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const mem = (bytes: Uint8Array, name = 'mem.npy') => {
  const b = memoryBytes(bytes, name);
  return { name, size: b.size, read: b.read };
};
const numbers = (a: ReturnType<typeof readNpy>) => Array.from(toNumbers(a.read()));

// Every dtype, little- and big-endian, and the three header versions, as numpy writes them.
const PY_WRITE = `
import json
from numpy.lib import format as fmt
out = {}
for code in ['|u1','|i1','|b1','<i2','<i4','<i8','<f2','<f4','<f8','>i2','>i4','>i8','>f4','>f8']:
    a = np.arange(24).reshape(2, 3, 4)
    a = (a % 2 == 1) if code == '|b1' else (a - 12 if code[1] in 'i' and code != '|u1' else a / 4 if code[1] == 'f' else a)
    a = a.astype(code)
    name = code.replace('|', 'p').replace('<', 'l').replace('>', 'b') + '.npy'
    np.save(name, a)
    out[name] = [str(a.dtype), list(a.shape), a.astype(float).ravel().tolist()]
for v in [(1, 0), (2, 0), (3, 0)]:
    with open('v%d.npy' % v[0], 'wb') as f:
        fmt.write_array(f, np.arange(6, dtype=np.float32).reshape(3, 2) * 1.5, version=v)
np.save('fortran.npy', np.asfortranarray(np.zeros((2, 3))))
np.save('complex.npy', np.zeros(3, dtype=np.complex64))
np.save('strings.npy', np.array(['ab', 'c']))
np.save('scalar.npy', np.float64(2.5))
np.save('empty.npy', np.zeros((0, 3), dtype=np.uint8))
np.savez('stored.npz', images=np.arange(12, dtype=np.uint8).reshape(3, 2, 2), labels=np.array([2, 0, 1]))
np.savez_compressed('deflated.npz', x=np.arange(1000, dtype=np.int32) % 7)
print(json.dumps(out))
`;
const written = JSON.parse(py(PY_WRITE, dir)) as Record<string, [string, number[], number[]]>;

describe('NPY reader', () => {
  it("reads numpy's files: every supported dtype, both byte orders", () => {
    for (const [file, [dtype, shape, values]] of Object.entries(written)) {
      const a = readNpy(join(dir, file));
      assert.deepEqual(a.shape, shape, file);
      assert.equal(a.littleEndian, !file.startsWith('b'), file);
      assert.deepEqual(numbers(a), values, `${file} (${dtype})`);
      // Partial reads give the same elements as the full read.
      assert.deepEqual(Array.from(toNumbers(a.read(5, 7))), values.slice(5, 12), file);
    }
  });

  it('reads header versions 1.0, 2.0 and 3.0, 0-d and empty arrays', () => {
    for (const v of [1, 2, 3]) {
      const bytes = readFileSync(join(dir, `v${v}.npy`));
      assert.equal(bytes[6], v);
      assert.deepEqual(numbers(readNpy(join(dir, `v${v}.npy`))), [0, 1.5, 3, 4.5, 6, 7.5]);
    }
    const scalar = readNpy(join(dir, 'scalar.npy'));
    assert.deepEqual([scalar.shape, numbers(scalar)], [[], [2.5]]);
    const empty = readNpy(join(dir, 'empty.npy'));
    assert.deepEqual([empty.shape, empty.size], [[0, 3], 0]);
  });

  it('maps the file: stored bytes are a view, not a copy', () => {
    const a = readNpy(join(dir, 'pu1.npy'));
    const view = a.rawBytes(0, 24);
    assert.equal(view.buffer.byteLength, readFileSync(join(dir, 'pu1.npy')).length, 'a view onto the whole mapped file');
  });

  it('refuses what it cannot read, naming the file and the reason', () => {
    assert.throws(() => readNpy(join(dir, 'fortran.npy')), (e: Error) => e instanceof DataError && /fortran\.npy: arrays in Fortran order are not supported.*ascontiguousarray/.test(e.message));
    assert.throws(() => readNpy(join(dir, 'complex.npy')), /complex\.npy: unsupported dtype '<c8'/);
    assert.throws(() => readNpy(join(dir, 'strings.npy')), /strings\.npy: unsupported dtype '<U2'/);
    assert.throws(() => readNpy(join(dir, 'missing.npy')), /missing\.npy: cannot open/);
    const good = readFileSync(join(dir, 'lf4.npy'));
    assert.throws(() => parseNpy(mem(good.subarray(0, good.length - 4))), /mem\.npy: shape \(2, 3, 4\) of f4 needs 96 data bytes, file has 92 \(truncated\)/);
    assert.throws(() => parseNpy(mem(Buffer.concat([good, Buffer.alloc(3)]))), /file has 99 \(trailing data\)/);
    assert.throws(() => parseNpy(mem(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))), /bad magic/);
    const structured = encodeHeader("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }");
    assert.throws(() => parseNpy(mem(structured)), /structured \(record\) arrays are not supported/);
  });

  it('a header that lies about a huge shape fails before allocating', () => {
    const lie = encodeHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }");
    const t = performance.now();
    assert.throws(() => parseNpy(mem(lie)), /needs 8000000000000000 data bytes, file has 0 \(truncated\)/);
    assert.ok(performance.now() - t < 50);
  });

  it('reads through positioned reads where a file is too large to map', () => {
    const path = join(dir, 'li4.npy');
    const direct = openFileBytes(path, { mapLimit: 10 });
    assert.equal(direct.mapped, false);
    const a = parseNpy({ name: path, size: direct.size, read: (o, l, w) => direct.read(o, l, w) });
    assert.deepEqual(numbers(a), written['li4.npy']?.[2]);
  });

  it('opens a 5 GiB (sparse) file without mapping it, and reads its last image', () => {
    const path = join(dir, 'huge.npy');
    const n = Math.ceil((5 * 1024 ** 3) / (64 * 64 * 3)); // just over 5 GiB of pixels
    const real = encodeHeader(`{'descr': '|u1', 'fortran_order': False, 'shape': (${n}, 64, 64, 3), }`);
    const fd = openSync(path, 'w');
    writeSync(fd, real);
    ftruncateSync(fd, real.length + n * 64 * 64 * 3);
    writeSync(fd, Uint8Array.from([7, 8, 9]), 0, 3, real.length + (n - 1) * 64 * 64 * 3); // the last image's first pixel
    closeSync(fd);
    const a = readNpy(path);
    assert.deepEqual(a.shape, [n, 64, 64, 3]);
    const last = a.rawBytes((n - 1) * 64 * 64 * 3, 64 * 64 * 3);
    assert.deepEqual(Array.from(last.subarray(0, 4)), [7, 8, 9, 0]);
  });
});

describe('NPY writer', () => {
  const cases: [NpyDtype, Parameters<typeof writeNpy>[1]['data'], number[]][] = [
    ['u1', Uint8Array.from([0, 7, 255]), [0, 7, 255]],
    ['i1', Int8Array.from([-128, 0, 127]), [-128, 0, 127]],
    ['b1', Uint8Array.from([1, 0, 1]), [1, 0, 1]],
    ['i2', Int16Array.from([-300, 2, 30000]), [-300, 2, 30000]],
    ['i4', Int32Array.from([-70000, 0, 2 ** 31 - 1]), [-70000, 0, 2 ** 31 - 1]],
    ['i8', BigInt64Array.from([-(2n ** 40n), 0n, 2n ** 50n]), [-(2 ** 40), 0, 2 ** 50]],
    ['f2', Uint16Array.from([0x3c00, 0xc000, 0x3555]), [1, -2, 0.333251953125]],
    ['f4', Float32Array.from([0.5, -1.25, 3e38]), [0.5, -1.25, Math.fround(3e38)]],
    ['f8', Float64Array.from([Math.PI, -0, 1e-300]), [Math.PI, -0, 1e-300]],
  ];

  it('numpy.load reads what we write, for every dtype', () => {
    for (const [dtype, data] of cases) writeNpy(join(dir, `ours-${dtype}.npy`), { dtype, shape: [3], data });
    writeNpy(join(dir, 'ours-3d.npy'), { dtype: 'u1', shape: [2, 1, 3], data: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
    const out = JSON.parse(py(`
import json
r = {}
for d in ${JSON.stringify(cases.map((c) => c[0]))}:
    a = np.load('ours-%s.npy' % d)
    r[d] = [a.dtype.str, list(a.shape), a.astype(float).tolist()]
b = np.load('ours-3d.npy')
r['3d'] = [b.dtype.str, list(b.shape), b.ravel().astype(float).tolist()]
print(json.dumps(r))`, dir));
    for (const [dtype, , expected] of cases) {
      const [descr, shape, values] = out[dtype];
      assert.equal(descr.slice(1), dtype === 'b1' ? 'b1' : dtype, `${dtype} descr`);
      assert.deepEqual(shape, [3]);
      assert.deepEqual(values, expected, dtype);
    }
    assert.deepEqual(out['3d'], ['|u1', [2, 1, 3], [1, 2, 3, 4, 5, 6]]);
  });

  it('aligns the data to 64 bytes and round-trips through our reader', () => {
    const chunks = encodeNpy({ dtype: 'f4', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) });
    assert.equal((chunks[0] as Uint8Array).length % 64, 0);
    const bytes = Buffer.concat(chunks);
    assert.deepEqual(Array.from(toNumbers(parseNpy(mem(bytes)).read())), [1, 2, 3, 4]);
    assert.throws(() => encodeNpy({ dtype: 'f4', shape: [3], data: Float32Array.from([1, 2]) }), /shape \(3\) has 3 elements, data has 2/);
    assert.throws(() => encodeNpy({ dtype: 'f8', shape: [2], data: Float32Array.from([1, 2]) }), /dtype f8 needs 8-byte elements/);
  });
});

describe('NPZ reader', () => {
  it('reads np.savez (in place from the mapping) and np.savez_compressed (inflated)', () => {
    const stored = readNpz(join(dir, 'stored.npz'));
    assert.deepEqual([...stored.keys()].sort(), ['images', 'labels']);
    const images = stored.get('images')!;
    assert.deepEqual([images.shape, numbers(images)], [[3, 2, 2], [...Array(12).keys()]]);
    assert.deepEqual(numbers(stored.get('labels')!), [2, 0, 1]);
    assert.equal(images.rawBytes(0, 12).buffer.byteLength, readFileSync(join(dir, 'stored.npz')).length, 'a view onto the mapped archive');
    const x = readNpz(join(dir, 'deflated.npz')).get('x')!;
    assert.deepEqual(numbers(x), Array.from({ length: 1000 }, (_, i) => i % 7));
  });

  it('caps inflation and names the member', () => {
    assert.throws(() => readNpz(join(dir, 'deflated.npz'), { maxInflatedBytes: 1000 }), /deflated\.npz#x\.npy: inflates to more than 1000 bytes/);
    assert.throws(() => readNpz(join(dir, 'v1.npy')), /v1\.npy: not a zip archive/);
  });

  it('fuzz: damaged archives give a DataError naming the archive (300 cases each)', async () => {
    for (const file of ['stored.npz', 'deflated.npz']) {
      const good = readFileSync(join(dir, file));
      await fuzz({
        good, name: file, cases: 300, seed: file.length * 7919,
        attempt: (bytes) => {
          for (const a of parseNpz(mem(bytes, file)).values()) assert.equal(a.read().length, a.size);
        },
      });
    }
  });
});

describe('NPY fuzz', () => {
  it('damaged files give a DataError naming the file, never a crash (400 cases)', async () => {
    const good = readFileSync(join(dir, 'lf4.npy'));
    const r = await fuzz({
      good, name: 'fuzz.npy', cases: 400, seed: 20240601, headerBytes: 128,
      attempt: (bytes) => {
        const a = parseNpy(mem(bytes, 'fuzz.npy'));
        assert.equal(a.read().length, a.size);
      },
    });
    assert.ok(r.ok > 0, 'some mutations (in the data) must still parse');
  });
});

/** An NPY file holding only `dict` as its header (and no data). */
function encodeHeader(dict: string): Uint8Array {
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, total - 10, true);
  const text = dict.padEnd(total - 11, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}
