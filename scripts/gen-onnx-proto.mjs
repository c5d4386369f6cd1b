// Generates src/export/generated/onnx_pb.ts, the typed ONNX protobuf messages the exporter writes,
// from ONNX's own schema: the onnx.proto that Debian's python3-onnx installs (TESSERA_ONNX_PROTO
// overrides the path). The compiler is Buf with protoc-gen-es (dev dependencies, pinned), so the
// file is what protobuf-es's own tooling makes of the schema, never hand-written wire encoding.
//   node scripts/gen-onnx-proto.mjs           regenerate
//   node scripts/gen-onnx-proto.mjs --check   exit 1 if the committed file differs
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROTO = process.env.TESSERA_ONNX_PROTO ?? '/usr/lib/python3/dist-packages/onnx/onnx.proto';
const OUT = join(ROOT, 'src', 'export', 'generated', 'onnx_pb.ts');
const BUF = join(ROOT, 'node_modules', '@bufbuild', 'buf', 'bin', 'buf');
const PLUGIN = join(ROOT, 'node_modules', '@bufbuild', 'protoc-gen-es', 'bin', 'protoc-gen-es');

function generate() {
  if (!existsSync(PROTO)) throw new Error(`onnx.proto not found at ${PROTO}: install python3-onnx (apt-get install python3-onnx) or set TESSERA_ONNX_PROTO`);
  for (const p of [BUF, PLUGIN]) if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm ci\` (it is a dev dependency)`);
  // Buf compiles every .proto in its input folder, and python3-onnx's folder also holds onnx-ml.proto
  // (the same messages again), so the schema is compiled alone from a folder of its own.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-proto-'));
  try {
    copyFileSync(PROTO, join(dir, 'onnx.proto'));
    const template = JSON.stringify({ version: 'v2', plugins: [{ local: [process.execPath, PLUGIN], out: 'gen', opt: ['target=ts'] }] });
    const r = spawnSync(process.execPath, [BUF, 'generate', '--template', template], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`buf generate failed:\n${r.stderr}${r.stdout}`);
    return readFileSync(join(dir, 'gen', 'onnx_pb.ts'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = generate();
const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : undefined;
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error('src/export/generated/onnx_pb.ts is out of date; run `node scripts/gen-onnx-proto.mjs` and commit');
    process.exit(1);
  }
  console.log('the ONNX protobuf module is up to date');
} else if (current !== text) {
  writeFileSync(OUT, text);
  console.log('wrote src/export/generated/onnx_pb.ts');
}
