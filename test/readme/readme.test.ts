// The README's examples, run as written. Every ```sh block runs in bash, in order, in a folder that
// holds the files the examples name (fixtures.ts: pets/, pets-test/, new-photos/, resnet18.pt), with
// `tessera` on the PATH (this checkout's bin/tessera.js) and one LibTorch thread; every ```ts block
// imports from 'tessera' only, is type-checked against the package's types and runs. A block whose
// previous line is `<!-- not run: why -->` is not run (installs, downloads, the ten-minute main job,
// a distributed job), but its `tessera` lines must still name real commands and flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

import { program } from '../../src/cli/main.js';
import type { Command } from 'commander';
import { writeReadmeFixtures } from './fixtures.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

interface Block {
  lang: string;
  code: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** Why it is not run, when it is not. */
  notRun?: string;
}

/** The fenced code blocks of a Markdown text, with the `<!-- not run: … -->` marks before them. */
export function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    let k = start - 1;
    while (k >= 0 && (lines[k] as string).trim() === '') k--;
    const mark = k >= 0 ? /^<!-- not run: (.+) -->$/.exec(lines[k] as string) : null;
    out.push({ lang: open[1] ?? '', code: body.join('\n'), line: start + 1, ...(mark ? { notRun: mark[1] } : {}) });
  }
  return out;
}

const blocks = codeBlocks(readme);
const shell = blocks.filter((b) => b.lang === 'sh');
const typescript = blocks.filter((b) => b.lang === 'ts');

/** Each `tessera …` invocation in a shell block: its words up to a shell operator. */
function invocations(code: string): string[][] {
  const out: string[][] = [];
  for (const line of code.replace(/\\\n/g, ' ').split('\n')) {
    const words = line.replace(/(^|\s)#.*$/, '').split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== 'tessera') continue;
      const call: string[] = [];
      for (let j = i + 1; j < words.length && !/^(>|>>|\||&&|;|2>)$/.test(words[j] as string); j++) call.push(words[j] as string);
      out.push(call);
    }
  }
  return out;
}

/** The command a `tessera` call names (`data check` is two words), or a message saying why none. */
function commandOf(words: string[]): Command | string {
  let cmd: Command = program;
  for (const w of words) {
    if (w.startsWith('-')) break;
    const sub = cmd.commands.find((c) => c.name() === w);
    if (!sub) return cmd === program ? `no command '${w}'` : cmd;
    cmd = sub;
    if (sub.commands.length === 0) break;
  }
  return cmd === program ? 'no command' : cmd;
}

let work: string;
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
  await writeReadmeFixtures(work);
  // `tessera` on the PATH: this checkout's command, as `npm link` would make it.
  mkdirSync(join(work, '.bin'));
  writeFileSync(join(work, '.bin', 'tessera'), `#!/bin/sh\nexec "${process.execPath}" "${join(repo, 'bin', 'tessera.js')}" "$@"\n`);
  chmodSync(join(work, '.bin', 'tessera'), 0o755);
  // `import … from 'tessera'` in the snippets: this checkout, as an installed package.
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(repo, join(work, 'node_modules', 'tessera'), 'dir');
  writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
});
after(() => rmSync(work, { recursive: true, force: true }));

const env = () => ({ ...process.env, PATH: `${join(work, '.bin')}:${process.env.PATH}`, TESSERA_NUM_THREADS: '1' });
const tail = (s: string) => s.split('\n').slice(-15).join('\n');

describe("the README's examples", () => {
  it('has shell and TypeScript examples, most of them run', () => {
    assert.ok(shell.filter((b) => !b.notRun).length >= 10, 'shell blocks that run');
    assert.ok(typescript.filter((b) => !b.notRun).length >= 2, 'TypeScript blocks that run');
  });

  it('every `tessera` line names a command and flags that command has', () => {
    let calls = 0;
    for (const b of shell)
      for (const words of invocations(b.code)) {
        calls++;
        const cmd = commandOf(words);
        assert.ok(typeof cmd !== 'string', `README.md:${b.line}: tessera ${words.join(' ')}: ${String(cmd)}`);
        for (const w of words.filter((x) => x.startsWith('-'))) {
          const flag = w.split('=')[0] as string;
          const known = flag === '--help' || flag === '-h' || cmd.options.some((o) => o.long === flag || o.short === flag);
          assert.ok(known, `README.md:${b.line}: tessera ${words.join(' ')}: '${flag}' is not a flag of tessera ${cmd.name()} (see docs/cli.md)`);
        }
      }
    assert.ok(calls >= 20, `${calls} tessera calls checked`);
  });

  describe('shell blocks, in order', () => {
    for (const b of shell.filter((x) => !x.notRun))
      it(`README.md:${b.line}: ${b.code.split('\n')[0]}`, () => {
        const r = spawnSync('bash', ['-euo', 'pipefail', '-c', b.code], { cwd: work, env: env(), encoding: 'utf8', timeout: 600_000 });
        assert.equal(r.status, 0, `README.md:${b.line} failed (exit ${r.status}):\n${b.code}\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`);
      });
  });

  describe('TypeScript blocks', () => {
    it("import from 'tessera' only", () => {
      for (const b of typescript) {
        const from = [...b.code.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]);
        assert.deepEqual(from.filter((m) => m !== 'tessera'), [], `README.md:${b.line} imports only from 'tessera'`);
      }
    });

    it('type-check against the package and run as written', () => {
      const runnable = typescript.filter((b) => !b.notRun);
      const files = runnable.map((b) => {
        const file = join(work, `readme-${b.line}.ts`);
        writeFileSync(file, b.code);
        return file;
      });
      const options: ts.CompilerOptions = {
        strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'],
        module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')],
      };
      const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram(files, options));
      const text = diagnostics.map((d) => {
        const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
        const block = runnable[files.indexOf(d.file?.fileName ?? '')];
        return `README.md:${block && where ? block.line + 1 + where.line : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      assert.deepEqual(text, [], 'the TypeScript examples compile');
      for (const [i, b] of runnable.entries()) {
        const js = ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
        const file = (files[i] as string).replace(/\.ts$/, '.mjs');
        writeFileSync(file, js);
        const r = spawnSync(process.execPath, [file], { cwd: work, env: env(), encoding: 'utf8', timeout: 300_000 });
        assert.equal(r.status, 0, `README.md:${b.line} failed (exit ${r.status}):\n${tail(r.stderr)}`);
      }
    });
  });
});
