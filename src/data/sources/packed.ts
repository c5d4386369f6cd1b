// Reading Tessera's packed format (see formats/packed-index.ts). Shards are memory-mapped: a read
// is a copy of `length` bytes from the page cache, raw samples come back as pixels that need no
// decoding, JPEG samples as encoded bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { openFileBytes, type FileBytes } from '../formats/file-bytes.js';
import { PACKED_INDEX, validatePackedIndex } from '../formats/packed-index.js';
import { DataError, type IndexedDataset, type SampleInput } from '../types.js';

export function packedDataset(dir: string): IndexedDataset {
  const indexPath = join(dir, PACKED_INDEX);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new DataError(indexPath, (e as { code?: string }).code === 'ENOENT'
      ? 'not found: is this a packed data set (made by `tessera data pack`)?'
      : `cannot read: ${(e as Error).message}`, { cause: e });
  }
  const index = validatePackedIndex(json, indexPath);
  const shards: FileBytes[] = index.shards.map((s) => {
    const f = openFileBytes(join(dir, s.file));
    if (f.size !== s.bytes) throw new DataError(f.path, `holds ${f.size} bytes, the index says ${s.bytes} (truncated or replaced?)`);
    return f;
  });
  const s = index.samples;
  const labels = Int32Array.from(s.label);
  const jpegs = s.encoding.filter((e) => e === 'jpeg').length;
  return {
    kind: 'indexed',
    length: index.count,
    classes: index.classes,
    labels: () => labels.slice(),
    async read(i) {
      if (!Number.isInteger(i) || i < 0 || i >= index.count) throw new DataError(`${dir}[${i}]`, `index out of range (0..${index.count - 1})`);
      const id = s.id[i] as string;
      const shard = shards[s.shard[i] as number] as FileBytes;
      // A copy: the mapping is shared by every read, and the copy can be transferred to a worker.
      const bytes = new Uint8Array(shard.read(s.offset[i] as number, s.length[i] as number, `sample ${i} (${id})`));
      const input: SampleInput = s.encoding[i] === 'raw'
        ? { kind: 'pixels', image: { data: bytes, width: s.width[i] as number, height: s.height[i] as number, channels: s.channels[i] as 1 | 3 } }
        : { kind: 'encoded', bytes };
      return { input, label: labels[i] as number, id };
    },
    describe: () =>
      `packed ${dir} (${index.count.toLocaleString('en-US')} samples: ${(index.count - jpegs).toLocaleString('en-US')} raw, ` +
      `${jpegs.toLocaleString('en-US')} JPEG; ${index.classes.length} classes; ${index.shards.length} shard${index.shards.length === 1 ? '' : 's'})`,
  };
}
