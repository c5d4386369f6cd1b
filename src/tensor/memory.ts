// Memory scopes and the safety net.
//
// V8's GC does not see tensor memory, so release is deterministic:
//   - `t.dispose()` / `using t = ...` for one tensor;
//   - `scope(fn)`: every tensor created while fn runs (also across `await`) is disposed when fn
//     ends, except the tensors found in fn's result, which move to the enclosing scope;
//   - tensors created outside every scope are registered with a FinalizationRegistry, which frees
//     them if they become unreachable without being disposed, and report their memory to V8 as
//     external memory so that its GC runs when they pile up. Registration costs ~0.2 µs, so
//     tensors born inside a scope skip both (the scope already guarantees their release; reporting
//     a step's activations made V8 run a full mark-compact every training step).
// The current scope is tracked by a synchronous stack, and by AsyncLocalStorage for async scopes:
// a synchronous scope always ends before control returns to the event loop, so at every await
// boundary the stack is empty and the async context's scope applies.
import { AsyncLocalStorage } from 'node:async_hooks';

import { native, type Handle, type NativeMemoryStats } from './native.js';
import type { Tensor } from './tensor.js';

class Scope {
  /** Tensors adopted by this scope; disposed ones stay until the next compaction (disposing twice is a no-op). */
  tensors: Owned[] = [];
  open = true;
  constructor(readonly parent: Scope | undefined) {}

  add(t: Owned): void {
    this.tensors.push(t);
    // A long scope whose tensors are disposed by hand must not grow without bound.
    if (this.tensors.length >= this.compactAt) {
      this.tensors = this.tensors.filter((x) => !x.disposed && x._owner === this);
      this.compactAt = Math.max(1024, this.tensors.length * 2);
    }
  }

  private compactAt = 1024;
}

/** What memory.ts needs of a Tensor: its handle, and a slot naming the scope that owns it. */
interface Owned {
  readonly handle: Handle;
  readonly disposed: boolean;
  _owner: Scope | undefined;
  dispose(): void;
}

let syncTop: Scope | undefined;
let asyncScopesUsed = false;
const asyncContext = new AsyncLocalStorage<Scope>();

const registry = new FinalizationRegistry<Handle>((h) => native.release(h));

function current(): Scope | undefined {
  if (syncTop) return syncTop;
  return asyncScopesUsed ? asyncContext.getStore() : undefined;
}

function enter(t: Owned, s: Scope | undefined): void {
  while (s && !s.open) s = s.parent;
  t._owner = s;
  if (s) s.add(t);
  else {
    registry.register(t, t.handle, t);
    // Only these wait for the GC, so only these tell it how much native memory they hold.
    native.trackExternal(t.handle);
  }
}

/** @internal Called by the Tensor constructor: the new tensor belongs to the current scope. */
export function adopt(t: Tensor): void {
  enter(t as unknown as Owned, current());
}

/** @internal Called by dispose(): the tensor no longer needs the safety net. */
export function forget(t: Tensor): void {
  const o = t as unknown as Owned;
  if (o._owner === undefined) registry.unregister(t);
  o._owner = undefined;
}

/** Moves a tensor from its scope to the enclosing open scope, or to the safety net. */
function promote(t: Owned): void {
  const from = t._owner;
  if (!from || t.disposed) return;
  enter(t, from.parent);
}

/** Tensors reachable from a scope's result (arrays, plain objects, Maps, Sets), deeply. */
function collectTensors(value: unknown, out: Set<unknown>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (tensorClass && value instanceof tensorClass) {
    out.add(value);
  } else if (Array.isArray(value) || value instanceof Set) {
    for (const v of value) collectTensors(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, seen);
  }
}

let tensorClass: typeof Tensor | undefined;
/** @internal tensor.ts registers its class here (avoids an import cycle). */
export function registerTensorClass(c: typeof Tensor): void {
  tensorClass = c;
}

function close(s: Scope, result: unknown): void {
  s.open = false;
  const kept = new Set<unknown>();
  collectTensors(result, kept);
  for (const t of s.tensors) {
    if (t._owner !== s) continue; // disposed, or promoted by keep()
    if (kept.has(t)) promote(t);
    else t.dispose();
  }
  s.tensors = [];
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const AsyncFunction = (async () => {}).constructor;

/**
 * Runs `fn` and disposes every tensor created during it, except those reachable from its result
 * (which move to the enclosing scope).
 *
 * `fn` may be an async function: then tensors created after an `await` inside it belong to the
 * scope too (tracked with AsyncLocalStorage), and the scope closes when the promise settles.
 * A plain function that returns a promise is awaited the same way, but only the tensors made
 * before it returned are tracked: write such bodies as `async` functions.
 *
 *     const loss = scope(() => model.forward(x).sub(y).pow(2).mean());
 *     const out = await scope(async () => step(await loader.next()));
 */
export function scope<T>(fn: () => T): T {
  const s = new Scope(current());
  const outer = syncTop;
  syncTop = s;
  let result: T;
  try {
    if (fn instanceof AsyncFunction) {
      asyncScopesUsed = true;
      result = asyncContext.run(s, fn);
    } else {
      result = fn();
    }
  } catch (e) {
    syncTop = outer;
    close(s, undefined);
    throw e;
  } finally {
    syncTop = outer;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (value) => {
        close(s, value);
        return value;
      },
      (e: unknown) => {
        close(s, undefined);
        throw e;
      },
    ) as T;
  }
  close(s, result);
  return result;
}

/** Keeps a tensor alive past the current scope (moves it to the enclosing scope or the safety net). */
export function keep<T extends Tensor>(t: T): T {
  promote(t as unknown as Owned);
  return t;
}

/**
 * Takes a tensor out of every scope: it lives until disposed (or, if dropped, until the GC
 * finds it). For long-lived state created inside scopes: parameters, buffers, optimizer state.
 */
export function persist<T extends Tensor>(t: T): T {
  const o = t as unknown as Owned;
  if (o._owner !== undefined && !o.disposed) enter(o, undefined);
  return t;
}

export interface MemoryStats extends NativeMemoryStats {}

/**
 * Live tensor handles and the bytes of the distinct storages they reference, counted natively.
 * Use in tests: a training loop that leaks nothing keeps `liveTensors` flat.
 */
export function memoryStats(): MemoryStats {
  return native.memoryStats();
}

