// Activations as modules: each wraps one op (or a two-op formula), shape (*) → same shape.
// In-place variants are not offered: they save one buffer and break autograd in subtle ways.
import { empty } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import * as F from '../functional.js';
import { constant_ } from '../init.js';
import { Module } from '../module.js';
import { pyFloat, pyNumber } from '../repr.js';

// LibTorch 1.13 has no bfloat16 CPU kernel for hardtanh's backward (so relu6 and hardtanh) nor for
// mish. Under bf16 autocast a convolution hands these layers a bf16 tensor, and even PyTorch 1.13
// then fails ("hardshrink_backward_cpu" not implemented for 'BFloat16'): MobileNetV2 could not train
// in the default precision. Their layers compute such an input in float32 and return bfloat16: the
// same values (the clamp is exact) and the same gradient rule, for two casts of an elementwise op.
// (The functional forms stay LibTorch's ops, as tessera.relu6 and the rest.)
function bf16InFloat32(x: Tensor, op: (v: Tensor) => Tensor): Tensor {
  if (x.dtype !== 'bfloat16' || x.device !== 'cpu') return op(x);
  return op(x.float()).to({ dtype: 'bfloat16' });
}

/** max(0, x) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** min(max(0, x), 6) */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return bf16InFloat32(x, (v) => F.relu6(v));
  }
}

/** x for x ≥ 0, negativeSlope·x otherwise */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** x for x > 0, α·(eˣ - 1) otherwise */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** scale·(max(0, x) + min(0, α·(eˣ - 1))) with the self-normalizing constants */
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return F.selu(x);
  }
}

/** max(0, x) + min(0, α·(e^(x/α) - 1)) */
export class CELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.celu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** x·Φ(x), or its tanh approximation */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·σ(x) (swish) */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

/** x·tanh(softplus(x)) */
export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return bf16InFloat32(x, (v) => F.mish(v));
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

/** x·relu6(x + 3)/6 */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return F.hardswish(x);
  }
}

/** relu6(x + 3)/6 */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.hardsigmoid(x);
  }
}

/** clamp(x, minVal, maxVal) */
export class Hardtanh extends Module {
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return bf16InFloat32(x, (v) => F.hardtanh(v, this.minVal, this.maxVal));
  }

  override extraRepr(): string {
    return `min_val=${pyFloat(this.minVal)}, max_val=${pyFloat(this.maxVal)}`;
  }
}

/** log(1 + e^(βx))/β, linear above `threshold` */
export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }

  override extraRepr(): string {
    return `beta=${pyNumber(this.beta)}, threshold=${pyNumber(this.threshold)}`;
  }
}

/** log σ(x) */
export class LogSigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.logSigmoid(x);
  }
}

/** x / (1 + |x|) */
export class Softsign extends Module {
  forward(x: Tensor): Tensor {
    return F.softsign(x);
  }
}

/** x - tanh(x) */
export class Tanhshrink extends Module {
  forward(x: Tensor): Tensor {
    return F.tanhshrink(x);
  }
}

/** Leaky ReLU with a learned slope: one shared (numParameters=1) or one per channel (dim 1). */
export class PReLU extends Module {
  /** `numSlopes` is PyTorch's `num_parameters` (renamed: Module.numParameters() counts elements). */
  /** The slopes, (numSlopes) */
  readonly weight: Tensor;

  constructor(readonly numSlopes = 1, readonly init = 0.25) {
    super();
    this.weight = this.registerParameter('weight', empty([numSlopes]));
    this.resetParameters();
  }

  /** weight = init (constant) */
  resetParameters(): void {
    constant_(this.weight, this.init);
  }

  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `num_parameters=${this.numSlopes}`;
  }
}

/** a·σ(b), a and b the two halves of x along `dim` (that dim halves) */
export class GLU extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.glu(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-D inputs, else 1. */
function softmaxDim(dim: number | null, x: Tensor): number {
  if (dim !== null) return dim;
  const n = x.dim();
  return n === 0 || n === 1 || n === 3 ? 0 : 1;
}

/** e^(x_i) / Σ_j e^(x_j) along `dim` */
export class Softmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.softmax(x, softmaxDim(this.dim, x));
  }

  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}

/** log softmax along `dim` (numerically stable; pair with NLLLoss) */
export class LogSoftmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.logSoftmax(x, softmaxDim(this.dim, x));
  }

  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}
