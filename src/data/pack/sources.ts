// What `tessera data pack <source>` packs: any source training accepts, opened by the one opener
// (src/data/pipeline/open.ts), as one data set per part. A source with splits (Fashion-MNIST, CIFAR,
// a manifest's split column) becomes one packed folder per split (`<out>/train`, `<out>/test`, …):
// the packed index has no split column, and a folder per split is what a run points at (a folder
// of packed splits is itself a source whose parts are those splits). Every split shares the class
// list, so label 3 means the same class in all of them.
import { openSource, UNASSIGNED_SPLIT } from '../pipeline/open.js';
import { DataSourceError } from '../pipeline/source.js';
import type { Dataset } from '../types.js';

export { UNASSIGNED_SPLIT };

export interface PackInput {
  /** The split's name, when the source has splits; it names the output sub-folder. */
  split?: string;
  dataset: Dataset;
}

/**
 * Opens `spec` as the data sets to pack. With `split`, only that split (packed into the output
 * folder itself; for an image folder, its sub-folder of that name). Rejects with a DataError or a
 * DataSourceError naming the path when it cannot be opened.
 */
export async function openPackInputs(spec: string, o: { split?: string } = {}): Promise<PackInput[]> {
  const opened = await openSource({ source: spec }, { shuffleShards: false, ...(o.split === undefined ? {} : { split: o.split }) });
  for (const p of opened.parts) if (p.split !== undefined) checkSplitName(p.split, spec);
  return opened.parts.map((p) => ({ ...(p.split === undefined ? {} : { split: p.split }), dataset: p.dataset }));
}

/** Split values become folder names: refuse anything that is not a plain name. */
function checkSplitName(split: string, source: string): void {
  if (!/^[\w.-]+$/.test(split) || split === '.' || split === '..')
    throw new DataSourceError(`${source}: split "${split}" cannot name an output folder (use letters, digits, ".", "_" and "-")`);
}
