// Helpers of the distributed tests: starting ranks (through the launcher, or by hand with the
// env:// variables), making the training fixtures' inputs, comparing state dicts.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dist, io, manualSeed, randint, randn, type Tensor } from '../../src/index.js';
import { buildCnn } from './fixtures/model.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The compiled fixture programs (dist/test/dist/fixtures). */
export const FIXTURES = join(HERE, 'fixtures');
/** test/dist in the source tree (for ddp_reference.py). */
export const SOURCES = join(HERE, '..', '..', '..', 'test', 'dist');
export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** When the process exited (Date.now()). */
  at: number;
}

/** Runs a command to its end, collecting its output; `onStdout` sees the output as it comes. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; onStart?: (pid: number) => void; onStdout?: (all: string) => void } = {}): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('spawn', () => options.onStart?.(child.pid!));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, at: Date.now() }));
  });
}

/** Starts a fixture program under the launcher (fixtures/launcher.ts) with `nproc` ranks. */
export async function launchFixture(nproc: number, fixture: string, args: string[] = [], options: Parameters<typeof run>[2] = {}): Promise<Exited & { result: dist.LaunchResult }> {
  const out = await run(process.execPath, [join(FIXTURES, 'launcher.js'), String(nproc), join(FIXTURES, fixture), ...args], options);
  const line = out.stderr.split('\n').find((l) => l.startsWith('LAUNCH '));
  if (!line) throw new Error(`the launcher printed no result (code ${out.code}, signal ${out.signal}):\n${out.stderr}`);
  return { ...out, result: JSON.parse(line.slice('LAUNCH '.length)) as dist.LaunchResult };
}

/** A port that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0);
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Starts `worldSize` ranks of a fixture by hand (no launcher), as separate processes. */
export async function startRanks(worldSize: number, fixture: string, env: NodeJS.ProcessEnv = {}): Promise<Exited[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) =>
      run(process.execPath, [join(FIXTURES, fixture)], {
        env: { ...process.env, ...env, RANK: String(rank), WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), OMP_NUM_THREADS: '1' },
      }),
    ),
  );
}

/** Writes the initial weights (init.pt) and the data (data.pt: x, y) the training fixtures read. */
export function writeTrainingInputs(dir: string, options: { batchNorm: boolean; samples: number; seed: number }): { init: string; data: string } {
  manualSeed(options.seed);
  const model = buildCnn({ batchNorm: options.batchNorm });
  const init = join(dir, 'init.pt');
  const data = join(dir, 'data.pt');
  io.savePt(init, model.stateDict());
  io.savePt(data, { x: randn([options.samples, 1, 12, 12]), y: randint(0, 10, [options.samples]) });
  model.dispose();
  return { init, data };
}

/** The largest |a - b| over every element of every key (both must have the same keys and shapes). */
export function maxAbsDiff(a: Map<string, Tensor>, b: Map<string, Tensor>, keys: Iterable<string> = a.keys()): number {
  let worst = 0;
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (!x || !y) throw new Error(`key '${k}' is missing on one side`);
    if (x.shape.join() !== y.shape.join()) throw new Error(`key '${k}': shapes [${x.shape}] and [${y.shape}]`);
    const u = x.data() as ArrayLike<number | bigint>;
    const v = y.data() as ArrayLike<number | bigint>;
    for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(Number(u[i]) - Number(v[i])));
  }
  return worst;
}
