// A channel-pruned layer is the same module with smaller tensors: its parameters and buffers get
// new data in place (setData, so the fields and state dict keep holding the module's own tensors),
// and its size fields (in/out channels, features, groups of a depthwise conv) are brought in line
// so the forward, repr and summary say what the layer now is. The same two steps rebuild a pruned
// run from the zoo: `resizeToShapes` with the shapes its model.json saved, then loadStateDict.
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv1d, Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { zeros } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Each conv, linear and batch-norm layer's size fields from its tensors' current shapes. */
export function syncLayerSizes(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv1d || m instanceof Conv2d) {
      const conv = m as Writable<Conv2d>;
      const [out, inPerGroup] = m.weight.shape as [number, number];
      // A depthwise conv (one filter per channel) stays depthwise: its groups follow the channels.
      if (m.groups > 1 && m.groups === m.inChannels && m.groups === m.outChannels) conv.groups = out;
      conv.outChannels = out;
      conv.inChannels = inPerGroup * conv.groups;
    } else if (m instanceof Linear) {
      const linear = m as Writable<Linear>;
      [linear.outFeatures, linear.inFeatures] = m.weight.shape as [number, number];
    } else if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
      const sized = m.weight ?? m.runningMean;
      if (sized) (m as Writable<BatchNorm2d>).numFeatures = sized.shape[0] as number;
    }
  }
}

/**
 * Gives the named tensors these shapes (zero-filled: loadStateDict fills them next) and syncs the
 * layers' sizes; a key the model does not have, or a shape of another rank, is an error naming it.
 */
export function resizeToShapes(model: Module, shapes: Readonly<Record<string, readonly number[]>>): void {
  const sd = model.stateDict();
  for (const [key, shape] of Object.entries(shapes)) {
    const t = sd.get(key);
    if (!t) throw new RangeError(`the pruned shapes name '${key}', which ${model.constructor.name} does not have`);
    if (shape.length !== t.ndim || !shape.every((d) => Number.isInteger(d) && d >= 1)) throw new RangeError(`the pruned shape of '${key}' is [${shape.join(', ')}]; the layer's tensor has ${t.ndim} dimensions`);
  }
  noGrad(() =>
    scope(() => {
      for (const [key, shape] of Object.entries(shapes)) {
        const t = sd.get(key)!; // checked above
        t.setData(zeros([...shape], { dtype: t.dtype, device: t.device }));
      }
    }),
  );
  syncLayerSizes(model);
}
