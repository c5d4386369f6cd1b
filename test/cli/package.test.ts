// The package as a user gets it: `npm pack`, installed from the tarball without dev dependencies
// into an empty folder, must run `tessera models` and a small training. The install reuses the
// native addon staged at pack time (scripts/prebuilt.mjs), so this takes seconds, not the minutes
// of a from-source build; the rules for when it may be reused are checked on their own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Every bare import specifier in the compiled library (static and dynamic imports). */
function runtimeImports(dir: string): Set<string> {
  const out = new Set<string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) for (const s of runtimeImports(p)) out.add(s);
    else if (e.name.endsWith('.js')) {
      const text = readFileSync(p, 'utf8');
      // tsc writes one import or export per statement, at the start of a line; dynamic imports anywhere.
      const statics = text.matchAll(/^(?:(?:import|export)\b[^;'"]*?\bfrom|import)\s*['"]([^'"]+)['"]/gm);
      const dynamics = text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g);
      for (const m of [...statics, ...dynamics]) if (!/^[./]/.test(m[1] as string)) out.add(m[1] as string);
    }
  }
  return out;
}

describe('the npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('lists every package the library imports at run time in dependencies, none only in devDependencies', () => {
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    for (const spec of runtimeImports(join(ROOT, 'dist', 'src'))) {
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
      if (!(name in pkg.dependencies)) missing.push(`${spec}${name in pkg.devDependencies ? ' (a devDependency)' : ''}`);
    }
    assert.deepEqual(missing, []);
    assert.ok('yaml' in pkg.dependencies, 'config files in YAML are read at run time');
  });

  it('reuses a staged addon only when platform, N-API, LibTorch and sources match', async () => {
    const prebuilt = (await import(pathToFileURL(join(ROOT, 'scripts', 'prebuilt.mjs')).href)) as {
      mismatch(staged: unknown, here: unknown, napi?: number): string | null;
    };
    const here = { platform: 'linux', arch: 'x64', napi: 8, libtorch: { version: '1.13.0', cxx11abi: 1, cuda: false, libdir: '/usr/lib' }, sources: 'abc' };
    const with_ = (patch: Record<string, unknown>, lt: Record<string, unknown> = {}) => ({ ...here, ...patch, libtorch: { ...here.libtorch, ...lt } });
    assert.equal(prebuilt.mismatch(here, here, 9), null);
    assert.equal(prebuilt.mismatch(with_({}, { libdir: '/opt/elsewhere' }), here, 9), null, 'the library folder is checked by loading, not by name');
    assert.match(prebuilt.mismatch(with_({ arch: 'arm64' }), here, 9)!, /built for linux-arm64, this is linux-x64/);
    assert.match(prebuilt.mismatch(here, here, 7)!, /needs N-API 8, this Node has 7/);
    assert.match(prebuilt.mismatch(with_({}, { version: '2.3.1' }), here, 9)!, /LibTorch version 2\.3\.1, the LibTorch found here has 1\.13\.0/);
    assert.match(prebuilt.mismatch(with_({}, { cxx11abi: 0 }), here, 9)!, /cxx11abi 0/);
    assert.match(prebuilt.mismatch(with_({}, { cuda: true }), here, 9)!, /cuda true/);
    assert.match(prebuilt.mismatch(with_({ sources: 'def' }), here, 9)!, /native sources differ/);
  });

  it('packs, installs with --omit=dev into an empty folder, and runs `tessera models` and a small training', { timeout: 600_000 }, async () => {
    // As the README says for a machine without internet access: onnxruntime-node's install step
    // would fetch a CUDA build it does not need (its CPU binary ships inside the package).
    const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 480_000, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    const packed = npm(['pack', '--pack-destination', work], ROOT);
    assert.equal(packed.status, 0, packed.stderr);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack wrote no tarball: ${packed.stdout}`);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    const installed = npm(['install', join(work, tarball), '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], app);
    assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
    assert.match(installed.stdout + installed.stderr, /tessera: using the prebuilt native addon/);
    const modules = join(app, 'node_modules');
    for (const dev of Object.keys(pkg.devDependencies)) assert.ok(!existsSync(join(modules, dev)), `${dev} (a devDependency) is not installed`);
    assert.ok(existsSync(join(modules, 'tessera', 'build', 'Release', 'tessera.node')));

    const tessera = (args: string[]) => spawnSync(join(modules, '.bin', 'tessera'), args, { cwd: app, encoding: 'utf8', timeout: 300_000 });
    const models = tessera(['models']);
    assert.equal(models.status, 0, models.stderr);
    assert.match(models.stdout, /^fashion-net\s/m);

    // Two colours, a YAML config (read by `yaml`, a run-time dependency), one epoch on one thread.
    for (const [name, background] of [['red', '#d02020'], ['blue', '#2020d0']] as const) {
      mkdirSync(join(app, 'photos', name), { recursive: true });
      for (let i = 0; i < 6; i++) await sharp({ create: { width: 8 + i, height: 8, channels: 3, background } }).png().toFile(join(app, 'photos', name, `${i}.png`));
    }
    writeFileSync(join(app, 'run.yaml'), 'model:\n  name: mlp\ndata:\n  imageSize: [8, 8]\n  valSplit: 0\ntrain:\n  epochs: 1\n  batchSize: 4\n  threads: 1\n');
    const trained = tessera(['train', 'photos', '--config', 'run.yaml', '--name', 'tiny']);
    assert.equal(trained.status, 0, trained.stderr);
    assert.match(trained.stdout, /report: .*runs\/tiny\/report\.html/);
    for (const f of ['model.safetensors', 'model.json', 'metrics.json', 'report.html']) assert.ok(existsSync(join(app, 'runs', 'tiny', f)), f);
  });
});
