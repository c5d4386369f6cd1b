// What every benchmark shares: command-line flags, statistics, the Python peer process and the
// RESULT line. A benchmark runs Tessera and its peer (PyTorch from Python) in the same run, on the
// same machine, with the same thread count, and interleaves their timed repetitions (ours, peer,
// peer, ours, ...) so that a machine that speeds up or slows down mid-run moves both sides alike.
//
// The peer is a long-lived Python process speaking one JSON object per line: Node writes a
// command on its stdin, Python does the work and answers one line on stdout. While one side is
// timed the other is blocked reading a pipe, so the two never compete for the cores.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { detectBlas, getNumThreads, runtimeInfo, type BlasInfo } from '../../src/index.js';

/** The repository root (the folder holding package.json), found from this file's location. */
export const repoRoot: string = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench: cannot find the repository root');
    d = up;
  }
  return d;
})();

export type Flags = Record<string, string | number | boolean>;

/**
 * Parses `--name value`, `--name=value` and bare `--flag` (true) against defaults; the default's
 * type decides how a value is read. Unknown flags and `--help` print the defaults and exit.
 */
export function parseFlags<T extends Flags>(defaults: T, usage: string, argv = process.argv.slice(2)): T {
  const out: Flags = { ...defaults };
  const help = (code: number): never => {
    const log = code === 0 ? console.log : console.error;
    log(usage);
    log('flags (default):');
    for (const [k, v] of Object.entries(defaults)) log(`  --${k} (${String(v)})`);
    process.exit(code);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') help(0);
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1] as string in defaults)) {
      console.error(`unknown argument ${arg}`);
      help(2);
    }
    const key = (m as RegExpExecArray)[1] as string;
    const def = defaults[key];
    let value = (m as RegExpExecArray)[2];
    if (typeof def === 'boolean') {
      if (value === undefined && /^(true|false|0|1)$/.test(argv[i + 1] ?? '')) value = argv[++i];
      out[key] = value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (typeof def === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--${key}: expected a number, got ${value}`);
      out[key] = n;
    } else out[key] = value;
  }
  return out as T;
}

/** The thread count both sides use unless --threads says otherwise: every core. */
export function defaultThreads(): number {
  return availableParallelism();
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent. */
  spreadPct: number;
  n: number;
}

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN, spreadPct: NaN, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  const min = s[0] as number;
  const max = s[s.length - 1] as number;
  return { median, min, max, spreadPct: (100 * (max - min)) / median, n: s.length };
}

/** A number with a sensible number of significant digits and thousands separators. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(digits);
}

export function describeStats(s: Stats, unit: string): string {
  return `median ${fmt(s.median)} ${unit}  (min ${fmt(s.min)}, max ${fmt(s.max)}, spread ${s.spreadPct.toFixed(1)}%, n=${s.n})`;
}

/** The line every benchmark ends with; `ratio` > 1 means Tessera is faster. */
export function resultLine(name: string, ours: number, peer: number, unit: string): string {
  const r = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
  return `RESULT name=${name} ours=${r(ours)} peer=${r(peer)} ratio=${(ours / peer).toFixed(3)} unit=${unit}`;
}

/** The Python that runs the peers: Debian's, which has the same LibTorch as ours. */
export function peerPython(): string {
  return process.env.TESSERA_BENCH_PYTHON ?? '/usr/bin/python3';
}

/** A running peer: `call` sends one command and resolves with its one-line JSON answer. */
export class Peer {
  private readonly waiting: ((line: string | null) => void)[] = [];
  private readonly lines: string[] = [];
  private closed = false;

  /** The peer's process id (for the machine-load accounting). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    rl.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[peer] ${d.toString()}`));
  }

  /** Starts `bench/peers/<script>` with the Python of peerPython(). */
  static start(script: string, env: NodeJS.ProcessEnv = {}): Peer {
    const path = join(repoRoot, 'bench', 'peers', script);
    const child = spawn(peerPython(), ['-u', path], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    return new Peer(child);
  }

  private nextLine(): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async call<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    this.child.stdin.write(JSON.stringify({ cmd, ...args }) + '\n');
    const line = await this.nextLine();
    if (line === null) throw new Error(`peer exited while answering '${cmd}' (exit code ${this.child.exitCode})`);
    const msg = JSON.parse(line) as { error?: string } & T;
    if (msg.error) throw new Error(`peer failed on '${cmd}':\n${msg.error}`);
    return msg;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(JSON.stringify({ cmd: 'exit' }) + '\n');
    await exited;
  }
}

export interface InterleaveOptions {
  reps: number;
  /** One timed repetition of Tessera; returns its rate. */
  ours: () => number;
  /** One timed repetition of the peer; returns its rate. */
  peer: () => Promise<number>;
  /** Called for each kept repetition, with the share of the machine other processes used during it. */
  onRep?: (i: number, side: 'ours' | 'peer', value: number, othersPct: number) => void;
  /** Process ids whose CPU is ours (the peer's). */
  pids: () => number[];
  /** A repetition during which other processes used more than this share of the machine is redone. */
  maxOthersPct?: number;
  /** How many repetitions may be redone in all. */
  maxRedo?: number;
}

export interface Interleaved {
  ours: number[];
  peer: number[];
  /** Other processes' share of the machine during each kept repetition, per side. */
  oursLoad: number[];
  peerLoad: number[];
  /** Repetitions thrown away because other processes were busy. */
  redone: number;
}

/**
 * Runs `reps` timed repetitions of each side, interleaved as ours, peer, peer, ours, ours, peer...
 * (an ABBA order, so a drift in machine speed biases neither side). On a shared machine, a
 * repetition during which other processes used more than `maxOthersPct` of the CPU is thrown away
 * and run again after a short pause (at most `maxRedo` times in all; after that it is kept, and the
 * load line says so).
 */
export async function interleave(o: InterleaveOptions): Promise<Interleaved> {
  const maxPct = o.maxOthersPct ?? 10;
  let redoLeft = o.maxRedo ?? o.reps * 2;
  const out: Interleaved = { ours: [], peer: [], oursLoad: [], peerLoad: [], redone: 0 };
  const load = new MachineLoad(o.pids);
  for (let i = 0; i < o.reps; i++) {
    const order: ('ours' | 'peer')[] = i % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
    for (const side of order) {
      for (;;) {
        load.reset();
        const v = side === 'ours' ? o.ours() : await o.peer();
        const pct = load.othersPct();
        if (pct > maxPct && redoLeft > 0) {
          redoLeft--;
          out.redone++;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        (side === 'ours' ? out.ours : out.peer).push(v);
        (side === 'ours' ? out.oursLoad : out.peerLoad).push(pct);
        o.onRep?.(i, side, v, pct);
        break;
      }
    }
  }
  return out;
}

/** One timed contender of interleaveN: a label and one timed repetition, returning its rate. */
export interface TimedSide {
  label: string;
  run: () => number | Promise<number>;
}

export interface InterleavedN {
  /** Kept values, per side (in the order of `sides`). */
  values: number[][];
  /** Other processes' share of the machine during each kept repetition, per side. */
  loads: number[][];
  redone: number;
}

/**
 * interleave() for any number of sides: repetition i runs the sides in order when i is even and in
 * reverse when it is odd (A B C D, D C B A, ...), so a drift in machine speed biases none of them.
 * With two sides this is exactly interleave()'s order. Busy repetitions are redone as there.
 */
export async function interleaveN(o: {
  reps: number;
  sides: readonly TimedSide[];
  pids: () => number[];
  onRep?: (i: number, side: number, value: number, othersPct: number) => void;
  maxOthersPct?: number;
  maxRedo?: number;
}): Promise<InterleavedN> {
  const maxPct = o.maxOthersPct ?? 10;
  let redoLeft = o.maxRedo ?? o.reps * o.sides.length;
  const out: InterleavedN = { values: o.sides.map(() => []), loads: o.sides.map(() => []), redone: 0 };
  const load = new MachineLoad(o.pids);
  const forward = o.sides.map((_, k) => k);
  for (let i = 0; i < o.reps; i++) {
    for (const k of i % 2 === 0 ? forward : [...forward].reverse()) {
      for (;;) {
        load.reset();
        const v = await (o.sides[k] as TimedSide).run();
        const pct = load.othersPct();
        if (pct > maxPct && redoLeft > 0) {
          redoLeft--;
          out.redone++;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        (out.values[k] as number[]).push(v);
        (out.loads[k] as number[]).push(pct);
        o.onRep?.(i, k, v, pct);
        break;
      }
    }
  }
  return out;
}

/** One line on how busy the machine was during the kept repetitions; warns when it was too busy. */
export function describeLoad(r: Interleaved | InterleavedN, maxOthersPct = 10): string {
  const all = ('loads' in r ? r.loads.flat() : [...r.oursLoad, ...r.peerLoad]).filter(Number.isFinite);
  if (all.length === 0) return 'machine load: unknown (no /proc/stat)';
  const worst = Math.max(...all);
  const median = stats(all).median;
  const redone = r.redone ? `; ${r.redone} repetition(s) redone because other processes were busy` : '';
  const warn = worst > maxOthersPct
    ? `\nWARNING: other processes used up to ${worst.toFixed(0)}% of the machine during kept repetitions; these timings are unreliable, run again on a quiet machine`
    : '';
  return `machine load from other processes: median ${median.toFixed(1)}%, max ${worst.toFixed(1)}% of ${availableParallelism()} cores per repetition${redone}${warn}`;
}

/** Busy and total CPU ticks of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is inside user)
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU ticks (user + system, all threads, and finished children; 100 per second) a process has used, from /proc/<pid>/stat. */
export function processTicks(pid: number | 'self'): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat(5): utime, stime, and cutime, cstime of children waited for (the C++ floor).
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** Minor page faults a process has taken so far (field 10 of /proc/<pid>/stat), or NaN. */
export function minorFaults(pid: number | 'self'): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return NaN;
  }
}

/**
 * How much of the machine other processes used while a benchmark ran: the machine's busy CPU time
 * minus what this process and the peer used, as a share of all cores. On a shared machine this is
 * what makes a run trustworthy or not; every benchmark prints it.
 */
export class MachineLoad {
  private m0 = machineTicks();
  private own0: number;

  constructor(private readonly pids: () => number[]) {
    this.own0 = this.own();
  }

  private own(): number {
    return processTicks('self') + this.pids().reduce((a, p) => a + processTicks(p), 0);
  }

  /** Restarts the window (e.g. after set-up and warm-up). */
  reset(): void {
    this.m0 = machineTicks();
    this.own0 = this.own();
  }

  /** Percent of the machine's CPU used by other processes since the window started. */
  othersPct(): number {
    const m1 = machineTicks();
    if (!this.m0 || !m1 || m1.total === this.m0.total) return NaN;
    const others = m1.busy - this.m0.busy - (this.own() - this.own0);
    return Math.max(0, (100 * others) / (m1.total - this.m0.total));
  }

  /** One line for the report; warns above 10%. */
  describe(): string {
    const pct = this.othersPct();
    if (!Number.isFinite(pct)) return 'machine load: unknown (no /proc/stat)';
    const warn = pct > 10 ? '  WARNING: the machine was busy with other work; these timings are unreliable, run again' : '';
    return `machine load from other processes during timing: ${pct.toFixed(1)}% of ${availableParallelism()} cores${warn}`;
  }
}

export interface PeerInfo {
  torch: string;
  threads: number;
  python: string;
}

function blasName(b: BlasInfo): string {
  return `${b.kind}${b.variant ? ` (${b.variant})` : ''}`;
}

/**
 * Two lines saying what each side runs on: versions, intra-op threads, and the BLAS each process
 * actually mapped (read from /proc/<pid>/maps), so a run where the peer has another BLAS shows it.
 */
export function describeEngines(peer: Peer, info: PeerInfo): string {
  const ours = runtimeInfo();
  let peerBlas = 'unknown';
  try {
    peerBlas = blasName(detectBlas(readFileSync(`/proc/${peer.pid}/maps`, 'utf8')));
  } catch {
    // not Linux: leave it unknown
  }
  const env = ['ATEN_CPU_CAPABILITY', 'OMP_NUM_THREADS', 'GLIBC_TUNABLES', 'TESSERA_MALLOC_TUNING'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  // The addon sets glibc's malloc thresholds when it loads (native/csrc/runtime.cc); the peer keeps
  // glibc's defaults unless GLIBC_TUNABLES (inherited by both processes) says otherwise.
  const oursMalloc = ours.mallocTuned ? 'malloc tuned by the addon (mmap threshold 32 MiB, trim threshold 1 GiB)' : 'malloc not tuned by the addon';
  const peerMalloc = process.env.GLIBC_TUNABLES ? `malloc per GLIBC_TUNABLES` : 'glibc malloc defaults';
  return [
    `Tessera ${ours.tessera}: LibTorch ${ours.libtorch.version}, BLAS ${blasName(ours.blas)}, ${getNumThreads()} intra-op threads, Node ${process.version}, ${oursMalloc}`,
    `PyTorch ${info.torch}: BLAS ${peerBlas}, ${info.threads} intra-op threads, Python ${info.python} (${peerPython()}), ${peerMalloc}`,
    ...(env.length ? [`environment (both sides): ${env.join(' ')}`] : []),
  ].join('\n');
}
