// nn: modules, layers, initialisation.
export { Module, StateDictError, type StateDict, type LoadResult } from './module.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './layers/linear.js';
