import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fileURLToPath } from 'node:url';

import { memoryStats, scope, type Tensor } from '../../src/index.js';
import { loadPt, savePt, serializePt, UnsafePickleError, WeightsFileError } from '../../src/io/index.js';
import { assertRefused, hex, pickle, prng, ptArchive, runReference, sampleTensors, str, tempDir, zipStored } from './helpers.js';

interface Described {
  dtype: string;
  shape: number[];
  hex: string;
  ptr?: number;
  offset?: number;
  stride?: number[];
}
interface Reference {
  torch: string;
  tessera: { type: string; tensors: Record<string, Described> };
  tessera64: { type: string; tensors: Record<string, Described> };
  python: Record<string, Record<string, Described>>;
  has_metadata: boolean;
}

const DTYPE_CODES: Record<string, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

function assertMatches(loaded: Map<string, Tensor>, expected: Record<string, Described>, label: string): void {
  assert.deepEqual([...loaded.keys()], Object.keys(expected), label);
  for (const [k, py] of Object.entries(expected)) {
    const t = loaded.get(k)!;
    assert.equal(DTYPE_CODES[t.dtype], py.dtype, `${label} ${k}`);
    assert.deepEqual(t.shape, py.shape, `${label} ${k}`);
    assert.equal(hex(t), py.hex, `${label} ${k}`);
  }
}

// Pickle pieces for hand-made archives.
const PROTO = '\x80\x02';
const EMPTY_DICT = '}';
const STOP = '.';
const global = (module: string, name: string) => `c${module}\n${name}\n`;
/** _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
function tensorPickle(key: string, numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const ints = (xs: number[]) => pickle('(', ...xs.flatMap((x) => ['J', new Uint8Array(new Int32Array([x]).buffer)]), 't');
  return pickle(
    global('torch._utils', '_rebuild_tensor_v2'), '(',
    '(', str('storage'), global('torch', 'FloatStorage'), str(key), str('cpu'), 'J', new Uint8Array(new Int32Array([numel]).buffer), 't', 'Q',
    'J', new Uint8Array(new Int32Array([offset]).buffer), ints(size), ints(stride), '\x89', global('collections', 'OrderedDict'), ')R', 't', 'R',
  );
}
const floats = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
/** {name: tensor} as a whole pickle. */
const dictPickle = (...items: [string, Uint8Array][]) => pickle(PROTO, EMPTY_DICT, '(', ...items.flatMap(([k, v]) => [str(k), v]), 'u', STOP);

describe('PyTorch .pt', () => {
  const dir = tempDir();
  let samples: Map<string, Tensor>;
  let ref: Reference;

  before(() => {
    samples = sampleTensors();
    samples.set('shared', samples.get('transposed')!); // two keys, one tensor
    savePt(join(dir, 'tessera.pt'), samples);
    savePt(join(dir, 'tessera64.pt'), samples, { zip64: 'always' });
    ref = runReference<Reference>('pt', dir);
  });
  after(() => {
    for (const t of new Set(samples.values())) t.dispose();
  });

  it('round-trips every dtype, 0-dim, empty and non-contiguous tensors bit for bit', () => {
    scope(() => {
      const loaded = loadPt(join(dir, 'tessera.pt'));
      assert.deepEqual([...loaded.keys()], [...samples.keys()]);
      for (const [k, t] of samples) {
        const got = loaded.get(k)!;
        assert.equal(got.dtype, t.dtype, k);
        assert.deepEqual(got.shape, t.shape, k);
        assert.equal(hex(got), hex(t), k);
      }
    });
  });

  it('writes files that torch.load(weights_only=True) opens: an OrderedDict, identical values, strides and shared storages', () => {
    for (const written of [ref.tessera, ref.tessera64]) {
      assert.equal(written.type, 'OrderedDict', 'as torch.save(model.state_dict()) writes it');
      for (const [k, t] of samples) {
        const py = written.tensors[k]!;
        assert.equal(py.dtype, DTYPE_CODES[t.dtype], k);
        assert.deepEqual(py.shape, t.shape, k);
        assert.equal(py.hex, hex(t), k);
        assert.deepEqual(py.stride, t.strides(), `${k}: views keep their strides`);
      }
      assert.equal(written.tensors['shared']!.ptr, written.tensors['transposed']!.ptr);
      assert.equal(written.tensors['strided']!.offset, 1);
      assert.equal(written.tensors['row']!.offset, 12);
      assert.equal(written.tensors['row']!.ptr, written.tensors['transposed']!.ptr, 'views of one tensor keep one storage');
    }
  });

  it('lays record data on 64-byte boundaries, as PyTorch does (torch.load(mmap=True) maps them)', () => {
    for (const name of ['tessera.pt', 'tessera64.pt']) {
      const b = readFileSync(join(dir, name));
      let records = 0;
      for (let p = 0; b.readUInt32LE(p) === 0x04034b50; records++) {
        const start = p + 30 + b.readUInt16LE(p + 26) + b.readUInt16LE(p + 28);
        assert.equal(start % 64, 0, `${name}: record ${records} starts at ${start}`);
        const size = b.readUInt32LE(p + 18);
        p = start + (size === 0xffffffff ? Number(b.readBigUInt64LE(p + 30 + b.readUInt16LE(p + 26) + 4)) : size);
      }
      assert.ok(records >= 4, `${name}: ${records} records`);
    }
  });

  it('reads the files earlier Tessera versions wrote (LibTorch pickler, restore_type_tag)', () => {
    const old = fileURLToPath(new URL('../../../test/io/fixtures/tessera-0.1.pt', import.meta.url));
    assert.match(readFileSync(old).toString('latin1'), /restore_type_tag/);
    scope(() => {
      const loaded = loadPt(old);
      assert.deepEqual([...loaded.keys()], ['fc.weight', 'fc.weight_t', 'fc.bias', 'steps']);
      assert.deepEqual(loaded.get('fc.weight')!.toArray(), [[0, 1, 2], [3, 4, 5]]);
      assert.deepEqual(loaded.get('fc.weight_t')!.toArray(), [[0, 3], [1, 4], [2, 5]]);
      assert.deepEqual(loaded.get('fc.bias')!.toArray(), [0.5, -1.5]);
      assert.equal(loaded.get('steps')!.item(), 7);
    });
  });

  it('loads state dicts saved by torch.save (Linear, Conv2d, BatchNorm2d, Sequential, half, Parameters)', () => {
    assert.ok(ref.has_metadata, 'the Python state dict carries _metadata, set through BUILD');
    for (const name of ['linear', 'conv', 'bn', 'model', 'half', 'params', 'dtypes']) {
      scope(() => assertMatches(loadPt(join(dir, `${name}.pt`)), ref.python[name]!, name));
    }
    for (const name of ['model_p4', 'model_p5']) scope(() => assertMatches(loadPt(join(dir, `${name}.pt`)), ref.python['model']!, name));
    scope(() => {
      const bn = loadPt(join(dir, 'bn.pt'));
      assert.equal(bn.get('num_batches_tracked')!.dtype, 'int64');
      assert.equal(bn.get('num_batches_tracked')!.item(), 1);
    });
  });

  it('honours storage offsets and strides, and keeps tensors saved from one storage shared', () => {
    scope(() => {
      const views = loadPt(join(dir, 'views.pt'));
      assertMatches(views, ref.python['views']!, 'views');
      for (const t of views.values()) assert.ok(t.isContiguous());
      const whole = views.get('whole')!;
      const same = views.get('same')!;
      whole.add_(100); // same storage, as after torch.load
      assert.equal(same.select(0, 3).item(), 103);
      assert.equal(views.get('slice')!.select(0, 0).item(), 2); // copied out: not aliased
    });
  });

  it('picks the state dict out of a checkpoint with select, and says so when it is needed', () => {
    assertRefused(() => loadPt(join(dir, 'checkpoint.pt')), /not a state dict: besides tensors it holds 'model' \(dict\), 'epoch' \(int\), 'optimizer' \(dict\); .*\{ select: 'model' \}/);
    scope(() => assertMatches(loadPt(join(dir, 'checkpoint.pt'), { select: 'model' }), ref.python['linear']!, 'checkpoint'));
    assertRefused(() => loadPt(join(dir, 'checkpoint.pt'), { select: 'epoch' }), /'epoch' is an int, not a dict of tensors/);
    assertRefused(() => loadPt(join(dir, 'checkpoint.pt'), { select: 'nope' }), /has no key 'nope' \(keys: 'model', 'epoch', 'optimizer'\)/);
  });

  it('refuses pickles that would run code, before running anything', () => {
    for (const [name, re] of [
      ['evil_system', /refusing to load: the pickle references the global 'posix.system'/],
      ['evil_eval', /refusing to load: the pickle references the global '__builtin__.eval'/],
      // Protocol 2 writes Python 2 names: subprocess.Popen is pickled as commands.Popen.
      ['evil_popen', /refusing to load: the pickle references the global 'commands.Popen'/],
    ] as const) {
      const e = assertRefused(() => loadPt(join(dir, `${name}.pt`)), re, name);
      assert.ok(e instanceof UnsafePickleError, name);
    }
    assert.ok(!existsSync(join(dir, 'PWNED')));
    const handMade: [string, Uint8Array, RegExp][] = [
      ['os.system', pickle(PROTO, global('os', 'system'), str('touch /tmp/x'), '\x85R', STOP), /global 'os.system'/],
      ['builtins.eval', pickle(PROTO, global('builtins', 'eval'), str('1'), '\x85R', STOP), /global 'builtins.eval'/],
      ['subprocess via STACK_GLOBAL', pickle(PROTO, str('subprocess'), str('check_output'), '\x93', STOP), /global 'subprocess.check_output'/],
      ['torch.load itself', pickle(PROTO, global('torch', 'load'), STOP), /global 'torch.load'/],
    ];
    for (const [label, pkl, re] of handMade) {
      const e = assertRefused(() => loadPt(ptArchive(pkl)), re, label);
      assert.ok(e instanceof UnsafePickleError, label);
    }
  });

  it('refuses malformed pickles and archives with clean errors', () => {
    const t = tensorPickle('0', 3, 0, [3], [1]);
    const good = ptArchive(dictPickle(['w', t]), { '0': floats(1, 2, 3) });
    scope(() => assert.deepEqual(loadPt(good).get('w')!.toArray(), [1, 2, 3]));
    const crcBroken = new Uint8Array(good);
    const at = Buffer.from(good).indexOf(Buffer.from(floats(1, 2, 3)));
    crcBroken[at] = (crcBroken[at] as number) ^ 1;
    const cases: [string, Uint8Array, RegExp][] = [
      ['not a zip', new Uint8Array(100), /not a zip archive/],
      ['truncated zip', good.subarray(0, good.length - 30), /no end-of-central-directory record/],
      ['missing data record', ptArchive(dictPickle(['w', t])), /tensor 'w': its storage record 'archive\/data\/0' is missing/],
      ['short data record', ptArchive(dictPickle(['w', t]), { '0': floats(1, 2) }), /has 8 bytes, but a storage of 3 × float32 needs 12/],
      ['CRC mismatch', crcBroken, /fails its CRC-32 check/],
      ['no data.pkl', zipStored([['archive/version', new Uint8Array([51])]]), /no <archive>\/data.pkl/],
      ['view past its storage', ptArchive(dictPickle(['w', tensorPickle('0', 3, 2, [2], [1])]), { '0': floats(1, 2, 3) }), /reaches past its storage of 3 elements/],
      ['stride past its storage', ptArchive(dictPickle(['w', tensorPickle('0', 3, 0, [2, 2], [2, 1])]), { '0': floats(1, 2, 3) }), /reaches past its storage/],
      ['negative size', ptArchive(dictPickle(['w', tensorPickle('0', 3, 0, [-1], [1])]), { '0': floats(1, 2, 3) }), /size\[0\] is -1/],
      ['unsupported opcode', ptArchive(pickle(PROTO, 'i', 'os\nsystem\n', STOP)), /opcode 0x69 .* not supported/],
      ['stack underflow', ptArchive(pickle(PROTO, 's', STOP)), /stack underflow/],
      ['underflow below MARK', ptArchive(pickle(PROTO, EMPTY_DICT, '(', '\x85', STOP)), /stack underflow/],
      ['missing memo', ptArchive(pickle(PROTO, 'h', 7, STOP)), /memo entry 7 was never stored/],
      ['no STOP', ptArchive(pickle(PROTO, EMPTY_DICT)), /ends without STOP/],
      ['huge string length', ptArchive(pickle(PROTO, 'X\xff\xff\xff\xff', STOP)), /truncated: needs 4294967295 more bytes/],
      ['huge BINUNICODE8', ptArchive(pickle(PROTO, '\x8d\xff\xff\xff\xff\xff\xff\xff\x7f', STOP)), /larger than the whole pickle/],
      ['not a dict', ptArchive(pickle(PROTO, ']', STOP)), /the top-level object is a list/],
      ['non-string key', ptArchive(pickle(PROTO, EMPTY_DICT, 'K', 1, t, 's', STOP), { '0': floats(1, 2, 3) }), /an int key/],
      ['bad persistent id', ptArchive(pickle(PROTO, str('x'), 'Q', STOP)), /persistent id .* is not \('storage'/],
      ['one storage, two dtypes', ptArchive(dictPickle(['a', t], ['b', pickle(global('torch._utils', '_rebuild_tensor_v2'), '(', '(', str('storage'), global('torch', 'IntStorage'), str('0'), str('cpu'), 'K', 3, 't', 'Q', 'K', 0, '(K', 3, 't(K', 1, 't\x89', global('collections', 'OrderedDict'), ')Rt', 'R')]), { '0': floats(1, 2, 3) }), /storage '0' is used both as 3 × float32 and 3 × int32/],
      ['calling a storage class', ptArchive(pickle(PROTO, global('torch', 'FloatStorage'), ')R', STOP)), /cannot call a torch.FloatStorage/],
      ['bool of 2', ptArchive(dictPickle(['m', pickle(global('torch._utils', '_rebuild_tensor_v2'), '((', str('storage'), global('torch', 'BoolStorage'), str('0'), str('cpu'), 'K', 2, 'tQK', 0, '(K', 2, 't(K', 1, 't\x89', global('collections', 'OrderedDict'), ')Rt', 'R')]), { '0': new Uint8Array([1, 2]) }), /bool element 1 is 2, not 0 or 1/],
      ['BUILD on a list', ptArchive(pickle(PROTO, ']', EMPTY_DICT, 'b', STOP)), /sets the state of a list/],
      ['compressed record', (() => {
        const z = new Uint8Array(ptArchive(dictPickle()));
        const cd = Buffer.from(z).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); // data.pkl's entry
        z[cd + 10] = 8; // central directory: method deflate
        return z;
      })(), /compressed \(method 8\)/],
    ];
    for (const [label, bytes, re] of cases) assertRefused(() => loadPt(bytes), re, label);
  });

  it('recognises the legacy format and TorchScript archives, and says what to do', () => {
    assertRefused(() => loadPt(join(dir, 'legacy.pt')), /legacy \(pre-1.6\) torch.save format/);
    assertRefused(() => loadPt(join(dir, 'jit.pt')), /TorchScript archive \(torch.jit.save\)/);
  });

  it('runs hostile nesting in linear time without recursion', { timeout: 60_000 }, () => {
    const n = 200_000;
    const deep = pickle(PROTO, '('.repeat(n), ')', 't'.repeat(n), STOP);
    assertRefused(() => loadPt(ptArchive(deep)), /the top-level object is a tuple/);
    const wide = pickle(PROTO, ']', 'q', 0, '(', 'h\x00'.repeat(n), 'e', STOP); // a list of itself, n times
    assertRefused(() => loadPt(ptArchive(wide)), /the top-level object is a list/);
  });

  it('bounds the memory a small file can ask for: copies of views are budgeted', () => {
    // 4 bytes of storage, 2000 keys each asking for a 1e6-element expanded copy (8 GB in all).
    const items: [string, Uint8Array][] = [];
    for (let i = 0; i < 2000; i++) items.push([`k${i}`, tensorPickle('0', 1, 0, [1000, 1000], [0, 0])]);
    assertRefused(() => loadPt(ptArchive(dictPickle(...items), { '0': floats(1) })), /copying it out needs 4000000 bytes, more than this \d+-byte file may ask for/);
  });

  it('survives random corruption of the archive and of the pickle: every mutant loads or fails cleanly', { timeout: 120_000 }, () => {
    const small = new Map([...samples].filter(([k]) => ['f32', 'bf16', 'scalar', 'strided', 'shared', 'transposed'].includes(k)));
    const archive = serializePt(small);
    const pkl = new Uint8Array(readPkl(archive));
    const rand = prng(99);
    const live = memoryStats().liveTensors;
    let refused = 0;
    for (let i = 0; i < 800; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        // Mutate the pickle and re-wrap it with a valid CRC, so the unpickler sees the damage.
        const m = new Uint8Array(pkl);
        for (let k = 0; k < 1 + (i % 3); k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
        bytes = ptArchive(i % 4 === 0 ? m.subarray(0, Math.floor(rand() * m.length)) : m, storagesOf(archive));
      } else {
        bytes = new Uint8Array(archive);
        for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      try {
        scope(() => void loadPt(bytes));
      } catch (e) {
        assert.ok(e instanceof WeightsFileError, `mutant ${i}: ${(e as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 300, `only ${refused} mutants refused`);
    assert.equal(memoryStats().liveTensors, live);
  });
});

/** Records of a LibTorch-written archive (archive/data.pkl, archive/data/<key>), via Python-free parsing. */
function records(archive: Uint8Array): Map<string, Uint8Array> {
  const b = Buffer.from(archive);
  const out = new Map<string, Uint8Array>();
  for (let p = 0; p + 30 <= b.length && b.readUInt32LE(p) === 0x04034b50; ) {
    const size = b.readUInt32LE(p + 18);
    const nameLen = b.readUInt16LE(p + 26);
    const start = p + 30 + nameLen + b.readUInt16LE(p + 28);
    out.set(b.subarray(p + 30, p + 30 + nameLen).toString(), new Uint8Array(b.subarray(start, start + size)));
    p = start + size;
  }
  return out;
}
const readPkl = (archive: Uint8Array) => records(archive).get('archive/data.pkl')!;
function storagesOf(archive: Uint8Array): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, data] of records(archive)) if (name.startsWith('archive/data/')) out[name.slice('archive/data/'.length)] = data;
  return out;
}
