// What `tessera train` is in a data-parallel run, from its launch flags and environment: alone,
// the launcher, or a rank (started by the launcher or torchrun); bad combinations are refused
// naming the flags.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { resolveConfig } from '../../src/config/load.js';
import { checkBatchSplit, trainingRole } from '../../src/run/distributed.js';

const none = {};
const launched = { RANK: '1', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', GROUP_RANK: '0', MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500' };

describe('trainingRole', () => {
  it('alone without launch flags or rank variables, and for a world of one', () => {
    assert.deepEqual(trainingRole({}, none), { kind: 'alone' });
    assert.deepEqual(trainingRole({ nprocPerNode: 1 }, none), { kind: 'alone' });
    assert.deepEqual(trainingRole({}, { RANK: '0', WORLD_SIZE: '1' }), { kind: 'alone' });
  });

  it('the launcher with --nproc-per-node or --nnodes', () => {
    assert.deepEqual(trainingRole({ nprocPerNode: 2 }, none), { kind: 'launcher', nprocPerNode: 2, nnodes: 1, nodeRank: 0 });
    assert.deepEqual(trainingRole({ nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterAddr: 'h0', masterPort: 29999 }, none), {
      kind: 'launcher', nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterAddr: 'h0', masterPort: 29999,
    });
  });

  it('a rank when RANK and WORLD_SIZE are set, with the rendezvous timeout in ms; launch flags must agree with them', () => {
    assert.deepEqual(trainingRole({ rendezvousTimeout: 2.5 }, launched), { kind: 'rank', rank: 1, worldSize: 4, rendezvousTimeoutMs: 2500 });
    assert.deepEqual(trainingRole({ nprocPerNode: 2, nnodes: 2, nodeRank: 0 }, launched), { kind: 'rank', rank: 1, worldSize: 4 });
    assert.deepEqual(trainingRole({ syncBn: true }, launched), { kind: 'rank', rank: 1, worldSize: 4, syncBatchNorm: true });
    assert.throws(() => trainingRole({ nprocPerNode: 3 }, launched), /^Error: --nproc-per-node 3 \(LOCAL_WORLD_SIZE is 2\): this process was started as rank 1 of 4 by a launcher \(torchrun\?\), which decides the ranks; leave the launch flags out$/);
    assert.throws(() => trainingRole({ nnodes: 3 }, launched), /--nnodes 3 \(WORLD_SIZE is 4\)/);
    assert.throws(() => trainingRole({ nodeRank: 1 }, launched), /--node-rank 1 \(GROUP_RANK is 0\)/);
  });

  it('refuses flags that mean nothing alone, a node rank out of range and several nodes without a master', () => {
    assert.throws(() => trainingRole({ masterPort: 29500, rendezvousTimeout: 5 }, none), /^Error: --master-port, --rendezvous-timeout need --nproc-per-node \(ranks on this machine\) or --nnodes$/);
    assert.throws(() => trainingRole({ syncBn: true }, none), /^Error: --sync-bn needs --nproc-per-node/);
    assert.throws(() => trainingRole({ nprocPerNode: 2, nnodes: 2, nodeRank: 2, masterAddr: 'h' }, none), /--node-rank 2 must be below --nnodes 2/);
    assert.throws(() => trainingRole({ nprocPerNode: 2, nnodes: 2 }, none), /--nnodes 2 needs --master-addr: the address of node 0/);
  });
});

describe('checkBatchSplit', () => {
  it('refuses a global batch that is not a multiple of the ranks, naming the flag', () => {
    const config = resolveConfig({ overrides: [['train.batchSize', '100']] });
    checkBatchSplit(config, 4);
    assert.throws(() => checkBatchSplit(config, 3), /--batch-size \(train\.batchSize\) 100 does not split evenly over 3 ranks: it is the global batch, so it must be a multiple of the number of ranks \(e\.g\. 99\)/);
  });
});
