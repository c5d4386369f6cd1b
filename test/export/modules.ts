// Modules a user might write: forwards built from functional ops rather than layers, for the export
// tests. Nothing here is special-cased by the exporter; it sees only the ops.
import { cat, nn, pad, stack, where, type Tensor } from '../../src/index.js';

/** A bit of everything: chunk, gating, cat/stack, permute/reshape with the batch read off the shape, reductions, slicing, padding. */
export class Custom extends nn.Module {
  readonly conv = this.registerModule('conv', new nn.Conv2d(4, 6, 3, { padding: 1 }));
  readonly head = this.registerModule('head', new nn.Linear(27, 5));

  /** (B, 4, 6, 6) → [(B, 5), (B, 3, 4)] */
  forward(x: Tensor): [Tensor, Tensor] {
    const [a, b] = this.conv.forward(x).chunk(2, 1) as [Tensor, Tensor]; // (B, 3, 6, 6) each
    const gated = a.mul(b.sigmoid().mul(2).sub(0.5));
    const soft = a.abs().add(1e-3).sqrt().log().div(2).pow(2);
    let h = cat([gated, soft, x.narrow(1, 1, 3)], 1); // (B, 9, 6, 6)
    h = h.permute([0, 2, 3, 1]).reshape([x.size(0), 36, 9]); // (B, 36, 9)
    const pooled = stack([h.mean([1]), h.amax(1), h.sum([1]).div(36)], 2); // (B, 9, 3)
    const masked = where(pooled.gt(0), pooled, pooled.mul(0.1)).clamp(-3, 3);
    const flat = masked.flatten(1); // (B, 27)
    const padded = pad(h.slice(1, 2, 30, 3).transpose(1, 2), [1, 2]).flip([2]); // (B, 9, 12)
    const side = padded.select(1, 4).unsqueeze(1).expand([-1, 3, -1]).narrow(2, 0, 4); // (B, 3, 4)
    return [this.head.forward(flat).softmax(-1), side.add(h.logsumexp([1, 2]).view([-1, 1, 1]))];
  }
}

/** An LSTM encoder whose last time step feeds a linear head: (B, T, 4) → (B, 3). */
export class RnnHead extends nn.Module {
  readonly lstm = this.registerModule('lstm', new nn.LSTM(4, 6, { batchFirst: true }));
  readonly fc = this.registerModule('fc', new nn.Linear(6, 3));

  forward(x: Tensor): Tensor {
    const [out] = this.lstm.forward(x); // (B, T, 6)
    return this.fc.forward(out.select(1, -1));
  }
}
