// Test-time augmentation: run the model on a few deterministic views of the batch (horizontal
// flip, five crops) and average the softmax outputs.
import { scope, type Tensor } from '../../tensor/index.js';

export interface TtaOptions {
  /** Also run each view mirrored left-right. Default true. */
  flips?: boolean;
  /** Five crops (four corners and the centre) of this side length, instead of the whole image. */
  crops?: { size: number };
}

/** The views of an N×C×H×W batch that `tta` averages over. */
export function ttaViews(x: Tensor, o: TtaOptions = {}): Tensor[] {
  const H = x.shape[2] as number;
  const W = x.shape[3] as number;
  let views = [x];
  if (o.crops) {
    const s = o.crops.size;
    if (s > H || s > W) throw new RangeError(`tta: crop size ${s} is larger than the ${H}x${W} input`);
    const at = (top: number, left: number): Tensor => x.narrow(2, top, s).narrow(3, left, s);
    views = [at(0, 0), at(0, W - s), at(H - s, 0), at(H - s, W - s), at(Math.trunc((H - s + 1) * 0.5), Math.trunc((W - s + 1) * 0.5))];
  }
  if (o.flips ?? true) views = views.flatMap((v) => [v, v.flip([3])]);
  return views;
}

/** Mean over views of softmax(forward(view), dim 1): N×K probabilities. */
export async function tta(forward: (x: Tensor) => Tensor | Promise<Tensor>, x: Tensor, o: TtaOptions = {}): Promise<Tensor> {
  return scope(async () => {
    const views = ttaViews(x, o);
    let sum: Tensor | undefined;
    for (const v of views) {
      const p = (await forward(v)).softmax(1);
      sum = sum ? sum.add(p) : p;
    }
    return (sum as Tensor).div(views.length);
  });
}
