// nn: modules, layers, their functional forms, initialisation.
export { Module, StateDictError, type StateDict, type LoadResult, type ModuleToOptions, type UnaryModule } from './module.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Conv1d, Conv2d, ConvTranspose2d, type ConvOptions, type ConvTransposeOptions, type PaddingString } from './layers/conv.js';
export { BatchNorm1d, BatchNorm2d, InstanceNorm2d, NormBase, type NormOptions } from './layers/batchnorm.js';
export { LayerNorm, GroupNorm, type LayerNormOptions, type GroupNormOptions } from './layers/normalization.js';
export { Dropout, Dropout2d } from './layers/dropout.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './layers/pooling.js';
export { Identity, Flatten, Unflatten } from './layers/shape.js';
export { Upsample, type UpsampleOptions, type UpsampleMode } from './layers/upsample.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { LSTM, GRU, RNN, type RNNOptions, type ElmanRNNOptions } from './layers/recurrent.js';
export {
  ReLU, ReLU6, LeakyReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardswish, Hardsigmoid, Hardtanh, Softplus, LogSigmoid,
  Softsign, Tanhshrink, PReLU, GLU, Softmax, LogSoftmax,
} from './layers/activation.js';
export { Sequential, ModuleList, ModuleDict, type Layer } from './layers/container.js';
export {
  CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss, SigmoidFocalLoss, FocalLoss,
} from './layers/loss.js';
export { DiceLoss, DiceCELoss } from './layers/loss-segmentation.js';
export { SEGMENTATION_IGNORE_INDEX, type DiceMode, type DiceOptions, type DiceCEOptions } from './losses-segmentation.js';
export {
  type CrossEntropyOptions, type NLLOptions, type BCEOptions, type BCEWithLogitsOptions, type SigmoidFocalOptions, type FocalOptions, type KLReduction,
} from './losses.js';
export { l1Penalty, l2Penalty, isNormLayer, splitDecayParameters, weightDecayGroups, type DecaySplit, type DecaySplitOptions, type DecayGroup } from './regularization.js';
export { summary, summarize, type SummaryOptions, type SummaryRow, type ModelSummary } from './summary.js';
