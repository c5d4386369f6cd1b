#!/usr/bin/env node
// Builds the native addon, doing only the work that is needed: `node-gyp configure` when the
// LibTorch found (LIBTORCH / LIBTORCH_USE_PYTORCH / system), Node or binding.gyp changed since the
// last configure, then `node-gyp build`, whose make step recompiles only changed sources.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findLibTorch } from '../native/find-libtorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampFile = join(root, 'build', '.tessera-configure-stamp');

let libtorch;
try {
  libtorch = findLibTorch();
} catch (e) {
  console.error(`\n${e.message}\n`);
  process.exit(1);
}

const fingerprint = createHash('sha256')
  .update(JSON.stringify({ libtorch, node: process.version, gyp: readFileSync(join(root, 'binding.gyp'), 'utf8') }))
  .digest('hex');

// The project's own node-gyp (a dev dependency), else the one npm runs install scripts with (an
// installed package has no dev dependencies; npm names its bundled node-gyp in npm_config_node_gyp).
const local = join(root, 'node_modules', '.bin', 'node-gyp');
const bundled = process.env.npm_config_node_gyp;
const [gyp, gypArgs] = existsSync(local) ? [local, []] : bundled && existsSync(bundled) ? [process.execPath, [bundled]] : [undefined, []];
if (!gyp) {
  console.error('node-gyp is missing: run `npm ci` first (scripts/setup.sh does it), or install through npm, which brings its own.');
  process.exit(1);
}
// Node's headers ship with Debian's nodejs in /usr/include/node; pointing node-gyp there keeps the
// build offline (it would otherwise try to download them).
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
const common = ['--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const run = (args) => execFileSync(gyp, [...gypArgs, ...args, ...common], { cwd: root, stdio: 'inherit' });

const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
if (stamp !== fingerprint || !existsSync(join(root, 'build', 'Makefile'))) {
  console.log(`tessera: configuring the native build against LibTorch ${libtorch.version} (${libtorch.source})`);
  run(['configure']);
  writeFileSync(stampFile, fingerprint);
}
run(['build', `--jobs=${availableParallelism()}`]);
