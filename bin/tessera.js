#!/usr/bin/env node
// The `tessera` command. The CLI itself is TypeScript, compiled to dist/ by `npm run build:ts`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tessera is not built yet: run `npm run setup` (or `npm test` / `npm start`) first.');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
