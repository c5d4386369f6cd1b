// The op table: ONE list of rows, each naming the native entry points it covers, its inputs, the
// Tessera call, the equivalent PyTorch expression, the dtypes it runs for and whether gradients are
// checked. The rows live in rows/*.ts by topic (each file stays readable); this module is the table.
// Every entry of NATIVE_OP_NAMES must be covered by some row or listed in EXEMPT with a reason.
//
// Adding an op to codegen/allowlist.txt means adding a row like this one to the right rows/ file:
//
//   row({ name: 'atan2', covers: ['atan2'], inputs: { a: inp([3, 4]), b: inp([4], nonzero()) },
//         dtypes: FLOAT_LONG, ts: ({ a, b }) => T.atan2(a, b), py: 'torch.atan2(a, b)', grad: true })
//
// The harness (harness.ts) checks the row really calls the entry points in `covers`, compares the
// output (and gradients) with PyTorch, and test/conformance/conformance.test.ts runs it.
import type { NativeOpName } from '../../src/tensor/generated/native-names.js';
import { ACTIVATION_ROWS } from './rows/activations.js';
import { CREATION_ROWS } from './rows/creation.js';
import { EDGE_ROWS } from './rows/edge.js';
import { ELEMENTWISE_ROWS } from './rows/elementwise.js';
import { INDEXING_ROWS } from './rows/indexing.js';
import { LINALG_ROWS } from './rows/linalg.js';
import { LOGIC_ROWS } from './rows/logic.js';
import { NN_ROWS } from './rows/nn.js';
import { RECURRENT_ROWS } from './rows/recurrent.js';
import { REDUCTION_ROWS } from './rows/reductions.js';
import { SHAPE_ROWS } from './rows/shape.js';
import type { OpRow } from './spec.js';

export type { OpRow } from './spec.js';

export const OP_TABLE: readonly OpRow[] = [
  ...ELEMENTWISE_ROWS,
  ...LOGIC_ROWS,
  ...REDUCTION_ROWS,
  ...LINALG_ROWS,
  ...NN_ROWS,
  ...ACTIVATION_ROWS,
  ...SHAPE_ROWS,
  ...INDEXING_ROWS,
  ...RECURRENT_ROWS,
  ...CREATION_ROWS,
  ...EDGE_ROWS,
];

/**
 * Entry points no row compares, each with the reason. Only for outputs that are genuinely not
 * comparable; uninitialised memory (empty, empty_like) still gets shape/dtype-only rows instead.
 */
export const EXEMPT: Readonly<Partial<Record<NativeOpName, string>>> = {
  // Lists of tensors in, lists out: the table's rows take tensors. test/optim/foreach.test.ts checks
  // them where they are used, SGD's step, against the per-tensor ops and PyTorch's foreach path.
  '_foreach_add_$List': "SGD's foreach step; test/optim/foreach.test.ts",
  '_foreach_add$List': "SGD's foreach step; test/optim/foreach.test.ts",
  '_foreach_mul_$Scalar': "SGD's foreach step; test/optim/foreach.test.ts",
};
