// Import this FIRST in a test file that needs call tracing: it makes Tessera load the recording
// addon stand-in (trace-addon.cts) instead of the real addon. ES modules are evaluated in import
// order, so the variable is set before src/tensor/native.ts reads it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const shim = join(dirname(fileURLToPath(import.meta.url)), 'trace-addon.cjs');
const current = process.env.TESSERA_ADDON;
if (current !== shim) {
  // A user-chosen addon stays the one that runs; the stand-in forwards to it.
  if (current !== undefined && process.env.TESSERA_CONFORMANCE_ADDON === undefined) process.env.TESSERA_CONFORMANCE_ADDON = current;
  process.env.TESSERA_ADDON = shim;
}
