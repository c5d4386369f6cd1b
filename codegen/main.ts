// The op generator: native_functions.yaml + codegen/allowlist.txt → C++ glue, TS wrappers, types.
//   npm run gen            regenerate every output file
//   npm run gen:check      exit 1 if any committed output differs from what would be generated
// The schema is the one shipped with the installed torch (python3-torch), so the bindings always
// match the LibTorch we link; TESSERA_SCHEMA overrides the path.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { emitCppHeader, emitCppRegister, emitCppShards, HEADER } from './emit-cpp.js';
import { emitTsMethods, emitTsNativeNames, emitTsOps, emitTsSignatures, TS_HEADER } from './emit-ts.js';
import { emitEnumsHeader, emitEnumsTs } from './enums.js';
import { bindOps, readAllowlist } from './model.js';
import { readSchemas } from './schema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMA_CANDIDATES = [
  process.env.TESSERA_SCHEMA,
  '/usr/lib/python3/dist-packages/torchgen/packaged/ATen/native/native_functions.yaml',
].filter((p): p is string => !!p);

/** Methods the hand-written Tensor class defines itself (src/tensor/tensor.ts); no generated twin. */
const HANDWRITTEN_METHODS = new Set(['to', 'item', 'contiguous', 'detach', 'clone', 'requiresGrad_', 'view', 'expand']);

const SHARDS = 4;

function schemaPath(): string {
  const found = SCHEMA_CANDIDATES.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `native_functions.yaml not found (looked at ${SCHEMA_CANDIDATES.join(', ')}). ` +
        'Install python3-torch (apt-get install python3-torch) or set TESSERA_SCHEMA.',
    );
  return found;
}

export function generate(): Map<string, string> {
  const allowPath = join(ROOT, 'codegen', 'allowlist.txt');
  const ops = bindOps(readSchemas(schemaPath()), readAllowlist(allowPath), 'codegen/allowlist.txt');
  const files = new Map<string, string>();
  emitCppShards(ops, SHARDS).forEach((text, i) => files.set(`native/generated/ops_${i}.cc`, text));
  files.set('native/generated/ops.h', emitCppHeader(ops));
  files.set('native/generated/ops_register.cc', emitCppRegister(ops, `${ops.length} ops`));
  files.set('native/generated/enums.h', emitEnumsHeader(HEADER));
  files.set('src/tensor/generated/enums.ts', emitEnumsTs(TS_HEADER));
  files.set('src/tensor/generated/ops.ts', emitTsOps(ops));
  files.set('src/tensor/generated/methods.ts', emitTsMethods(ops, HANDWRITTEN_METHODS));
  files.set('src/tensor/generated/native-names.ts', emitTsNativeNames(ops));
  files.set('src/tensor/generated/signatures.ts', emitTsSignatures(ops));
  return files;
}

function main(): void {
  const check = process.argv.includes('--check');
  const files = generate();
  const drift: string[] = [];
  for (const [rel, text] of files) {
    const path = join(ROOT, rel);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === text) continue;
    if (check) {
      drift.push(rel);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${relative(ROOT, path)}`);
    }
  }
  if (check && drift.length > 0) {
    console.error(`generated code is out of date; run \`npm run gen\` and commit:\n  ${drift.join('\n  ')}`);
    process.exit(1);
  }
  if (check) console.log(`generated code is up to date (${files.size} files)`);
}

main();
