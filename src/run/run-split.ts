// A finished run's own data, split exactly as it was for training: its config.json says the source
// and the split shares, its splits file (splits.json unless data.splitsFile says otherwise) the
// held-out samples, so the validation split is the one the run never trained on. What export's int8
// check and `tessera prune` measure accuracy on, and what pruning's fine-tuning trains on.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RunConfig } from '../config/schema.js';
import { DataPipeline } from '../data/pipeline/pipeline.js';
import { DataSourceError } from '../data/pipeline/source.js';
import type { Dataset } from '../data/types.js';
import { pipelineSpec } from './data.js';

export interface RunSplits {
  config: RunConfig;
  /** The splits file the run saved (held-out shares are read from it, never drawn anew). */
  splitsFile: string;
  pipeline: DataPipeline;
  val?: Dataset;
  test?: Dataset;
  close(): void;
}

/** The run's config.json, checked. */
export function readRunConfig(dir: string): RunConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new DataSourceError(`${dir} has no config.json (a run directory made by tessera train): its validation split is unknown`);
  try {
    return RunConfig.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new DataSourceError(`${path} is not a run config: ${(e as Error).message}`);
  }
}

/** Opens the run's source and splits as saved (normalisation is the model's own, so nothing is measured). */
export async function openRunSplits(dir: string): Promise<RunSplits> {
  const config = readRunConfig(dir);
  const splitsFile = config.data.splitsFile ?? join(dir, 'splits.json');
  const pipeline = await DataPipeline.open(pipelineSpec(config, { splitsPath: splitsFile }));
  try {
    await pipeline.setup({ measure: false, savedSplits: true });
    return {
      config,
      splitsFile,
      pipeline,
      ...(pipeline.valSet ? { val: pipeline.valSet } : {}),
      ...(pipeline.testSet ? { test: pipeline.testSet } : {}),
      close: () => pipeline.close(),
    };
  } catch (e) {
    pipeline.close();
    throw e;
  }
}

/** The split to measure a changed model on: validation, or the test split when the run held none out. */
export function measurementSplit(s: RunSplits): { dataset: Dataset; name: 'validation' | 'test' } {
  if (s.val) return { dataset: s.val, name: 'validation' };
  if (s.test) return { dataset: s.test, name: 'test' };
  throw new DataSourceError('the run has neither a validation nor a test split to measure accuracy on');
}
