// `tessera serve` as a user runs it: a separate process that serves a run under its name, says when
// it is ready, and on SIGTERM stops taking connections, answers every request in flight and exits 0;
// a model that cannot load or a bad flag is one sentence and exit 1.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { setNumThreads } from '../../src/index.js';
import { call, makeRun, picture, postBytes } from './helpers.js';

setNumThreads(1);
const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `tessera serve …` on a free port and waits for its 'ready' line (or its exit). */
function start(...args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'serve', ...args, '--port', '0', '--threads', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 60 s:\n${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const url = /listening on (http:\/\/\S+);/.exec(err)?.[1];
      if (url && /tessera serve: ready:/.test(err)) {
        clearTimeout(timer);
        resolve({ child, url, stderr: () => err, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`tessera serve exited with ${code}:\n${err}`), { code, stderr: err }));
    });
  });
}

describe('tessera serve (the command)', () => {
  let run: string;
  let image: Buffer;
  before(async () => {
    run = makeRun(join(dir, 'pets-resnet9'), { model: 'resnet9', channels: 3, size: 32 });
    image = await picture(64, 48, 'jpeg');
  });

  it('serves a run under its run name (or --name), binds 127.0.0.1, and says so', async () => {
    const s = await start(run);
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(s.stderr(), /loading pets-resnet9 v1 \(torch, batch ≤ 32, 1 thread\)/);
      const r = await postBytes(`${s.url}/v2/models/pets-resnet9/classify?top_k=2`, image, 'image/jpeg');
      assert.equal(r.status, 200, JSON.stringify(r.body));
    } finally {
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 0);
    }
    const named = await start(run, '--name', 'pets');
    try {
      assert.equal((await call(`${named.url}/v2/models/pets/ready`)).status, 200);
      assert.equal((await call(`${named.url}/v2/models/pets-resnet9/ready`)).status, 404);
    } finally {
      named.child.kill('SIGTERM');
      await named.exit;
    }
  });

  it('SIGTERM: requests in flight are all answered 200, new ones are not taken, the process exits 0', async () => {
    const s = await start(run, '--max-batch-size', '1');
    const url = `${s.url}/v2/models/pets-resnet9/classify`;
    const inFlight = Array.from({ length: 8 }, () => postBytes(url, image, 'image/jpeg'));
    // Wait until the server holds them: most queued behind the one in the model.
    for (let i = 0; i < 200; i++) {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      if (Number(/^tessera_queue_samples\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0) >= 5) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    s.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
    assert.equal(await s.exit, 0, s.stderr());
    assert.match(s.stderr(), /SIGTERM: no new connections; finishing the requests in flight/);
    await assert.rejects(fetch(`${s.url}/v2/health/live`), /fetch failed/);
  });

  it('a model that cannot load, a missing model.onnx and a bad flag are one sentence and exit 1', async () => {
    const broken = makeRun(join(dir, 'broken'), { model: 'fashion-net', channels: 1, size: 28 });
    writeFileSync(join(broken, 'model.safetensors'), 'not safetensors at all');
    await assert.rejects(start(broken), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /tessera: model broken version 1 \(.*broken\): .*model\.safetensors/);
      return true;
    });
    const r = spawnSync(process.execPath, [bin, 'serve', run, '--backend', 'onnx'], { env, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--backend onnx: .*pets-resnet9 has no model\.onnx; write it with: tessera export/);
    const flag = spawnSync(process.execPath, [bin, 'serve', run, '--max-batch-size', '0'], { env, encoding: 'utf8' });
    assert.notEqual(flag.status, 0);
    assert.match(flag.stderr, /--max-batch-size must be an integer in 1\.\.4,096/);
  });
});
