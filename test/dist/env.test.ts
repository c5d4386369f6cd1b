// dist.init's options and torchrun's environment variables, resolved and checked without a job.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { dist } from '../../src/index.js';

const ENV = { RANK: '1', WORLD_SIZE: '4', MASTER_ADDR: 'node0.example', MASTER_PORT: '29500', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2' };

function fails(options: dist.InitOptions, env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(() => dist.resolveInitOptions(options, env), (e: dist.DistError) => e instanceof dist.DistError && e.reason === 'config' && pattern.test(e.message));
}

describe('dist.init options', () => {
  it('reads what torchrun sets, with PyTorch-like defaults', () => {
    assert.deepEqual(dist.resolveInitOptions({}, { ...ENV, GLOO_SOCKET_IFNAME: 'eth1' }), {
      backend: 'gloo',
      rank: 1,
      worldSize: 4,
      masterAddr: 'node0.example',
      masterPort: 29500,
      localRank: 1,
      localWorldSize: 2,
      interface: 'eth1',
      timeoutMs: 30 * 60_000,
      rendezvousTimeoutMs: 5 * 60_000,
      heartbeatMs: 1000,
    });
  });

  it('prefers explicit options to the environment; one machine when LOCAL_* are absent', () => {
    const o = dist.resolveInitOptions({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 1234, timeoutMs: 5000, heartbeatMs: 200 }, {});
    assert.deepEqual([o.rank, o.worldSize, o.masterAddr, o.masterPort, o.localRank, o.localWorldSize, o.timeoutMs, o.heartbeatMs, o.interface], [0, 2, '127.0.0.1', 1234, 0, 2, 5000, 200, undefined]);
  });

  it('names the variable or option at fault', () => {
    fails({}, {}, /WORLD_SIZE is not set and no worldSize option was given: start this program with the launcher/);
    fails({}, { ...ENV, RANK: undefined }, /RANK is not set/);
    fails({}, { ...ENV, MASTER_ADDR: undefined }, /MASTER_ADDR is not set/);
    fails({}, { ...ENV, MASTER_PORT: undefined }, /MASTER_PORT is not set/);
    fails({}, { ...ENV, WORLD_SIZE: 'two' }, /WORLD_SIZE must be an integer in \[1, \d+\], got 'two'/);
    fails({}, { ...ENV, RANK: '4' }, /rank 4 is out of range for a world of 4/);
    fails({}, { ...ENV, MASTER_PORT: '70000' }, /MASTER_PORT must be an integer in \[1, 65535\], got '70000'/);
    fails({}, { ...ENV, LOCAL_RANK: '2' }, /local rank 2 is out of range for 2 local ranks/);
    fails({ rank: 1.5 }, ENV, /option rank must be an integer/);
    fails({ timeoutMs: 0 }, ENV, /option timeoutMs must be a positive integer \(milliseconds\), got 0/);
    fails({ backend: 'mpi' as dist.Backend }, ENV, /option backend must be 'gloo' or 'nccl', got 'mpi'/);
  });

  it('lists the backends this build has', () => {
    assert.ok(dist.availableBackends().includes('gloo'));
  });
});
