// Every op the exporter maps, by LibTorch entry point. An entry point missing here is an export
// error naming it (and the module that called it); adding one is adding its mapping to a family.
import type { Mapping } from './call.js';
import { ELEMENTWISE } from './elementwise.js';
import { NN } from './nn.js';
import { RECURRENT } from './recurrent.js';
import { REDUCE } from './reduce.js';
import { SHAPE } from './shape.js';

export const MAPPINGS: Readonly<Record<string, Mapping>> = { ...ELEMENTWISE, ...NN, ...SHAPE, ...REDUCE, ...RECURRENT };
