// Names → codes of the generated enum tables (layouts, memory formats, loss reductions).
import { LAYOUTS, MEMORY_FORMATS, REDUCTIONS, type Layout, type MemoryFormat, type Reduction } from './generated/enums.js';

function code<T extends string>(table: Readonly<Record<T, number>>, what: string, v: T): number {
  const c = table[v];
  if (c === undefined) throw new TypeError(`'${String(v)}' is not a ${what} (one of ${Object.keys(table).join(', ')})`);
  return c;
}

export const layoutCode = (v: Layout) => code(LAYOUTS, 'layout', v);
export const memoryFormatCode = (v: MemoryFormat) => code(MEMORY_FORMATS, 'memory format', v);
export const reductionCode = (v: Reduction) => code(REDUCTIONS, 'reduction', v);
