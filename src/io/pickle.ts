// A restricted unpickler. Python's pickle is a small stack machine whose GLOBAL and REDUCE
// opcodes import and call anything, which is why `torch.load` of an untrusted file runs code.
// This VM knows only the opcodes that torch.save and LibTorch's pickler emit for a dict of
// tensors, and imports nothing: GLOBAL asks the caller's allowlist, which returns a value of its
// own making or refuses. A pickle naming os.system therefore fails at that GLOBAL, before any
// REDUCE could call it. Every opcode does O(1) work or consumes what it pops, so a pickle of n
// bytes runs in O(n) time and memory, and there is no recursion for hostile nesting to overflow.
import { UnsafePickleError, WeightsFileError } from './errors.js';

/** What the caller's hooks throw to refuse a value; the VM adds the file and the position. */
export class PickleRefusal extends Error {
  constructor(
    problem: string,
    /** True for things a state dict never contains (a foreign global): reported as UnsafePickleError. */
    readonly unsafe = false,
  ) {
    super(problem);
  }
}

/** A Python dict or collections.OrderedDict; `state` is what BUILD set on it (ignored by callers). */
export class PyDict {
  readonly items = new Map<PyValue, PyValue>();
  state: PyValue = null;
}

/** A tuple, kept apart from lists because argument lists and persistent ids must be tuples. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A global the allowlist let through; `call` makes REDUCE on it possible. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: PyValue[]) => PyValue,
  ) {}
}

/** A value made by the caller's hooks (a storage, a tensor description). */
export interface HostValue {
  readonly pyType: string;
}

export type PyValue = null | boolean | number | bigint | string | PyValue[] | PyTuple | PyDict | PyGlobal | HostValue;

export interface UnpickleOptions {
  /** The file, for messages. */
  file: string;
  /** Resolves GLOBAL / STACK_GLOBAL, or throws a PickleRefusal (unsafe for anything not allowed). */
  findGlobal(module: string, name: string): PyGlobal;
  /** Resolves BINPERSID: torch.save stores each storage as a persistent id. */
  persistentLoad(pid: PyValue): PyValue;
}

/** Opcode names, for messages about the ones this VM refuses. */
const NAMES: Record<string, string> = {
  '(': 'MARK', '.': 'STOP', '0': 'POP', '1': 'POP_MARK', '2': 'DUP', F: 'FLOAT', I: 'INT', J: 'BININT', K: 'BININT1',
  L: 'LONG', M: 'BININT2', N: 'NONE', P: 'PERSID', Q: 'BINPERSID', R: 'REDUCE', S: 'STRING', T: 'BINSTRING',
  U: 'SHORT_BINSTRING', V: 'UNICODE', X: 'BINUNICODE', a: 'APPEND', b: 'BUILD', c: 'GLOBAL', d: 'DICT', '}': 'EMPTY_DICT',
  e: 'APPENDS', g: 'GET', h: 'BINGET', i: 'INST', j: 'LONG_BINGET', l: 'LIST', ']': 'EMPTY_LIST', o: 'OBJ', p: 'PUT',
  q: 'BINPUT', r: 'LONG_BINPUT', s: 'SETITEM', t: 'TUPLE', ')': 'EMPTY_TUPLE', u: 'SETITEMS', G: 'BINFLOAT',
  '\x80': 'PROTO', '\x81': 'NEWOBJ', '\x82': 'EXT1', '\x83': 'EXT2', '\x84': 'EXT4', '\x85': 'TUPLE1', '\x86': 'TUPLE2',
  '\x87': 'TUPLE3', '\x88': 'NEWTRUE', '\x89': 'NEWFALSE', '\x8a': 'LONG1', '\x8b': 'LONG4', B: 'BINBYTES',
  C: 'SHORT_BINBYTES', '\x8c': 'SHORT_BINUNICODE', '\x8d': 'BINUNICODE8', '\x8e': 'BINBYTES8', '\x8f': 'EMPTY_SET',
  '\x90': 'ADDITEMS', '\x91': 'FROZENSET', '\x92': 'NEWOBJ_EX', '\x93': 'STACK_GLOBAL', '\x94': 'MEMOIZE', '\x95': 'FRAME',
  '\x96': 'BYTEARRAY8', '\x97': 'NEXT_BUFFER', '\x98': 'READONLY_BUFFER',
};

/** 'a list', 'an int': a type name with its article, for messages. */
export function aPyType(v: PyValue): string {
  const t = pyTypeName(v);
  return `${/^[aeiou]/i.test(t) ? 'an' : 'a'} ${t}`;
}

/** Python's name for the type of a value, for messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return v.qualname;
  return v.pyType;
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions): PyValue {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let opAt = 0;
  let op = '';
  const fail = (problem: string, unsafe = false): never => {
    const Err = unsafe ? UnsafePickleError : WeightsFileError;
    throw new Err(opts.file, `data.pkl byte ${opAt} (${NAMES[op] ?? 'opcode'}): ${problem}`);
  };
  // The hooks refuse with PickleRefusal; anything else they throw is a bug and passes through.
  const hook = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof PickleRefusal) return fail(e.message, e.unsafe);
      throw e;
    }
  };

  const need = (n: number): number => {
    if (n > data.byteLength - pos) fail(`truncated: needs ${n} more bytes, the pickle has ${data.byteLength - pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => data[need(1)] as number;
  const u16 = (): number => dv.getUint16(need(2), true);
  const u32 = (): number => dv.getUint32(need(4), true);
  const u64 = (): number => {
    const v = dv.getBigUint64(need(8), true);
    return v > BigInt(data.byteLength) ? fail(`length ${v} is larger than the whole pickle`) : Number(v);
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(data.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated line');
    return text(end - pos + 1).slice(0, -1);
  };

  // Python 3 keeps the items above each MARK in a separate list; popping below the innermost
  // MARK is a stack underflow there, and so it is here.
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const floor = (): number => marks[marks.length - 1] ?? 0;
  const pop = (): PyValue => (stack.length > floor() ? (stack.pop() as PyValue) : fail('stack underflow'));
  const top = (): PyValue => (stack.length > floor() ? (stack[stack.length - 1] as PyValue) : fail('stack underflow'));
  const popMark = (): PyValue[] => {
    const at = marks.pop();
    return at === undefined ? fail('no MARK to pop to') : stack.splice(at);
  };
  const get = (i: number): PyValue => (memo.has(i) ? (memo.get(i) as PyValue) : fail(`memo entry ${i} was never stored`));
  const dict = (): PyDict => {
    const d = top();
    return d instanceof PyDict ? d : fail(`sets items on ${aPyType(d)}, not a dict`);
  };
  const list = (): PyValue[] => {
    const l = top();
    return Array.isArray(l) ? l : fail(`appends to ${aPyType(l)}, not a list`);
  };
  const tuple = (n: number): PyTuple => {
    const items: PyValue[] = [];
    for (let k = 0; k < n; k++) items.unshift(pop());
    return new PyTuple(items);
  };

  for (;;) {
    opAt = pos;
    if (pos >= data.byteLength) fail('the pickle ends without STOP');
    op = String.fromCharCode(data[pos++] as number);
    switch (op) {
      case '\x80': // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case '\x95': // FRAME: a length hint for buffered readers; we hold all bytes already
        u64();
        break;
      case '.': // STOP
        return pop();
      case '(': marks.push(stack.length); break;
      case '}': stack.push(new PyDict()); break;
      case ']': stack.push([]); break;
      case ')': stack.push(new PyTuple([])); break;
      case 'X': stack.push(text(u32())); break;
      case '\x8c': stack.push(text(u8())); break;
      case '\x8d': stack.push(text(u64())); break;
      case 'J': stack.push(dv.getInt32(need(4), true)); break;
      case 'K': stack.push(u8()); break;
      case 'M': stack.push(u16()); break;
      case '\x8a': { // LONG1: little-endian two's complement of n bytes
        const n = u8();
        const at = need(n);
        let v = 0n;
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[at + k] as number);
        if (n > 0 && (data[at + n - 1] as number) >= 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 'G': stack.push(dv.getFloat64(need(8), false)); break;
      case '\x88': stack.push(true); break;
      case '\x89': stack.push(false); break;
      case 'N': stack.push(null); break;
      case 't': stack.push(new PyTuple(popMark())); break;
      case '\x85': stack.push(tuple(1)); break;
      case '\x86': stack.push(tuple(2)); break;
      case '\x87': stack.push(tuple(3)); break;
      case 'q': memo.set(u8(), top()); break;
      case 'r': memo.set(u32(), top()); break;
      case '\x94': memo.set(memo.size, top()); break;
      case 'h': stack.push(get(u8())); break;
      case 'j': stack.push(get(u32())); break;
      case 's': {
        const v = pop();
        const k = pop();
        dict().items.set(k, v);
        break;
      }
      case 'u': {
        const items = popMark();
        if (items.length % 2) fail('odd number of items for a dict');
        const d = dict();
        for (let k = 0; k < items.length; k += 2) d.items.set(items[k] as PyValue, items[k + 1] as PyValue);
        break;
      }
      case 'a': {
        const v = pop();
        list().push(v);
        break;
      }
      case 'e': {
        const items = popMark();
        const l = list();
        for (const v of items) l.push(v);
        break;
      }
      case 'c': {
        const module = line();
        const name = line();
        stack.push(hook(() => opts.findGlobal(module, name)));
        break;
      }
      case '\x93': {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name are not strings');
        stack.push(hook(() => opts.findGlobal(module as string, name as string)));
        break;
      }
      case 'R': {
        const args = pop();
        const f = pop();
        if (!(f instanceof PyGlobal) || !f.call) return fail(`cannot call ${aPyType(f)}`);
        if (!(args instanceof PyTuple)) return fail(`arguments of ${f.qualname} are ${aPyType(args)}, not a tuple`);
        const call = f.call;
        stack.push(hook(() => call(args.items)));
        break;
      }
      case 'b': { // BUILD: only an OrderedDict's attributes (a state dict's _metadata), kept aside
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) fail(`sets the state of ${aPyType(target)}; only dicts are supported`);
        (target as PyDict).state = state;
        break;
      }
      case 'Q': {
        const pid = pop();
        stack.push(hook(() => opts.persistentLoad(pid)));
        break;
      }
      default:
        fail(`opcode 0x${op.charCodeAt(0).toString(16).padStart(2, '0')} is not used by torch.save for state dicts and is not supported`);
    }
  }
}
