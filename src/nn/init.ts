// Parameter initialisation, as math, matching torch.nn.init call for call: the same generator
// draws happen in the same order, so the same seed gives the same numbers as PyTorch.
// Every function fills its tensor in place (without recording autograd) and returns it.
import { noGrad } from '../tensor/autograd.js';
import { linalgQr } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

/** fan_in = in_features × receptive field, fan_out = out_features × receptive field. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new Error(`fan in/out need a tensor of at least 2 dimensions, got shape [${s.join(', ')}]`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (s[1] as number) * receptive, fanOut: (s[0] as number) * receptive };
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
  }
}

const inPlace = (t: Tensor, fn: () => unknown): Tensor => {
  noGrad(() => scope(() => void fn()));
  return t;
};

/** U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return inPlace(t, () => t.uniform_(a, b));
}

/** N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return inPlace(t, () => t.normal_(mean, std));
}

export function constant_(t: Tensor, value: number): Tensor {
  return inPlace(t, () => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return inPlace(t, () => t.zero_());
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Glorot: U(-a, a), a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}

/** Glorot: N(0, std²), std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

/** He: U(-b, b), b = gain·√(3 / fan), gain = calculateGain(nonlinearity, a). */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  const fan = (o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const bound = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound);
}

/** He: N(0, std²), std = gain / √fan. */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  const fan = (o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  return normal_(t, 0, calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan));
}

/**
 * N(mean, std²) truncated to [a, b], drawn as PyTorch does: inverse CDF of a uniform draw
 * between the CDF values of the bounds.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const l = cdf((a - mean) / std);
  const u = cdf((b - mean) / std);
  return inPlace(t, () => {
    t.uniform_(2 * l - 1, 2 * u - 1);
    t.erfinv_();
    t.mul_(std * Math.SQRT2);
    t.add_(mean);
    t.clamp_(a, b);
  });
}

/**
 * A (semi-)orthogonal matrix (Saxe et al.): Q of the QR decomposition of a N(0, 1) draw shaped
 * (rows, cols) = (size(0), numel / size(0)), with Q's columns signed by diag(R), times gain.
 */
export function orthogonal_(t: Tensor, gain = 1): Tensor {
  const rows = t.size(0);
  const cols = t.numel() / rows;
  return inPlace(t, () => {
    let flat = t.newEmpty([rows, cols]).normal_(0, 1);
    if (rows < cols) flat = flat.t();
    const [q, r] = linalgQr(flat);
    let signed = q.mul(r.diagonal().sign());
    if (rows < cols) signed = signed.t();
    t.view(t.shape).copy_(signed.reshape(t.shape)).mul_(gain);
  });
}

// erf for the truncation bounds (Abramowitz–Stegun 7.1.26 is not exact enough; use a series).
function erf(x: number): number {
  const sign = Math.sign(x);
  const ax = Math.abs(x);
  if (ax > 6) return sign;
  let sum = ax;
  let term = ax;
  for (let n = 1; n < 200; n++) {
    term *= (-ax * ax) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17) break;
  }
  return (sign * 2 * sum) / Math.sqrt(Math.PI);
}
