// Saving and loading a model's weights by file name: the extension picks the format.
//
//     io.saveStateDict('model.safetensors', model);
//     scope(() => model.loadStateDict(io.loadStateDictFile('model.safetensors')));
//
// (The scope frees the loaded tensors once their values are copied into the model.)
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/index.js';
import { WeightsFileError } from './errors.js';
import { loadPt } from './pt.js';
import { savePt } from './pt-write.js';
import { loadSafetensors, saveSafetensors, type TensorsIn } from './safetensors.js';

export type WeightsFormat = 'safetensors' | 'pt';

export interface SaveStateDictOptions {
  /** Overrides the extension. */
  format?: WeightsFormat;
  /** safetensors only: `__metadata__` strings. */
  metadata?: Readonly<Record<string, string>>;
}

export interface LoadStateDictFileOptions {
  format?: WeightsFormat;
  /** .pt only: the dotted path of the state dict inside a checkpoint dict (see loadPt). */
  select?: string;
}

/** The format a file name implies: .safetensors, or .pt / .pth / .bin (PyTorch's zip format). */
export function weightsFormatOf(path: string): WeightsFormat {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'safetensors') return 'safetensors';
  if (ext === 'pt' || ext === 'pth' || ext === 'bin') return 'pt';
  throw new WeightsFileError(path, 'cannot tell the weights format from the extension (use .safetensors, .pt, .pth or .bin, or pass { format })');
}

/** Saves a module's stateDict() (or a map of tensors) atomically, in the format the extension names. */
export function saveStateDict(path: string, source: Module | TensorsIn, options: SaveStateDictOptions = {}): void {
  const tensors = source instanceof Module ? source.stateDict() : source;
  const format = options.format ?? weightsFormatOf(path);
  if (format === 'safetensors') saveSafetensors(path, tensors, options.metadata ? { metadata: options.metadata } : {});
  else {
    if (options.metadata) throw new WeightsFileError(path, 'metadata can only be stored in safetensors files');
    savePt(path, tensors);
  }
}

/** Loads a state dict from a file in the format its extension names (new CPU tensors, by PyTorch key). */
export function loadStateDictFile(path: string, options: LoadStateDictFileOptions = {}): Map<string, Tensor> {
  const format = options.format ?? weightsFormatOf(path);
  if (format === 'safetensors') {
    if (options.select !== undefined) throw new WeightsFileError(path, 'select applies to .pt checkpoints only');
    return loadSafetensors(path);
  }
  return loadPt(path, options.select === undefined ? {} : { select: options.select });
}
