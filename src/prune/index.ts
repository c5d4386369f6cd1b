// prune: smaller models from trained ones. Global magnitude masks (as torch.nn.utils.prune) and
// channel pruning that removes whole channels, found by tracing; the run-level `tessera prune`.
export { prunableWeights, globalMagnitudeMasks, applyMasks, MaskCallback } from './magnitude.js';
export { channelGroups, type ChannelGroup, type ChannelSlice, type Producer } from './channel-groups.js';
export { pruneChannels, type ChannelPruning, type PrunedGroup } from './channels.js';
export { resizeToShapes, syncLayerSizes } from './resize.js';
export { modelCost, forwardLatency, type ModelCost, type ForwardLatency } from './cost.js';
export { pruneRun, PRUNE_REPORT_FORMAT, type PruneRunOptions, type PruneReport, type Figures } from './run.js';
