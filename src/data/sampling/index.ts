// Which indices an epoch visits, in which order, on which rank.
export {
  SequentialSampler, RandomSampler, WeightedRandomSampler,
  type Sampler, type RandomSamplerOptions, type WeightedRandomSamplerOptions,
} from './samplers.js';
export { DistributedSampler, type DistributedOptions } from './distributed.js';
