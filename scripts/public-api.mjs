#!/usr/bin/env node
// The public API as a sorted list of names, one a line: every name `import … from 'tessera'` reaches
// (namespaces walked: `nn.functional.relu`), with what it is (class, function, const, type,
// interface, namespace). test/api/api.test.ts compares it with test/api/public-api.txt, so a change
// to the public surface is deliberate: after one, run `node scripts/public-api.mjs --write`.
//
// Read from the TypeScript sources with the compiler's own API, so types and interfaces count too.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SNAPSHOT = join(root, 'test', 'api', 'public-api.txt');

function kindOf(symbol, checker) {
  const s = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = s.flags;
  if (f & ts.SymbolFlags.ValueModule) return 'namespace';
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) return 'const';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  return 'other';
}

export function publicApi() {
  const program = ts.createProgram([join(root, 'src', 'index.ts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node'], skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const entry = checker.getSymbolAtLocation(program.getSourceFile(join(root, 'src', 'index.ts')));
  const lines = [];
  const walk = (moduleSymbol, prefix) => {
    for (const sym of checker.getExportsOfModule(moduleSymbol)) {
      const name = prefix + sym.getName();
      const kind = kindOf(sym, checker);
      lines.push(`${name}: ${kind}`);
      if (kind === 'namespace') walk(sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym, `${name}.`);
    }
  };
  walk(entry, '');
  return `${lines.sort().join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = publicApi();
  if (process.argv.includes('--write')) {
    writeFileSync(SNAPSHOT, api);
    console.log(`wrote ${SNAPSHOT} (${api.split('\n').length - 1} names)`);
  } else process.stdout.write(api);
}
