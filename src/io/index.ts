// io: weights on disk, in other people's formats — safetensors and PyTorch .pt state dicts.
export { WeightsFileError, UnsafePickleError, FileWriteError } from './errors.js';
export { writeFileAtomic } from './atomic.js';
export { mapFile } from './mmap.js';
export {
  loadSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  serializeSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsContents,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SaveSafetensorsOptions,
  type TensorsIn,
} from './safetensors.js';
export { loadPt, type LoadPtOptions } from './pt.js';
export { savePt, serializePt } from './pt-write.js';
export { type ZipWriteOptions } from './zip.js';
export { ALLOWED_GLOBALS as PT_ALLOWED_GLOBALS } from './torch-pickle.js';
export {
  saveStateDict,
  loadStateDictFile,
  formatOf,
  type WeightsFormat,
  type SaveStateDictOptions,
  type LoadStateDictFileOptions,
} from './state-dict.js';
