// Faults end a job quickly and say why: a killed rank is named within 10 s (by the launcher, and
// by the surviving ranks themselves when there is no launcher), an unreachable master fails after
// the stated timeout, a port in use and a missing rank are named, a silent rank times out, and
// SIGINT reaches every rank. No scenario may hang: each test has a hard timeout.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';

import { dist } from '../../src/index.js';
import { freePort, launchFixture, run, startRanks, FIXTURES } from './helpers.js';
import { join } from 'node:path';

const TIMEOUT = { timeout: 60_000 };

/** The time a fixture printed "KILLED <ms>" (just before it SIGKILLed itself). */
function killedAt(stdout: string): number {
  const m = /KILLED (\d+)/.exec(stdout);
  assert.ok(m, `no KILLED line in:\n${stdout}`);
  return Number(m[1]);
}

/** The survivor's "FAILED <reason> [<lost>] <ms>: <message>" line. */
function failure(stdout: string): { reason: string; lost: string; at: number; message: string } {
  const m = /FAILED (\S+) \[([\d,]*)\] (\d+): (.*)/.exec(stdout);
  assert.ok(m, `no FAILED line in:\n${stdout}`);
  return { reason: m[1]!, lost: m[2]!, at: Number(m[3]), message: m[4]! };
}

async function initFails(options: dist.InitOptions): Promise<{ error: dist.DistError; ms: number }> {
  const start = Date.now();
  try {
    await dist.init(options);
  } catch (e) {
    return { error: e as dist.DistError, ms: Date.now() - start };
  }
  await dist.destroy();
  assert.fail('dist.init succeeded');
}

describe('faults', () => {
  it('a rank killed with SIGKILL: the launcher stops the others and exits non-zero naming it, within 10 s', TIMEOUT, async () => {
    const out = await launchFixture(2, 'faulty.js', [], { env: { ...process.env, FAULT_KILL_RANK: '1' } });
    assert.notEqual(out.code, 0);
    assert.equal(out.result.failure?.rank, 1);
    assert.match(out.result.failure!.message, /rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL; the other ranks were stopped/);
    assert.equal(out.result.exitCode, 128 + 9);
    assert.ok(out.at - killedAt(out.stdout) < 10_000, `the job ended ${out.at - killedAt(out.stdout)} ms after the kill`);
  });

  it('without a launcher, the surviving rank names the killed one and exits non-zero within 10 s (default heartbeat)', TIMEOUT, async () => {
    const [survivor, victim] = await startRanks(2, 'faulty.js', { FAULT_KILL_RANK: '1' });
    assert.equal(victim!.signal, 'SIGKILL');
    assert.equal(survivor!.code, 1, survivor!.stderr);
    const f = failure(survivor!.stdout);
    assert.equal(f.reason, 'peer-lost');
    assert.equal(f.lost, '1');
    assert.match(f.message, /^lost rank 1 \(no heartbeat for 3000 ms\); allReduce failed: /);
    assert.ok(survivor!.at - killedAt(victim!.stdout) < 10_000, `rank 0 exited ${survivor!.at - killedAt(victim!.stdout)} ms after the kill`);
  });

  it('when rank 0 (the store host) is killed, the others name it', TIMEOUT, async () => {
    const [victim, survivor] = await startRanks(2, 'faulty.js', { FAULT_KILL_RANK: '0' });
    assert.equal(victim!.signal, 'SIGKILL');
    assert.equal(survivor!.code, 1, survivor!.stderr);
    const f = failure(survivor!.stdout);
    assert.deepEqual([f.reason, f.lost], ['peer-lost', '0']);
    assert.match(f.message, /^lost rank 0 \(the rendezvous store it hosts stopped answering\)/);
    assert.ok(survivor!.at - killedAt(victim!.stdout) < 10_000);
  });

  it('a rank that stays alive but stops calling collectives: a timeout that says every rank is alive', TIMEOUT, async () => {
    const [waiting, silent] = await startRanks(2, 'faulty.js', { FAULT_SLEEP_RANK: '1', FAULT_TIMEOUT_MS: '1500', FAULT_HEARTBEAT_MS: '200' });
    assert.equal(silent!.code, 0);
    assert.equal(waiting!.code, 1, waiting!.stderr);
    const f = failure(waiting!.stdout);
    assert.deepEqual([f.reason, f.lost], ['timeout', '']);
    assert.match(f.message, /every rank is still alive \(heartbeats\), so one is slow or not calling the same collective/);
  });

  it('a rank that cannot reach the master fails after the stated timeout, saying where it looked', TIMEOUT, async () => {
    const port = await freePort();
    const { error, ms } = await initFails({ rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, rendezvousTimeoutMs: 2000 });
    assert.equal(error.reason, 'rendezvous');
    assert.equal(error.message, `rank 1 could not reach the rendezvous store at 127.0.0.1:${port} within 2.0 s: is rank 0 running, and are MASTER_ADDR and MASTER_PORT right and reachable from here?`);
    assert.ok(ms >= 1500 && ms < 6000, `failed after ${ms} ms`);
  });

  it('a master port in use is a clear error', TIMEOUT, async () => {
    const server = createServer().listen(0);
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const { error } = await initFails({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, rendezvousTimeoutMs: 2000 });
      assert.equal(error.message, `rank 0 cannot host the rendezvous store: port ${port} is already in use on this machine; choose a free MASTER_PORT (launcher: masterPort)`);
    } finally {
      server.close();
    }
  });

  it('ranks that never join are named after the rendezvous timeout', TIMEOUT, async () => {
    const { error, ms } = await initFails({ rank: 0, worldSize: 3, masterAddr: '127.0.0.1', masterPort: await freePort(), rendezvousTimeoutMs: 1500 });
    assert.deepEqual([error.reason, error.lostRanks], ['rendezvous', [1, 2]]);
    assert.match(error.message, /^only 1 of 3 ranks joined the rendezvous at 127\.0\.0\.1:\d+ within 1\.5 s; missing rank 1, 2 \(WORLD_SIZE is 3: was every rank started\?\)$/);
    assert.ok(ms >= 1400 && ms < 6000, `failed after ${ms} ms`);
  });

  it('SIGINT sent to the launcher reaches every rank; the launcher exits with 130', TIMEOUT, async () => {
    let launcher = 0;
    let sent = false;
    const out = await run(process.execPath, [join(FIXTURES, 'launcher.js'), '2', join(FIXTURES, 'faulty.js')], {
      onStart: (pid) => (launcher = pid),
      onStdout: (all) => {
        if (!sent && all.includes('READY 0') && all.includes('READY 1')) {
          sent = true;
          process.kill(launcher, 'SIGINT');
        }
      },
    });
    assert.ok(sent, out.stdout);
    assert.equal(out.code, 130, out.stderr);
    const result = JSON.parse(out.stderr.split('\n').find((l) => l.startsWith('LAUNCH '))!.slice(7)) as dist.LaunchResult;
    assert.equal(result.failure?.message, 'the launcher received SIGINT and passed it on to every rank');
    assert.deepEqual(result.ranks.map((r) => r.signal), ['SIGINT', 'SIGINT']);
  });

  it('a program that cannot start is reported with exit code 127, and no process is signalled', TIMEOUT, async () => {
    // A rank whose spawn failed has no pid; signalling it anyway sent SIGTERM to a stray pid (in CI,
    // the job's own shell). Record every kill the launcher makes.
    const killed: (number | undefined)[] = [];
    const kill = ChildProcess.prototype.kill;
    ChildProcess.prototype.kill = function (this: ChildProcess, signal?: NodeJS.Signals | number) {
      killed.push(this.pid);
      return kill.call(this, signal);
    };
    try {
      const result = await dist.launch({ command: '/nonexistent/program', nprocPerNode: 3, graceMs: 1000 });
      assert.equal(result.exitCode, 127);
      assert.match(result.failure!.message, /rank \d could not start '\/nonexistent\/program': spawn \/nonexistent\/program ENOENT/);
      assert.deepEqual(killed, []);
    } finally {
      ChildProcess.prototype.kill = kill;
    }
  });
});
