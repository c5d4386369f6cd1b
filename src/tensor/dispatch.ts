// The small runtime the generated wrappers (generated/ops.ts) are written against: turning JS
// values into what the native entry points take, and native results back into Tensors.
import { dtypeCode, dtypeName } from './dtype.js';
import { deviceName, type DeviceLike } from './device.js';
export { layoutCode, memoryFormatCode, reductionCode } from './codes.js';
import { native, type Handle, type NativeAddon } from './native.js';
import { Tensor } from './tensor.js';

export { dtypeCode, dtypeName, deviceName };
export type { DeviceLike };

/** What PyTorch calls a Scalar: a JS number (integral numbers are integers), boolean or bigint. */
export type Scalar = number | boolean | bigint;

export type Options = Record<string, unknown>;

export const N: NativeAddon = native;

export function isScalar(v: unknown): v is Scalar {
  const t = typeof v;
  return t === 'number' || t === 'boolean' || t === 'bigint';
}

/** A trailing options object: a plain object, not a Tensor, array or buffer. */
export function isOptions(v: unknown): v is Options {
  return typeof v === 'object' && v !== null && !(v instanceof Tensor) && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A trailing options object whose keys are all among `allowed` (the overload's named arguments). */
export function optionsIn(v: unknown, allowed: Readonly<Record<string, 1>>): v is Options {
  if (!isOptions(v)) return false;
  for (const k in v) if (!Object.hasOwn(allowed, k)) return false;
  return true;
}

export function handleOf(v: unknown): Handle {
  if (v instanceof Tensor) return v.handle;
  throw new TypeError(`expected a Tensor, got ${describe(v)}`);
}

export function optHandle(v: unknown): Handle | undefined {
  return v == null ? undefined : handleOf(v);
}

export function handles(v: readonly unknown[]): Handle[] {
  return v.map(handleOf);
}

export function optHandles(v: readonly unknown[]): (Handle | null)[] {
  return v.map((t) => (t == null ? null : handleOf(t)));
}

export function wrap(h: unknown): Tensor {
  return new Tensor(h as Handle);
}

export function wrapAll(hs: unknown): Tensor[] {
  return (hs as Handle[]).map((h) => new Tensor(h));
}

export function describe(v: unknown): string {
  if (v instanceof Tensor) return v.disposed ? 'Tensor(disposed)' : `Tensor(${v.dtype}[${v.shape.join(', ')}])`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return `{${Object.keys(v as object).join(', ')}}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? `${typeof v} ${String(v)}` : typeof v;
}

/** The error for a call whose arguments match no overload: what was passed, and what is accepted. */
export function noOverload(name: string, args: unknown[], expected: string): TypeError {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  const got = args.slice(0, n).map(describe).join(', ');
  return new TypeError(`${name}() got (${got}); expected one of:\n  ${expected}`);
}
