// The launcher's contract without a job: the environment each rank gets, threads per rank,
// fail-fast on a rank's exit, and its errors. Ranks here are tiny `node -e` programs that answer
// through their exit code.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';

import { dist } from '../../src/index.js';

/** A rank that exits 0 when its environment holds `want` (JSON in WANT), else 1, printing nothing. */
const CHECK_ENV = `
const want = JSON.parse(process.env.WANT)[process.env.LOCAL_RANK];
process.exit(Object.entries(want).every(([k, v]) => process.env[k] === v) ? 0 : 1);`;

function launchChecking(want: Record<string, string>[], options: Partial<dist.LaunchOptions>, env: NodeJS.ProcessEnv = process.env): Promise<dist.LaunchResult> {
  return dist.launch({ command: process.execPath, args: ['-e', CHECK_ENV], nprocPerNode: want.length, ...options, env: { ...env, WANT: JSON.stringify(want) } });
}

describe('dist.launch', () => {
  it("sets torchrun's variables for each rank of this node", { timeout: 30_000 }, async () => {
    const common = { WORLD_SIZE: '4', LOCAL_WORLD_SIZE: '2', GROUP_RANK: '1', MASTER_ADDR: '10.0.0.5', MASTER_PORT: '29999' };
    const result = await launchChecking(
      [
        { ...common, RANK: '2', LOCAL_RANK: '0' },
        { ...common, RANK: '3', LOCAL_RANK: '1' },
      ],
      { nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.5', masterPort: 29999 },
    );
    assert.equal(result.exitCode, 0, result.failure?.message);
    assert.deepEqual(result.ranks.map((r) => [r.rank, r.localRank, r.code]), [[2, 0, 0], [3, 1, 0]]);
  });

  it('gives each rank cores ÷ ranks threads, unless the environment or threadsPerRank says otherwise', { timeout: 30_000 }, async () => {
    const { OMP_NUM_THREADS: _, TESSERA_NUM_THREADS: __, ...clean } = process.env;
    const share = String(Math.max(1, Math.floor(availableParallelism() / 2)));
    const local = { MASTER_ADDR: '127.0.0.1' };
    assert.equal((await launchChecking([{ ...local, OMP_NUM_THREADS: share }, { OMP_NUM_THREADS: share }], {}, clean)).exitCode, 0);
    assert.equal((await launchChecking([{ OMP_NUM_THREADS: '3' }, { OMP_NUM_THREADS: '3' }], {}, { ...clean, OMP_NUM_THREADS: '3' })).exitCode, 0);
    const explicit = { OMP_NUM_THREADS: '5', TESSERA_NUM_THREADS: '5' };
    assert.equal((await launchChecking([explicit, explicit], { threadsPerRank: 5 }, { ...clean, OMP_NUM_THREADS: '3' })).exitCode, 0);
  });

  it('stops the other ranks when one exits non-zero, and exits with its code naming it', { timeout: 30_000 }, async () => {
    const program = 'if (process.env.RANK === "1") process.exit(3); setInterval(() => {}, 1000);';
    const start = Date.now();
    const result = await dist.launch({ command: process.execPath, args: ['-e', program], nprocPerNode: 3, graceMs: 2000 });
    assert.ok(Date.now() - start < 10_000);
    assert.equal(result.exitCode, 3);
    assert.equal(result.failure?.rank, 1);
    assert.match(result.failure!.message, /^rank 1 \(local rank 1, pid \d+\) exited with code 3; the other ranks were stopped$/);
    assert.deepEqual(result.ranks.map((r) => r.signal), ['SIGTERM', null, 'SIGTERM']);
  });

  it('refuses bad options, naming them', async () => {
    const base = { command: process.execPath, nprocPerNode: 2 };
    await assert.rejects(dist.launch({ ...base, nprocPerNode: 0 }), /launch: nprocPerNode must be an integer in \[1, 1024\], got 0/);
    await assert.rejects(dist.launch({ ...base, nnodes: 2, nodeRank: 2, masterAddr: 'h' }), /launch: nodeRank must be an integer in \[0, 1\], got 2/);
    await assert.rejects(dist.launch({ ...base, nnodes: 2 }), /masterAddr \(the address of node 0\) is required when nnodes > 1/);
    await assert.rejects(dist.launch({ ...base, masterPort: 70000 }), /launch: masterPort must be an integer in \[1, 65535\], got 70000/);
  });
});
