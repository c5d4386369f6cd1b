// Recurrent layers (LSTM, GRU, RNN) on LibTorch's fused multi-layer kernels (`at::lstm`, `at::gru`,
// `at::rnn_tanh`, `at::rnn_relu`), which take the weights as one flat list in PyTorch's order:
// for each layer, for each direction: w_ih, w_hh, b_ih, b_hh. Parameters are registered in that
// same order with PyTorch's names (`weight_ih_l0`, `bias_hh_l1_reverse`), so state dicts match.
// Dropout between layers (train mode only) draws from the seeded default generator, like PyTorch.
import { empty, gru, lstm, rnnRelu, rnnTanh, zeros } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { uniform_ } from '../init.js';
import { Module } from '../module.js';
import { pyBool, pyFloat } from '../repr.js';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output are (N, L, H) instead of (L, N, H). The hidden state stays (layers·dirs, N, H). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in train mode. */
  dropout?: number;
  bidirectional?: boolean;
}

type Mode = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
const GATES: Record<Mode, number> = { LSTM: 4, GRU: 3, RNN_TANH: 1, RNN_RELU: 1 };

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /**
   * Every weight and bias, in the order of the fused kernel's flat list (w_ih, w_hh, b_ih, b_hh per
   * layer and direction), registered as `weight_ih_l0`, …: PyTorch's `_flat_weights`. Kept in
   * place by `to()` and `loadStateDict`, so the list never goes stale.
   */
  readonly flatWeights: readonly Tensor[];

  constructor(mode: Mode, readonly inputSize: number, readonly hiddenSize: number, o: RNNOptions) {
    super();
    this.numLayers = o.numLayers ?? 1;
    this.bias = o.bias ?? true;
    this.batchFirst = o.batchFirst ?? false;
    this.dropout = o.dropout ?? 0;
    this.bidirectional = o.bidirectional ?? false;
    if (!(this.dropout >= 0 && this.dropout <= 1))
      throw new RangeError('dropout should be a number in range [0, 1] representing the probability of an element being zeroed');
    const gateSize = GATES[mode] * hiddenSize;
    const directions = this.numDirections;
    const flat: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let d = 0; d < directions; d++) {
        const suffix = `l${layer}${d === 1 ? '_reverse' : ''}`;
        const layerInput = layer === 0 ? inputSize : hiddenSize * directions;
        const shapes: [string, number[]][] = [[`weight_ih_${suffix}`, [gateSize, layerInput]], [`weight_hh_${suffix}`, [gateSize, hiddenSize]]];
        if (this.bias) shapes.push([`bias_ih_${suffix}`, [gateSize]], [`bias_hh_${suffix}`, [gateSize]]);
        for (const [name, shape] of shapes) flat.push(this.registerParameter(name, empty(shape)));
      }
    }
    this.flatWeights = flat;
    this.resetParameters();
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Every weight and bias ~ U(-1/√hidden, 1/√hidden), in registration order. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  /**
   * Batches an unbatched (L, H_in) input and checks sizes; returns the batched input, whether it
   * was batched, and the batch size.
   */
  protected prepare(x: Tensor): { input: Tensor; batched: boolean; batch: number } {
    const name = this.constructor.name;
    if (x.dim() !== 2 && x.dim() !== 3) throw new RangeError(`${name}: Expected input to be 2-D or 3-D but received ${x.dim()}-D tensor`);
    if (x.size(-1) !== this.inputSize) throw new RangeError(`input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${x.size(-1)}`);
    const batched = x.dim() === 3;
    const input = batched ? x : x.unsqueeze(this.batchFirst ? 0 : 1); // (L, H_in) → (L, 1, H_in) or (1, L, H_in)
    return { input, batched, batch: input.size(this.batchFirst ? 0 : 1) };
  }

  /** Zeros (layers·dirs, N, hidden), or the given state batched and checked. */
  protected hidden(h: Tensor | undefined, input: Tensor, batched: boolean, batch: number): Tensor {
    const expected = [this.numLayers * this.numDirections, batch, this.hiddenSize];
    if (h === undefined) return zeros(expected, { dtype: input.dtype, device: input.device });
    if (h.dim() !== (batched ? 3 : 2)) throw new RangeError(`For ${batched ? 'batched 3-D' : 'unbatched 2-D'} input, hx should also be ${batched ? '3' : '2'}-D but got ${h.dim()}-D tensor`);
    const hb = batched ? h : h.unsqueeze(1); // (layers·dirs, H) → (layers·dirs, 1, H)
    if (hb.shape.some((s, i) => s !== expected[i])) throw new RangeError(`Expected hidden size (${expected.join(', ')}), got [${hb.shape.join(', ')}]`);
    return hb;
  }

  protected unbatch(output: Tensor, batched: boolean): Tensor {
    return batched ? output : output.squeeze(this.batchFirst ? 0 : 1);
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += `, batch_first=${pyBool(true)}`;
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional) s += `, bidirectional=${pyBool(true)}`;
    return s;
  }
}

export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  /**
   * (L, N, H_in) [or (N, L, H_in) batchFirst, or unbatched (L, H_in)] →
   * [output (L, N, dirs·H), [h_n, c_n] each (layers·dirs, N, H)]
   */
  forward(x: Tensor, hx?: readonly [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const { input, batched, batch } = this.prepare(x);
    const h0 = this.hidden(hx?.[0], input, batched, batch);
    const c0 = this.hidden(hx?.[1], input, batched, batch);
    const [out, h, c] = lstm(input, [h0, c0], this.flatWeights, this.bias, this.numLayers, this.dropout, this.training, this.bidirectional, this.batchFirst);
    return batched ? [out, [h, c]] : [this.unbatch(out, false), [h.squeeze(1), c.squeeze(1)]];
  }
}

export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('GRU', inputSize, hiddenSize, options);
  }

  /** (L, N, H_in) [or (N, L, H_in), or (L, H_in)] → [output (L, N, dirs·H), h_n (layers·dirs, N, H)] */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const { input, batched, batch } = this.prepare(x);
    const h = this.hidden(h0, input, batched, batch);
    const [out, hn] = gru(input, h, this.flatWeights, this.bias, this.numLayers, this.dropout, this.training, this.bidirectional, this.batchFirst);
    return [this.unbatch(out, batched), batched ? hn : hn.squeeze(1)];
  }
}

export interface ElmanRNNOptions extends RNNOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** The Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: ElmanRNNOptions = {}) {
    super(options.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, options);
    this.nonlinearity = options.nonlinearity ?? 'tanh';
  }

  /** Shapes as GRU. */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const { input, batched, batch } = this.prepare(x);
    const h = this.hidden(h0, input, batched, batch);
    const kernel = this.nonlinearity === 'relu' ? rnnRelu : rnnTanh;
    const [out, hn] = kernel(input, h, this.flatWeights, this.bias, this.numLayers, this.dropout, this.training, this.bidirectional, this.batchFirst);
    return [this.unbatch(out, batched), batched ? hn : hn.squeeze(1)];
  }
}
