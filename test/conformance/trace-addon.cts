// A stand-in for the native addon that records which entry points are called, so the harness can
// check that every row really exercises the entry points it claims to cover (a row that meant
// `arange$start` but dispatched to `arange$start_step` would otherwise pass unnoticed).
//
// The addon's own properties are read-only, so instead of wrapping them in place this module loads
// the real addon and exports a copy whose functions record their name before forwarding the call.
// trace-env.ts points TESSERA_ADDON here before Tessera loads; src/tensor/native.ts loads whatever
// TESSERA_ADDON names.
import { join } from 'node:path';

type AnyFn = (...args: unknown[]) => unknown;

/** The recorder the harness finds under this symbol on the (traced) addon object (see harness.ts). */
interface Trace {
  /** Starts recording into a fresh set. */
  start(): void;
  /** Stops recording and returns the names called since start(). */
  stop(): string[];
}

const TRACE_KEY = Symbol.for('tessera.conformance.trace');
const realPath = process.env.TESSERA_CONFORMANCE_ADDON ?? join(__dirname, '..', '..', '..', 'build', 'Release', 'tessera.node');
const real = require(realPath) as Record<string, unknown>;

let recording: Set<string> | null = null;
const traced: Record<string | symbol, unknown> = {};
for (const key of Object.getOwnPropertyNames(real)) {
  const value = real[key];
  if (typeof value !== 'function') {
    traced[key] = value;
    continue;
  }
  const fn = value as AnyFn;
  traced[key] = (...args: unknown[]): unknown => {
    recording?.add(key);
    return fn.apply(real, args);
  };
}
const trace: Trace = {
  start() {
    recording = new Set();
  },
  stop() {
    const names = recording ? [...recording] : [];
    recording = null;
    return names;
  },
};
traced[TRACE_KEY] = trace;

export = traced;
