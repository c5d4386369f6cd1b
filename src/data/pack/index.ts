// Packing a data set into Tessera's packed format (`tessera data pack`): pre-sized samples in
// memory-mapped shards, read back with packedDataset().
export { packDataset, BadSampleError, type PackOptions, type PackSummary } from './pack.js';
export { preparer, type PrepareOptions, type PreparedSample, type Preparer } from './prepare.js';
export { openPackInputs, UNASSIGNED_SPLIT, type PackInput } from './sources.js';
