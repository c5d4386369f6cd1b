#!/usr/bin/env node
// The `tessera` command. The CLI itself is TypeScript, compiled to dist/ by `npm run build:ts`.
import { existsSync } from 'node:fs';

// `tessera serve` shares the cores between HTTP, image decoding and inference. libgomp's default
// lets LibTorch's OpenMP threads spin after every forward pass, taking the CPU the event loop and
// the decoder need (on 2 cores, with 2 threads: a third of the throughput and 20× the p99). libgomp
// reads this once, when LibTorch loads, so it is set before anything imports it.
if (process.argv[2] === 'serve' && process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'passive';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tessera is not built yet: run `npm run setup` (or `npm test` / `npm start`) first.');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
