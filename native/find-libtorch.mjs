#!/usr/bin/env node
// Finds the LibTorch that the addon builds and links against, in the same three ways as tch-rs:
//   LIBTORCH=/dir            an unpacked official archive (CPU or CUDA)
//   LIBTORCH_USE_PYTORCH=1   the `torch` package of the active Python
//   (neither)                the system's, as installed by Debian's `libtorch-dev`
// binding.gyp calls it with one field name (`includes`, `libdir`, `libs`, `defines`, `cflags`)
// and splices the printed words into the build; `json` prints everything for humans and `tessera info`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const HOW_TO =
  'Tessera needs LibTorch. Use one of: (1) the system LibTorch: `apt-get install libtorch-dev ' +
  'libopenblas0-openmp` (Debian 12 / Ubuntu); (2) LIBTORCH=/path/to/libtorch, an unpacked official ' +
  'LibTorch archive; (3) LIBTORCH_USE_PYTORCH=1 with a Python whose `import torch` works.';

class LibTorchNotFound extends Error {}

function fail(why) {
  throw new LibTorchNotFound(`${why}\n${HOW_TO}`);
}

/** Reads TORCH_VERSION_{MAJOR,MINOR,PATCH} from torch/version.h under one of the include dirs. */
function readVersion(includes) {
  for (const dir of includes) {
    const file = join(dir, 'torch', 'version.h');
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const part = (name) => text.match(new RegExp(`#define\\s+TORCH_VERSION_${name}\\s+(\\d+)`))?.[1];
    const [major, minor, patch] = ['MAJOR', 'MINOR', 'PATCH'].map(part);
    if (major !== undefined) return `${major}.${minor}.${patch}`;
  }
  return 'unknown';
}

/** The _GLIBCXX_USE_CXX11_ABI value LibTorch was built with, from its CMake config (default 1). */
function abiFromCmake(cmakeFile) {
  if (!existsSync(cmakeFile)) return 1;
  const m = readFileSync(cmakeFile, 'utf8').match(/_GLIBCXX_USE_CXX11_ABI=(\d)/);
  return m ? Number(m[1]) : 1;
}

function fromArchive(root) {
  const lib = join(root, 'lib');
  const includes = [join(root, 'include'), join(root, 'include', 'torch', 'csrc', 'api', 'include')];
  if (!existsSync(join(includes[1], 'torch', 'version.h')))
    fail(`LIBTORCH=${root} has no include/torch/csrc/api/include/torch/version.h: not an unpacked LibTorch archive.`);
  if (!existsSync(join(lib, 'libtorch_cpu.so')) && !existsSync(join(lib, 'libtorch.so')))
    fail(`LIBTORCH=${root} has no lib/libtorch_cpu.so.`);
  return {
    source: 'LIBTORCH',
    root,
    includes,
    libdir: lib,
    cxx11abi: abiFromCmake(join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake')),
    cuda: existsSync(join(lib, 'libtorch_cuda.so')),
  };
}

function fromPython() {
  const python = process.env.PYTHON ?? 'python3';
  const script =
    'import json, torch, torch.utils.cpp_extension as c;' +
    'print(json.dumps({"includes": c.include_paths(), "libdirs": c.library_paths(),' +
    '"abi": int(torch._C._GLIBCXX_USE_CXX11_ABI), "cuda": torch.version.cuda is not None}))';
  let out;
  try {
    out = execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fail(`LIBTORCH_USE_PYTORCH=1 but \`${python} -c "import torch"\` failed: ${String(e.stderr ?? e.message).trim()}`);
  }
  const info = JSON.parse(out);
  return {
    source: 'LIBTORCH_USE_PYTORCH',
    root: info.libdirs[0],
    includes: info.includes,
    libdir: info.libdirs[0],
    cxx11abi: info.abi,
    cuda: info.cuda,
  };
}

function fromSystem() {
  const includes = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  const multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  const libdir = join('/usr/lib', multiarch);
  if (!existsSync(join(includes[1], 'torch', 'version.h')) || !existsSync(join(libdir, 'libtorch.so')))
    fail('No LIBTORCH or LIBTORCH_USE_PYTORCH set, and no system LibTorch (libtorch-dev) found.');
  return {
    source: 'system',
    root: '/usr',
    includes,
    libdir,
    cxx11abi: abiFromCmake(join(libdir, 'cmake', 'Torch', 'TorchConfig.cmake')),
    cuda: existsSync(join(libdir, 'libtorch_cuda.so')),
  };
}

export function findLibTorch(env = process.env) {
  let found;
  if (env.LIBTORCH) found = fromArchive(env.LIBTORCH);
  else if (env.LIBTORCH_USE_PYTORCH === '1') found = fromPython();
  else found = fromSystem();
  const libs = ['torch', 'torch_cpu', 'c10'];
  if (found.cuda) libs.push('torch_cuda', 'c10_cuda');
  return { ...found, version: readVersion(found.includes), libs };
}

function main() {
  const field = process.argv[2] ?? 'json';
  let t;
  try {
    t = findLibTorch();
  } catch (e) {
    if (e instanceof LibTorchNotFound) {
      process.stderr.write(`\n${e.message}\n\n`);
      process.exit(1);
    }
    throw e;
  }
  const print = (words) => process.stdout.write(words.join(' ') + '\n');
  switch (field) {
    case 'includes': return print(t.includes);
    case 'libdir': return print([t.libdir]);
    case 'libs': return print(t.libs.map((l) => `-l${l}`));
    case 'ldflags': return print([`-L${t.libdir}`, `-Wl,-rpath,${t.libdir}`, ...(t.cuda ? ['-Wl,--no-as-needed'] : [])]);
    case 'defines': return print([`_GLIBCXX_USE_CXX11_ABI=${t.cxx11abi}`, `TESSERA_WITH_CUDA=${t.cuda ? 1 : 0}`]);
    case 'json': return print([JSON.stringify(t, null, 2)]);
    default:
      process.stderr.write(`find-libtorch: unknown field '${field}'\n`);
      process.exit(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
