#!/usr/bin/env node
// The native addon of an installed package: built once when the package is packed, reused by
// `npm install` when it fits, built from source when it does not.
//
//   node scripts/prebuilt.mjs stage     (prepack) copies build/Release/tessera.node into
//                                        prebuilds/<platform>-<arch>/ with build.json: the LibTorch it
//                                        was linked against and a hash of the native sources
//   node scripts/prebuilt.mjs install   (the package's install script) uses the staged addon when
//                                        platform, N-API, LibTorch (version, C++ ABI, CUDA) and sources
//                                        all match and it loads; otherwise builds (scripts/build-native.mjs)
//
// A from-source build takes minutes; the prebuilt path takes a second. A git checkout has no
// prebuilds/ (it is ignored), and a checkout whose native sources changed since staging fails the
// source hash, so development builds are never replaced by a stale binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findLibTorch } from '../native/find-libtorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NAPI_VERSION = 8; // binding.gyp's NAPI_VERSION
const addon = join(root, 'build', 'Release', 'tessera.node');
export const prebuiltDir = (dir = root) => join(dir, 'prebuilds', `${process.platform}-${process.arch}`);

/** SHA-256 over binding.gyp and every file under native/ (names and bytes, in sorted order). */
export function sourceHash(dir = root) {
  const hash = createHash('sha256');
  const walk = (rel) => {
    const entries = readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else hash.update(`${p}\0`).update(readFileSync(join(dir, p))).update('\0');
    }
  };
  hash.update(readFileSync(join(dir, 'binding.gyp')));
  walk('native');
  return hash.digest('hex');
}

/** What an addon built here depends on. */
export function buildInfo(libtorch, dir = root) {
  return {
    platform: process.platform,
    arch: process.arch,
    napi: NAPI_VERSION,
    libtorch: { version: libtorch.version, cxx11abi: libtorch.cxx11abi, cuda: libtorch.cuda, libdir: libtorch.libdir },
    sources: sourceHash(dir),
  };
}

/** Why a staged addon described by `staged` cannot serve here (described by `here`), or null when it can. */
export function mismatch(staged, here, napi = Number(process.versions.napi)) {
  if (staged.platform !== here.platform || staged.arch !== here.arch) return `it was built for ${staged.platform}-${staged.arch}, this is ${here.platform}-${here.arch}`;
  if (!(napi >= staged.napi)) return `it needs N-API ${staged.napi}, this Node has ${napi}`;
  for (const k of ['version', 'cxx11abi', 'cuda']) {
    if (staged.libtorch[k] !== here.libtorch[k]) return `it was linked against LibTorch ${k} ${staged.libtorch[k]}, the LibTorch found here has ${here.libtorch[k]}`;
  }
  if (staged.sources !== here.sources) return 'the native sources differ from those it was built from';
  return null;
}

function stage() {
  if (!existsSync(addon)) throw new Error(`no ${addon} to stage: run \`npm run build:native\` first`);
  const dir = prebuiltDir();
  mkdirSync(dir, { recursive: true });
  copyFileSync(addon, join(dir, 'tessera.node'));
  const info = buildInfo(findLibTorch());
  writeFileSync(join(dir, 'build.json'), `${JSON.stringify(info, null, 2)}\n`);
  console.log(`tessera: staged the native addon for ${info.platform}-${info.arch}, LibTorch ${info.libtorch.version}`);
}

/** Whether the addon at `path` loads in a fresh Node (its LibTorch libraries resolve). */
function loads(path) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path)})`], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`);
}

function install() {
  const dir = prebuiltDir();
  const staged = join(dir, 'tessera.node');
  let why = 'no prebuilt addon for this platform is shipped';
  if (existsSync(staged)) {
    const libtorch = findLibTorch(); // throws the three ways to get LibTorch when there is none
    why = mismatch(JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')), buildInfo(libtorch));
    if (why === null) {
      mkdirSync(dirname(addon), { recursive: true });
      copyFileSync(staged, addon);
      why = loads(addon);
      if (why === null) return void console.log(`tessera: using the prebuilt native addon (LibTorch ${libtorch.version}, ${process.platform}-${process.arch})`);
      why = `it does not load here: ${why}`;
    }
  }
  console.log(`tessera: building the native addon from source (${why}); this takes a few minutes`);
  execFileSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2];
  try {
    if (command === 'stage') stage();
    else if (command === 'install') install();
    else throw new Error(`usage: prebuilt.mjs stage|install (got ${command})`);
  } catch (e) {
    console.error(`\n${e.message}\n`);
    process.exit(1);
  }
}
