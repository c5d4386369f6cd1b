// The run-directory lock with real processes: a second process is refused and told who holds the
// run; a holder killed with SIGKILL, a reused pid and a silent holder on another host are taken
// over; racing processes never both win. And the run directory around it: leftovers of a killed
// run are removed, a failed run leaves no half-made folder.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { lockRunDirectory, RunLockedError, type LockHolder } from '../../src/run/lock.js';
import { openRunDirectory } from '../../src/run/run-dir.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src/run/lock.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tessera-lock-'));
let dirs = 0;
const freshDir = () => {
  const d = join(root, `run-${++dirs}`);
  mkdirSync(d);
  return d;
};

/** A node process that tries the lock of `dir` and prints 'won' (then holds it) or 'refused'. */
function contender(dir: string, startAt = 0): ChildProcess {
  const code = `
    const { lockRunDirectory } = await import(${JSON.stringify(LOCK_MODULE)});
    while (Date.now() < ${startAt}) {}
    try { lockRunDirectory(${JSON.stringify(dir)}); console.log('won'); setInterval(() => {}, 1000); }
    catch (e) { console.log(e.name === 'RunLockedError' ? 'refused' : 'error ' + e.message); process.exit(0); }`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    child.on('exit', (code) => reject(new Error(`contender exited (${code}) before answering: ${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.on('exit', r)));

function writeLock(dir: string, h: Partial<LockHolder>, ageMs = 0): void {
  const holder: LockHolder = { pid: 1, host: hostname(), started: new Date().toISOString(), command: 'tessera train', token: 'feedfacefeedface', ...h };
  writeFileSync(join(dir, '.lock'), JSON.stringify(holder));
  const t = new Date(Date.now() - ageMs);
  utimesSync(join(dir, '.lock'), t, t);
}

describe('run-directory lock', () => {
  it('refuses a second process, naming the holder; takes over once the holder is SIGKILLed', async () => {
    const dir = freshDir();
    const holder = contender(dir);
    try {
      assert.equal(await firstLine(holder), 'won');
      const e = (() => {
        try {
          lockRunDirectory(dir);
        } catch (err) {
          return err;
        }
        return assert.fail('the second lock was granted');
      })();
      assert.ok(e instanceof RunLockedError);
      assert.equal(e.holder.pid, holder.pid);
      assert.equal(e.holder.host, hostname());
      assert.match(e.message, new RegExp(`in use by process ${holder.pid} on ${hostname()} \\(since \\d{4}-\\d\\d-\\d\\dT[^)]*: .*\\); wait for it to finish, stop it, or give this run another --name`));
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
    const reasons: string[] = [];
    const lock = lockRunDirectory(dir, { onTakeover: (why) => reasons.push(why) });
    assert.deepEqual(reasons, [`process ${holder.pid} is gone`]);
    assert.equal(JSON.parse(readFileSync(lock.path, 'utf8')).pid, process.pid);
    lock.release();
    assert.ok(!existsSync(lock.path), 'release removes the lock');
  });

  it('of racing processes exactly one wins, on a fresh directory and on a stale lock', async () => {
    for (const stale of [false, true]) {
      const dir = freshDir();
      if (stale) writeLock(dir, { pid: 1, host: 'gone-host' }, 3_600_000);
      const startAt = Date.now() + 1500; // let every process load first, then go at once
      const children = Array.from({ length: 4 }, () => contender(dir, startAt));
      try {
        const answers = await Promise.all(children.map(firstLine));
        assert.equal(answers.filter((a) => a === 'won').length, 1, `${stale ? 'stale' : 'fresh'}: ${answers.join(', ')}`);
        assert.equal(answers.filter((a) => a === 'refused').length, 3, answers.join(', '));
      } finally {
        for (const c of children) c.kill('SIGKILL');
        await Promise.all(children.map(exited));
      }
    }
  });

  it('takes over a lock from another host only once it has not been refreshed for the stale time', () => {
    const dir = freshDir();
    writeLock(dir, { pid: 4242, host: 'other-host' }, 60_000);
    assert.throws(() => lockRunDirectory(dir, { staleMs: 120_000 }), /in use by process 4242 on other-host/);
    const reasons: string[] = [];
    const lock = lockRunDirectory(dir, { staleMs: 30_000, onTakeover: (why) => reasons.push(why) });
    assert.match(reasons[0]!, /^other-host has not refreshed it for 6\d s$/);
    lock.release();
  });

  it('treats a lock whose pid now belongs to another process (pid reuse) as stale', () => {
    const dir = freshDir();
    // Our own pid, alive, but with another process start time: the lock's writer is gone.
    writeLock(dir, { pid: process.pid, processStart: '1' });
    const reasons: string[] = [];
    const lock = lockRunDirectory(dir, { onTakeover: (why) => reasons.push(why) });
    assert.deepEqual(reasons, [`process ${process.pid} is gone`]);
    // The live holder (this process, with its true start time) is not.
    assert.throws(() => lockRunDirectory(dir), RunLockedError);
    lock.release();
  });

  it('refreshes the lock while held, and a release does not remove a lock another process took over', async () => {
    const dir = freshDir();
    const lock = lockRunDirectory(dir, { heartbeatMs: 50 });
    const t = new Date(Date.now() - 3_600_000);
    utimesSync(lock.path, t, t);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Date.now() - statSync(lock.path).mtimeMs < 1000, 'the heartbeat refreshed the mtime');
    writeLock(dir, { pid: 4242, host: 'other-host', token: 'another' });
    lock.release();
    assert.equal(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).token, 'another');
  });

  it('refuses a damaged lock file it cannot judge, saying what to do', () => {
    const dir = freshDir();
    writeFileSync(join(dir, '.lock'), 'not json');
    assert.throws(() => lockRunDirectory(dir), /\.lock exists but cannot be read; if no run uses this directory, delete it/);
  });
});

describe('run directory', () => {
  it('removes the temporary files a killed run left, and nothing else', () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'checkpoints'));
    const leftovers = [join(dir, '.model.safetensors.31337.0123456789ab.tmp'), join(dir, 'checkpoints', '.last.incoming.ckpt'), join(dir, '.lock.0123456789abcdef')];
    const kept = [join(dir, 'config.json'), join(dir, 'checkpoints', 'last.ckpt'), join(dir, 'notes.tmp')];
    for (const f of [...leftovers, ...kept]) writeFileSync(f, 'x');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(leftovers[2]!, old, old); // a lock candidate is a leftover only once it is old
    const lines: string[] = [];
    const run = openRunDirectory(dir, { log: (l) => lines.push(l) });
    try {
      assert.deepEqual([...run.removed].sort(), [...leftovers].sort());
      for (const f of leftovers) assert.ok(!existsSync(f), f);
      for (const f of kept) assert.ok(existsSync(f), f);
      assert.deepEqual(lines, ['removed 3 temporary files left by an earlier run that was stopped']);
    } finally {
      run[Symbol.dispose]();
    }
    assert.ok(existsSync(dir), 'an existing directory is never removed');
    assert.ok(!existsSync(join(dir, '.lock')));
  });

  it('removes a directory it created when nothing worth resuming was written; keeps one with a checkpoint', () => {
    const failed = join(root, 'failed-run');
    const run = openRunDirectory(failed);
    assert.ok(run.created);
    writeFileSync(join(failed, 'config.json'), '{}');
    run[Symbol.dispose]();
    assert.ok(!existsSync(failed), 'a half-made run folder is removed');

    const started = join(root, 'started-run');
    const run2 = openRunDirectory(started);
    mkdirSync(join(started, 'checkpoints'));
    writeFileSync(join(started, 'checkpoints', 'last.ckpt'), 'x');
    run2[Symbol.dispose]();
    assert.ok(existsSync(join(started, 'checkpoints', 'last.ckpt')), 'a run with a checkpoint stays, to be resumed');
  });

  it('a refused process leaves the directory and the holder alone', () => {
    const fresh = join(root, 'contested');
    const first = openRunDirectory(fresh);
    try {
      assert.throws(() => openRunDirectory(fresh), RunLockedError);
      assert.ok(existsSync(join(fresh, '.lock')));
    } finally {
      first[Symbol.dispose]();
    }
  });
});
