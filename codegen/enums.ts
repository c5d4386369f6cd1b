// The named enums that cross the native boundary, declared once. The emitters write them to
// native/generated/enums.h (with static_asserts against LibTorch's own values) and to
// src/tensor/generated/enums.ts, so both sides agree by construction and no magic integer exists.

export interface EnumRow {
  /** The name TypeScript users write. */
  name: string;
  /** The C++ enumerator it stands for. */
  cpp: string;
  code: number;
}

export const DTYPES: EnumRow[] = [
  { name: 'uint8', cpp: 'at::ScalarType::Byte', code: 0 },
  { name: 'int8', cpp: 'at::ScalarType::Char', code: 1 },
  { name: 'int16', cpp: 'at::ScalarType::Short', code: 2 },
  { name: 'int32', cpp: 'at::ScalarType::Int', code: 3 },
  { name: 'int64', cpp: 'at::ScalarType::Long', code: 4 },
  { name: 'float16', cpp: 'at::ScalarType::Half', code: 5 },
  { name: 'float32', cpp: 'at::ScalarType::Float', code: 6 },
  { name: 'float64', cpp: 'at::ScalarType::Double', code: 7 },
  { name: 'bool', cpp: 'at::ScalarType::Bool', code: 11 },
  { name: 'bfloat16', cpp: 'at::ScalarType::BFloat16', code: 15 },
];

export const MEMORY_FORMATS: EnumRow[] = [
  { name: 'contiguous', cpp: 'at::MemoryFormat::Contiguous', code: 0 },
  { name: 'preserve', cpp: 'at::MemoryFormat::Preserve', code: 1 },
  { name: 'channelsLast', cpp: 'at::MemoryFormat::ChannelsLast', code: 2 },
  { name: 'channelsLast3d', cpp: 'at::MemoryFormat::ChannelsLast3d', code: 3 },
];

export const LAYOUTS: EnumRow[] = [{ name: 'strided', cpp: 'at::Layout::Strided', code: 0 }];

/** Loss reductions; `schema` is how native_functions.yaml spells the default. */
export const REDUCTIONS: Array<EnumRow & { schema: string }> = [
  { name: 'none', cpp: 'at::Reduction::None', code: 0, schema: 'None' },
  { name: 'mean', cpp: 'at::Reduction::Mean', code: 1, schema: 'Mean' },
  { name: 'sum', cpp: 'at::Reduction::Sum', code: 2, schema: 'Sum' },
];

/** Each table with the TypeScript type name of its string union. */
const TABLES: Record<string, { type: string; rows: EnumRow[] }> = {
  DTYPES: { type: 'DType', rows: DTYPES },
  MEMORY_FORMATS: { type: 'MemoryFormat', rows: MEMORY_FORMATS },
  LAYOUTS: { type: 'Layout', rows: LAYOUTS },
  REDUCTIONS: { type: 'Reduction', rows: REDUCTIONS },
};

export function emitEnumsHeader(header: string): string {
  const asserts = Object.entries(TABLES).flatMap(([table, { rows }]) =>
    rows.map((r) => `static_assert(static_cast<int>(${r.cpp}) == ${r.code}, "${table}: ${r.name}");`),
  );
  return `${header}#pragma once

#include <ATen/ATen.h>
#include <ATen/core/Reduction.h>

// The codes below are the values of codegen/enums.ts; LibTorch must agree with every one.
${asserts.join('\n')}
`;
}

export function emitEnumsTs(header: string): string {
  const table = (name: string, typeName: string, rows: EnumRow[]) => {
    const union = rows.map((r) => `'${r.name}'`).join(' | ');
    return [
      `export type ${typeName} = ${union};`,
      `export const ${name}: Readonly<Record<${typeName}, number>> = {`,
      ...rows.map((r) => `  ${r.name}: ${r.code},`),
      '};',
      `export const ${name}_BY_CODE: ReadonlyMap<number, ${typeName}> = new Map([`,
      ...rows.map((r) => `  [${r.code}, '${r.name}'],`),
      ']);',
    ].join('\n');
  };
  return `${header}${Object.entries(TABLES)
    .map(([n, { type, rows }]) => table(n, type, rows))
    .join('\n\n')}\n`;
}
