// The index of Tessera's packed format (`tessera data pack`): a directory holding `index.json`
// and shard files `shard-00000.bin`, … of concatenated samples. A sample is raw 8-bit HWC pixels
// (small images: no decoding at all when training) or a JPEG file (large ones: a tenth the size).
//
// The per-sample fields are stored as columns (`samples.offset[i]` …) rather than one object per
// sample: for a million samples that is ~4x less JSON to parse and validate, and no field names
// repeated a million times. Validation names every bad field by its path.
import { z } from 'zod';

import { DataError } from '../types.js';

export const PACKED_FORMAT = 'tessera-packed';
export const PACKED_VERSION = 1;
export const PACKED_INDEX = 'index.json';

const count = z.number().int().nonnegative();
const SampleColumns = z.object({
  shard: z.array(count),
  offset: z.array(count),
  length: z.array(count),
  width: z.array(z.number().int().positive()),
  height: z.array(z.number().int().positive()),
  channels: z.array(z.union([z.literal(1), z.literal(3)])),
  encoding: z.array(z.enum(['raw', 'jpeg'])),
  /** Class index, or -1 for an unlabelled sample. */
  label: z.array(z.number().int().min(-1)),
  /** Where each sample came from (a path, `shard.tar#key`), for error reports. */
  id: z.array(z.string()),
});

export const PackedIndexSchema = z.object({
  format: z.literal(PACKED_FORMAT),
  version: z.literal(PACKED_VERSION),
  classes: z.array(z.string()),
  count,
  shards: z.array(z.object({ file: z.string().regex(/^shard-\d{5,}\.bin$/), bytes: count })),
  samples: SampleColumns,
});

export type PackedIndex = z.infer<typeof PackedIndexSchema>;
export type PackedEncoding = PackedIndex['samples']['encoding'][number];

/** Validates a parsed index.json; throws a DataError listing every bad field by path. */
export function validatePackedIndex(json: unknown, file: string): PackedIndex {
  const r = PackedIndexSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 20).map((i) => `${fieldPath(i.path)}: ${i.message}`);
    const more = r.error.issues.length > 20 ? `; and ${r.error.issues.length - 20} more` : '';
    throw new DataError(file, `invalid packed index: ${issues.join('; ')}${more}`);
  }
  const index = r.data;
  const s = index.samples;
  const problems: string[] = [];
  for (const [name, col] of Object.entries(s)) {
    if (col.length !== index.count) problems.push(`samples.${name}: ${col.length} entries for count ${index.count}`);
  }
  if (problems.length === 0) {
    for (let i = 0; i < index.count && problems.length < 20; i++) {
      const at = `sample ${i} (${s.id[i]})`;
      const shard = index.shards[s.shard[i] as number];
      if (!shard) problems.push(`samples.shard[${i}]: ${at} is in shard ${s.shard[i]}, but there are ${index.shards.length} shards`);
      else if ((s.offset[i] as number) + (s.length[i] as number) > shard.bytes)
        problems.push(`samples.offset[${i}]: ${at} (bytes ${s.offset[i]}..${(s.offset[i] as number) + (s.length[i] as number)}) runs past the ${shard.bytes}-byte ${shard.file}`);
      const pixels = (s.width[i] as number) * (s.height[i] as number) * (s.channels[i] as number);
      if (s.encoding[i] === 'raw' && s.length[i] !== pixels)
        problems.push(`samples.length[${i}]: ${at} is raw ${s.width[i]}×${s.height[i]}×${s.channels[i]} = ${pixels} bytes, but length says ${s.length[i]}`);
      if ((s.label[i] as number) >= index.classes.length)
        problems.push(`samples.label[${i}]: ${at} has label ${s.label[i]}, but there are ${index.classes.length} classes`);
    }
  }
  if (problems.length) throw new DataError(file, `invalid packed index: ${problems.join('; ')}`);
  return index;
}

/** `['samples', 'offset', 17]` → `samples.offset[17]`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '') || '(root)';
}

export function shardFileName(i: number): string {
  return `shard-${String(i).padStart(5, '0')}.bin`;
}
