import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { memoryStats, scope, tensor, zeros, type Tensor } from '../../src/index.js';
import { loadSafetensors, readSafetensors, readSafetensorsHeader, saveSafetensors, serializeSafetensors, WeightsFileError } from '../../src/io/index.js';
import { assertRefused, hex, prng, runReference, sampleTensors, tempDir } from './helpers.js';

interface Described {
  dtype: string;
  shape: number[];
  hex: string;
}
interface Reference {
  tessera: { n: number; text: string; keys: string[]; metadata: Record<string, string> | null; tensors: Record<string, Described> };
  python: Record<string, Described>;
}

const DTYPE_CODES: Record<string, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

/** A file from a header object (serialised as given, so tests can write invalid ones) and data bytes. */
function file(header: string | object | Uint8Array, data: Uint8Array | number = 0): Uint8Array {
  const json = header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data)]));
}
const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('safetensors', () => {
  const dir = tempDir();
  let samples: Map<string, Tensor>;
  let ref: Reference;

  before(() => {
    samples = sampleTensors();
    saveSafetensors(join(dir, 'tessera.safetensors'), samples, { metadata: { format: 'pt', note: 'ünïcode "quoted"' } });
    ref = runReference<Reference>('safetensors', dir);
  });
  after(() => {
    for (const t of samples.values()) t.dispose();
  });

  it('round-trips every dtype, 0-dim, empty and non-contiguous tensors bit for bit', () => {
    scope(() => {
      const { tensors, metadata } = readSafetensors(join(dir, 'tessera.safetensors'));
      assert.deepEqual(metadata, { format: 'pt', note: 'ünïcode "quoted"' });
      assert.deepEqual(new Set(tensors.keys()), new Set(samples.keys()));
      for (const [k, t] of samples) {
        const got = tensors.get(k)!;
        assert.equal(got.dtype, t.dtype, k);
        assert.deepEqual(got.shape, t.shape, k);
        assert.equal(hex(got), hex(t), k);
        assert.ok(got.isContiguous(), k);
      }
    });
  });

  it('lays the file out as the reference writer does: alignment then name, 8-byte padded header', () => {
    const bytes = readFileSync(join(dir, 'tessera.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    assert.match(text, /^\{"__metadata__":\{"format":"pt","note":"ünïcode \\"quoted\\""\},"i64":\{"dtype":"I64","shape":\[4\],"data_offsets":\[0,32\]\},"scalar_i64":/);
    assert.match(text, /\} *$/);
    const rank = ['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'F64', 'I64'];
    const keys = readSafetensorsHeader(join(dir, 'tessera.safetensors')).tensors.map((e) => e.name);
    const expected = [...samples.keys()].sort((a, b) => rank.indexOf(DTYPE_CODES[samples.get(b)!.dtype]!) - rank.indexOf(DTYPE_CODES[samples.get(a)!.dtype]!) || (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(keys, expected);
    // Deterministic: the same tensors give the same bytes.
    assert.deepEqual(Buffer.from(serializeSafetensors(samples, { metadata: { note: 'ünïcode "quoted"', format: 'pt' } })), bytes);
  });

  it('writes files that a reader written from the spec in Python reads with identical bytes', () => {
    assert.deepEqual(ref.tessera.metadata, { format: 'pt', note: 'ünïcode "quoted"' });
    for (const [k, t] of samples) {
      const py = ref.tessera.tensors[k]!;
      assert.equal(py.dtype, DTYPE_CODES[t.dtype], k);
      assert.deepEqual(py.shape, t.shape, k);
      assert.equal(py.hex, hex(t), k);
    }
  });

  it('reads files written in Python, in the reference order or any other', () => {
    for (const name of ['python.safetensors', 'python-nameorder.safetensors']) {
      scope(() => {
        const { tensors, metadata } = readSafetensors(join(dir, name));
        assert.deepEqual(metadata, name === 'python.safetensors' ? { format: 'pt', author: 'reference.py' } : null);
        assert.deepEqual(new Set(tensors.keys()), new Set(Object.keys(ref.python)));
        for (const [k, py] of Object.entries(ref.python)) {
          const t = tensors.get(k)!;
          assert.equal(DTYPE_CODES[t.dtype], py.dtype, `${name} ${k}`);
          assert.deepEqual(t.shape, py.shape, `${name} ${k}`);
          assert.equal(hex(t), py.hex, `${name} ${k}`);
        }
      });
    }
  });

  it('refuses corrupt and hostile headers with an error naming the file and the tensor', () => {
    const good = { a: f32([2], 0, 8), b: f32([1], 8, 12) };
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty file', new Uint8Array(0), /fewer than the 8-byte header length/],
      ['huge header length', huge, /header length 9223372036854775808 is over the 100000000-byte limit/],
      ['header past the end', file(good, 12).subarray(0, 40), /runs past the end of the 40-byte file/],
      ['truncated data', file(good, 12).subarray(0, -1), /tensor 'b': data_offsets \[8, 12\] end beyond the 11-byte data buffer/],
      ['not UTF-8', file(new Uint8Array([0x7b, 0xff, 0x7d])), /the header is not valid UTF-8/],
      ['not JSON', file('{"a": '), /not valid JSON/],
      ['not an object', file('[1, 2]'), /the header is not a JSON object/],
      ['trailing garbage', file('{} x'), /trailing characters/],
      ['duplicate keys', file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), /duplicate key "a"/],
      ['duplicate inner keys', file('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', 4), /duplicate key "dtype"/],
      ['unknown dtype', file({ a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16), /tensor 'a': unknown dtype "F128"/],
      ['foreign dtype', file({ a: { dtype: 'U16', shape: [1], data_offsets: [0, 2] } }, 2), /tensor 'a': dtype U16 has no Tessera equivalent/],
      ['negative dim', file({ a: f32([-1], 0, 4) }, 4), /tensor 'a': shape \[-1\] has -1, not a non-negative integer below 2\^53/],
      ['fractional dim', file('{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', 8), /tensor 'a': shape \[2.0\] has 2.0/],
      ['string dim', file({ a: { dtype: 'F32', shape: ['2'], data_offsets: [0, 8] } }, 8), /tensor 'a': shape .* not a non-negative integer/],
      ['missing shape', file({ a: { dtype: 'F32', data_offsets: [0, 4] } }, 4), /tensor 'a': no 'shape'/],
      ['begin after end', file({ a: f32([0], 8, 4) }, 8), /tensor 'a': data_offsets \[8, 4\] begin after end/],
      ['offsets out of bounds', file({ a: f32([4], 0, 16) }, 8), /tensor 'a': data_offsets \[0, 16\] end beyond the 8-byte data buffer/],
      ['wrong byte length', file({ a: f32([3], 0, 8) }, 8), /tensor 'a': shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] hold 8/],
      ['numel overflow', file({ a: f32([2 ** 40, 2 ** 40, 2 ** 40], 0, 8) }, 8), /tensor 'a': .* needs more than 2\^53 bytes/],
      ['overlap', file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12), /tensors 'a' and 'b' overlap/],
      ['hole', file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12), /hole in the data buffer: bytes 4..8 before tensor 'b'/],
      ['trailing bytes', file(good, 20), /8 bytes after the last tensor/],
      ['metadata not strings', file({ __metadata__: { epoch: 3 } }), /__metadata__ value 'epoch' is number 3, not a string/],
      ['metadata not an object', file({ __metadata__: 'x' }), /__metadata__ is not an object/],
      ['entry not an object', file({ a: [1] }), /tensor 'a': its entry is an array/],
      ['deep nesting', file(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`), /nesting deeper than 64/],
      ['bool of 2', file({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([1, 0, 2])), /tensor 'm': BOOL element 2 is 2, not 0 or 1/],
      ['a zip instead', new Uint8Array(Buffer.from('PK\x03\x04\x14\x00\x00\x00\x00\x00', 'latin1')), /zip archive/],
    ];
    for (const [label, bytes, re] of cases) assertRefused(() => loadSafetensors(bytes), re, label);
    // Through a file, the message starts with its path.
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12));
    const e = assertRefused(() => loadSafetensors(p), /overlap/);
    assert.equal(e.file, p);
    assert.ok(e.message.startsWith(`${p}: `));
  });

  // Byte vectors from the reference implementation's own tests (safetensors/src/tensor.rs).
  it('writes byte for byte what the reference writer writes', () => {
    const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const f32 = (n: number, shape: number[]) => tensor(new Float32Array(Array.from({ length: n }, (_, i) => i)), { shape });
    scope(() => {
      // test_serialization
      assert.deepEqual(serializeSafetensors({ 'attn.0': f32(6, [1, 2, 3]) }), b('@\0\0\0\0\0\0\0{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}\0\0\0\0\0\0\x80?\0\0\0@\0\0@@\0\0\x80@\0\0\xa0@'));
      // test_serialization_forced_alignement
      assert.deepEqual(serializeSafetensors({ attn0: f32(6, [1, 1, 2, 3]) }), b('H\0\0\0\0\0\0\0{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       \0\0\0\0\0\0\x80?\0\0\0@\0\0@@\0\0\x80@\0\0\xa0@'));
    });
    // test_empty
    assert.deepEqual(serializeSafetensors({}), b('\x08\0\0\0\0\0\0\0{}      '));
    assert.deepEqual(serializeSafetensors({}, { metadata: { framework: 'pt' } }), b('(\0\0\0\0\0\0\0{"__metadata__":{"framework":"pt"}}     '));
  });

  it('reads, and refuses, what the reference reader does', () => {
    const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const i32x4 = '<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    scope(() => {
      assert.deepEqual(loadSafetensors(b(`${i32x4}${'\0'.repeat(16)}`)).get('test')!.toArray(), [[0, 0], [0, 0]]);
      assert.deepEqual(loadSafetensors(b('8\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}\0\0\0\0')).get('test')!.shape, []);
      assert.deepEqual(loadSafetensors(b('<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}}')).get('test')!.shape, [2, 0]);
      assert.equal(loadSafetensors(b('\x06\0\0\0\0\0\0\0{}\r \t\n')).size, 0); // trailing whitespace
      assert.equal(loadSafetensors(b('\x06\0\0\0\0\0\0\0\t\n{}\r ')).size, 0); // leading whitespace
    });
    const refused: [string, RegExp][] = [
      [`${i32x4}${'\0'.repeat(16)}extra_bogus_data_for_polyglot_file`, /34 bytes after the last tensor/],
      [`${i32x4}${'\0'.repeat(14)}`, /end beyond the 14-byte data buffer/],
      [`<\0\0\0\0\xff\xff\xff{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}${'\0'.repeat(16)}`, /over the 100000000-byte limit/],
      ['', /fewer than the 8-byte header length/],
      ['<\0\0\0\0\0\0\0', /runs past the end/],
      ['\x01\0\0\0\0\0\0\0\xff', /not valid UTF-8/],
      ['\x01\0\0\0\0\0\0\0{', /not valid JSON/],
      ['<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0, 4]}}', /needs 16 bytes, but data_offsets \[0, 4\] hold 4/],
      [`O\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}}${'\0'.repeat(16)}`, /has 18446744073709551614, not a non-negative integer below 2\^53/],
      [`N\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}}${'\0'.repeat(16)}`, /has 9223372036854775807/],
    ];
    for (const [s, re] of refused) assertRefused(() => loadSafetensors(b(s)), re, JSON.stringify(s.slice(0, 40)));
    // test_json_attack: ten tensors claiming the same 16 bytes.
    const attack = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`weight_${i}`, { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }]));
    assertRefused(() => loadSafetensors(file(attack, 16)), /overlap/);
  });

  it('accepts what the spec allows: {}, empty tensors anywhere, "__proto__" as a name', () => {
    assert.equal(loadSafetensors(file('{}')).size, 0);
    scope(() => {
      const m = loadSafetensors(file({ e: f32([0], 0, 0), a: f32([1], 0, 4), z: f32([2, 0], 4, 4) }, 4));
      assert.deepEqual([...m.keys()], ['e', 'a', 'z']);
      assert.deepEqual(m.get('z')!.shape, [2, 0]);
      const proto = loadSafetensors(serializeSafetensors(new Map([['__proto__', zeros([2])]])));
      assert.deepEqual(proto.get('__proto__')!.shape, [2]);
    });
  });

  it('refuses to write what it could not read back', () => {
    const t = tensor([1, 2]);
    assertRefused(() => serializeSafetensors({ __metadata__: t }), /reserved/);
    assertRefused(() => serializeSafetensors(new Map([['bad\ud800', t]])), /lone surrogate/);
    assertRefused(() => serializeSafetensors({ a: t }, { metadata: { n: 3 as unknown as string } }), /metadata value 'n' is number/);
    t.dispose();
    assertRefused(() => serializeSafetensors({ a: t }), /tensor 'a' was disposed/);
  });

  it('survives random corruption: every mutant loads or fails cleanly, leaking nothing', { timeout: 120_000 }, () => {
    const original = serializeSafetensors(new Map([...samples].filter(([k]) => !k.startsWith('empty'))), { metadata: { a: 'b' } });
    const headerEnd = 8 + Number(Buffer.from(original).readBigUInt64LE(0));
    const rand = prng(1234);
    const live = memoryStats().liveTensors;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const m = new Uint8Array(original);
      const kind = i % 4;
      if (kind === 0) m[Math.floor(rand() * headerEnd)] = Math.floor(rand() * 256); // header byte
      else if (kind === 1) m[Math.floor(rand() * 8)] = Math.floor(rand() * 256); // length field
      else if (kind === 2)
        for (let k = 0; k < 4; k++) {
          const at = Math.floor(rand() * m.length);
          m[at] = (m[at] as number) ^ (1 << Math.floor(rand() * 8));
        }
      const bytes = kind === 3 ? m.subarray(0, Math.floor(rand() * m.length)) : m;
      try {
        scope(() => void loadSafetensors(bytes));
      } catch (e) {
        assert.ok(e instanceof WeightsFileError, `mutant ${i}: ${(e as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 200, `only ${refused} mutants refused`);
    assert.equal(memoryStats().liveTensors, live);
  });
});
