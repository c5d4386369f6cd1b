// Per-op call overhead: `add` on two 1-element float32 tensors, calls per second, Tessera against
// `torch.add(a, b)` in a Python loop (bench/peers/op_overhead.py). The math is one float add, so
// what is measured is everything around it: the JS wrapper, the N-API crossing, the tensor handle,
// LibTorch's dispatcher and allocator.
//
// Tessera is measured in its idiomatic patterns, all reported; the RESULT line uses the fastest:
//   (a) dispose:  const c = add(a, b); c.dispose();
//   (b) scope:    scope(() => { 100 × add(a, b) })
//   (c) using:    { using c = add(a, b); }
//   (d) dispose in a scope: scope(() => { 100 × add(a, b).dispose() }) — (a) as it runs in a real
//       program, inside the step's scope: the tensor is freed at once (no allocator backlog as in
//       (b)) and, being born in a scope, skips the FinalizationRegistry that (a) pays for.
// For context (not in the RESULT line) it also measures where the time goes:
//   - N-API call floor: a native call that does no LibTorch work (numel of a handle);
//   - raw native add: the addon's entry point called directly with handles, plus release: N-API,
//     handle bookkeeping and LibTorch, but no JS Tensor object; released at once, or 100 at a
//     time as a scope does (holding 100 results alive changes glibc's allocator paths);
//   - C++ floor: `at::add` in a C++ loop (bench/native/add-floor.cc, built here with g++ if present).
//
//   node dist/bench/op-overhead.js [--threads N] [--reps 9] [--calls 200000] [--floor true]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { add, scope, setNumThreads, tensor, type Tensor } from '../src/index.js';
// Internal, for the cost breakdown only: the addon itself, below the Tensor wrapper.
import { native } from '../src/tensor/native.js';
import {
  describeEngines, describeLoad, describeStats, defaultThreads, fmt, interleave, MachineLoad, parseFlags, Peer, repoRoot, resultLine, stats, type Stats,
} from './lib/harness.js';

const flags = parseFlags(
  { threads: defaultThreads(), reps: 9, calls: 200_000, floor: true },
  'node dist/bench/op-overhead.js: per-op call overhead of add() on 1-element tensors, Tessera vs PyTorch',
);
const threads = flags.threads;
const calls = Math.max(100, Math.round(flags.calls / 100) * 100);

setNumThreads(threads);
const a = tensor(new Float32Array([1]));
const b = tensor(new Float32Array([1]));
const ha = a.handle;
const hb = b.handle;
const addRaw = native['add$Tensor'];
const held: number[] = new Array<number>(100).fill(0);

/** Times `n` calls of `body`, which runs `block` calls each; returns calls per second. */
function rate(n: number, block: number, body: () => void): number {
  const loops = n / block;
  const t0 = performance.now();
  for (let i = 0; i < loops; i++) body();
  return n / ((performance.now() - t0) / 1000);
}

const allPatterns: { key: string; label: string; idiomatic: boolean; run: (n: number) => number }[] = [
  {
    key: 'dispose',
    label: '(a) const c = add(a, b); c.dispose()',
    idiomatic: true,
    run: (n) => rate(n, 1, () => add(a, b).dispose()),
  },
  {
    key: 'scope100',
    label: '(b) scope(() => { 100 x add(a, b) })',
    idiomatic: true,
    run: (n) =>
      rate(n, 100, () =>
        scope(() => {
          for (let j = 0; j < 100; j++) add(a, b);
        }),
      ),
  },
  {
    key: 'using',
    label: '(c) { using c = add(a, b); }',
    idiomatic: true,
    run: (n) =>
      rate(n, 1, () => {
        using c: Tensor = add(a, b);
        void c;
      }),
  },
  {
    key: 'scopeDispose',
    label: '(d) scope(() => { 100 x add(a, b).dispose() })',
    idiomatic: true,
    run: (n) =>
      rate(n, 100, () =>
        scope(() => {
          for (let j = 0; j < 100; j++) add(a, b).dispose();
        }),
      ),
  },
  {
    key: 'rawNative',
    label: 'internal: addon add$Tensor(handles) + release, no Tensor object',
    idiomatic: false,
    run: (n) => rate(n, 1, () => native.release(addRaw(ha, hb, undefined) as number)),
  },
  {
    key: 'rawNative100',
    label: 'internal: addon add$Tensor(handles), released 100 at a time like a scope',
    idiomatic: false,
    run: (n) =>
      rate(n, 100, () => {
        for (let j = 0; j < 100; j++) held[j] = addRaw(ha, hb, undefined) as number;
        for (let j = 0; j < 100; j++) native.release(held[j] as number);
      }),
  },
  {
    key: 'napiFloor',
    label: 'internal: N-API call floor, numel(handle), no LibTorch op',
    idiomatic: false,
    run: (n) => rate(n, 1, () => native.numel(ha)),
  },
];
// The internal patterns need the addon's entry point by its generated name; without it, skip them.
const patterns = typeof addRaw === 'function' ? allPatterns : allPatterns.filter((p) => !p.key.startsWith('raw'));

/** Builds bench/native/add-floor.cc once (cached in bench/.build); the binary's path, or null if it cannot. */
function buildFloor(): string | null {
  const src = join(repoRoot, 'bench', 'native', 'add-floor.cc');
  const outDir = join(repoRoot, 'bench', '.build');
  const bin = join(outDir, 'add-floor');
  try {
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      mkdirSync(outDir, { recursive: true });
      const lt = process.env.LIBTORCH;
      const inc = lt
        ? [`-I${lt}/include`, `-I${lt}/include/torch/csrc/api/include`, `-L${lt}/lib`, `-Wl,-rpath,${lt}/lib`]
        : ['-I/usr/include/torch/csrc/api/include'];
      console.log('building the C++ floor (bench/native/add-floor.cc) ...');
      execFileSync('g++', ['-O2', '-std=c++17', ...inc, src, '-o', bin, '-ltorch', '-ltorch_cpu', '-lc10'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    }
    return bin;
  } catch (e) {
    console.log(`C++ floor skipped: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
}

/** Runs the C++ floor: calls per second of each repetition. */
function runFloor(bin: string): Stats | null {
  try {
    const out = execFileSync(bin, [String(calls * 5), String(flags.reps), String(threads)], { encoding: 'utf8' });
    return stats(out.trim().split('\n').map((l) => (JSON.parse(l) as { callsPerSec: number }).callsPerSec));
  } catch (e) {
    console.log(`C++ floor failed: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
}

async function main(): Promise<void> {
  const peer = Peer.start('op_overhead.py');
  try {
    const info = await peer.call<{ torch: string; threads: number; python: string }>('setup', { threads });
    console.log(`op-overhead: add() on 1-element float32 tensors, ${fmt(calls)} calls per repetition, ${flags.reps} repetitions`);
    console.log(describeEngines(peer, info));

    // Warm-up: JIT, allocator caches, and the peer's interpreter.
    for (const p of patterns) p.run(calls / 2);
    await peer.call('rep', { calls: calls / 2 });

    const ours: Record<string, number[]> = Object.fromEntries(patterns.map((p) => [p.key, []]));
    let round: Record<string, number> = {};
    const measured = await interleave({
      reps: flags.reps,
      pids: () => [peer.pid],
      // One repetition of ours runs every pattern once; its RESULT-line value is the best idiomatic one.
      ours: () => {
        round = Object.fromEntries(patterns.map((p) => [p.key, p.run(calls)]));
        return Math.max(...patterns.filter((p) => p.idiomatic).map((p) => round[p.key] as number));
      },
      peer: async () => (await peer.call<{ rate: number }>('rep', { calls })).rate,
      onRep: (_i, side) => {
        if (side === 'ours') for (const p of patterns) (ours[p.key] as number[]).push(round[p.key] as number);
      },
    });
    const peerStats = stats(measured.peer);
    const loadLine = describeLoad(measured);
    const floorBin = flags.floor ? buildFloor() : null;
    const floorLoad = new MachineLoad(() => []);
    const floor = floorBin ? runFloor(floorBin) : null;
    const floorPct = floorLoad.othersPct();

    const ns = (r: number) => `${(1e9 / r).toFixed(0)} ns/call`;
    console.log('');
    console.log(`PyTorch  torch.add(a, b)            ${describeStats(peerStats, 'calls/s')}  = ${ns(peerStats.median)}`);
    let best: { key: string; label: string; s: Stats } | undefined;
    for (const p of patterns) {
      const s = stats(ours[p.key] as number[]);
      console.log(`Tessera  ${p.label}\n         ${describeStats(s, 'calls/s')}  = ${ns(s.median)}  (${(s.median / peerStats.median).toFixed(2)}x PyTorch)`);
      if (p.idiomatic && (!best || s.median > best.s.median)) best = { key: p.key, label: p.label, s };
    }
    if (floor) {
      console.log(`C++      at::add(a, b) loop           ${describeStats(floor, 'calls/s')}  = ${ns(floor.median)}  (${(floor.median / peerStats.median).toFixed(2)}x PyTorch; other processes ${floorPct.toFixed(0)}% meanwhile)`);
    }

    // Where the time of one call goes, from the medians (differences of medians: approximate).
    const b0 = best as { key: string; label: string; s: Stats };
    const perCall = (key: string) => (ours[key] ? 1e9 / stats(ours[key] as number[]).median : NaN);
    console.log('');
    console.log(`where the time of one call goes, pattern ${b0.label} (differences of medians, ns per call):`);
    const row = (label: string, ns: number, note = '') => console.log(`  ${label.padEnd(58)} ${ns.toFixed(0).padStart(5)}${note}`);
    if (floor) {
      const cpp = 1e9 / floor.median;
      row('LibTorch at::add: dispatcher, TensorIterator, allocation', cpp);
      row('addon: N-API crossing, handle bookkeeping, release', perCall('rawNative') - cpp, `   (an N-API call alone: ${perCall('napiFloor').toFixed(0)})`);
    } else {
      row('addon + LibTorch (no C++ floor measured)', perCall('rawNative'));
    }
    if (b0.key === 'scope100') {
      row('allocator: 100 results alive at once before release', perCall('rawNative100') - perCall('rawNative'));
      row('JS: overload check, Tensor object, scope bookkeeping', perCall(b0.key) - perCall('rawNative100'));
    } else {
      row('JS: overload check, Tensor object, scope/dispose', perCall(b0.key) - perCall('rawNative'));
    }
    row('total', perCall(b0.key), `   (PyTorch from Python: ${(1e9 / peerStats.median).toFixed(0)})`);
    console.log(loadLine);
    const goal = 2 * peerStats.median;
    console.log('');
    console.log(`goal >= 2x PyTorch (${fmt(goal)} calls/s): ${b0.s.median >= goal ? 'met' : 'NOT met'}` +
      (floor ? `; the C++ floor itself is ${(floor.median / peerStats.median).toFixed(2)}x PyTorch` : ''));
    console.log(`RESULT uses the fastest idiomatic pattern: ${b0.label}`);
    console.log(resultLine('op-overhead', b0.s.median, peerStats.median, 'calls/s'));
  } finally {
    await peer.close();
  }
}

await main();
