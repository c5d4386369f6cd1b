// Embedding: a lookup table of numEmbeddings vectors of size embeddingDim.
import { noGrad } from '../../tensor/autograd.js';
import { empty } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { embedding } from '../functional.js';
import { normal_ } from '../init.js';
import { Module } from '../module.js';

export interface EmbeddingOptions {
  /** This row is initialised to zeros and receives no gradient (negative: counted from the end). */
  paddingIdx?: number | null;
  /** Scale gradients by the inverse frequency of the indices in the batch. */
  scaleGradByFreq?: boolean;
}

export class Embedding extends Module {
  readonly paddingIdx: number | null;
  readonly scaleGradByFreq: boolean;
  /** The table, (numEmbeddings, embeddingDim) */
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    let p = options.paddingIdx ?? null;
    if (p !== null) {
      if (p >= numEmbeddings || p < -numEmbeddings) throw new RangeError('Padding_idx must be within num_embeddings');
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    this.weight = this.registerParameter('weight', empty([numEmbeddings, embeddingDim]));
    this.resetParameters();
  }

  /** W ~ N(0, 1), then the padding row set to 0. */
  resetParameters(): void {
    const w = this.weight;
    normal_(w);
    const p = this.paddingIdx;
    if (p !== null) noGrad(() => scope(() => void w.select(0, p).fill_(0)));
  }

  /** (*) int64 indices → (*, embeddingDim) */
  forward(indices: Tensor): Tensor {
    return embedding(this.weight, indices, this.paddingIdx ?? -1, this.scaleGradByFreq, false);
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    return s;
  }
}
