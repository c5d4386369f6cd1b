// What a run can check before it touches its data: the model name and the weights file. Scanning
// a folder of photos (and measuring its normalisation) takes long; a typo in `--model` or a
// missing `--pretrained` file must fail at once, not after it.
import { accessSync, constants, statSync } from 'node:fs';

import { fieldName } from '../config/flags.js';
import type { RunConfig } from '../config/schema.js';
import { weightsFormatOf } from '../io/state-dict.js';
import { modelInfo } from '../models/registry.js';

export class PreflightError extends Error {
  override name = 'PreflightError';
}

/** Throws a PreflightError naming the field (and its flag) when the model or the weights file cannot be used. */
export function checkBeforeData(config: RunConfig): void {
  try {
    if (config.model.name !== 'auto') modelInfo(config.model.name); // 'auto' is chosen from the data later
  } catch (e) {
    throw new PreflightError(`${fieldName('model.name')}: ${(e as Error).message}`);
  }
  const weights = config.model.pretrained;
  if (weights !== undefined) {
    let problem: string | undefined;
    try {
      if (!statSync(weights).isFile()) problem = 'is not a file';
      else accessSync(weights, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    }
    if (problem === undefined) {
      try {
        weightsFormatOf(weights);
      } catch (e) {
        problem = (e as Error).message.slice(weights.length + 2); // WeightsFileError: "<file>: <problem>"
      }
    }
    if (problem !== undefined) throw new PreflightError(`${fieldName('model.pretrained')}: ${weights} ${problem}`);
  }
}
