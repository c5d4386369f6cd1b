// Training steps beyond the supervised one (../step.ts): a GAN's alternating updates, and the
// callback that logs them.
export { GanStep, dcganOptimizers, GAN_FIGURES, type GanFigure, type GanOptimizers, type GanStepOptions } from './gan.js';
export { GanHistory, type GanHistoryOptions, type GanPoint } from './gan-history.js';
