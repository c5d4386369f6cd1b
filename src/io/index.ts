// io: weights on disk, in other people's formats — safetensors and PyTorch .pt state dicts. Atomic
// writes, memory mapping and the pickle machinery behind them are internal.
export { WeightsFileError, UnsafePickleError, FileWriteError } from './errors.js';
export {
  loadSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  serializeSafetensors,
  type SafetensorsContents,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SaveSafetensorsOptions,
  type TensorsIn,
} from './safetensors.js';
export { loadPt, type LoadPtOptions } from './pt.js';
export { savePt, serializePt } from './pt-write.js';
export { type ZipWriteOptions } from './zip.js';
export {
  saveStateDict,
  loadStateDictFile,
  weightsFormatOf,
  type WeightsFormat,
  type SaveStateDictOptions,
  type LoadStateDictFileOptions,
} from './state-dict.js';
