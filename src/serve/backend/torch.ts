// The torch back end: a run's model (model.json + model.safetensors, src/run/saved-model.ts)
// rebuilt in LibTorch inside the model's worker thread, run in eval mode without autograd through
// the inference pass's per-batch function, so it answers as eval and predict do: with the run's
// test-time flip and autocast when model.json saved them.
import { loadRunModel } from '../../run/saved-model.js';
import { setNumThreads } from '../../runtime/threads.js';
import { noGrad } from '../../tensor/autograd.js';
import { fromBufferShared } from '../../tensor/factories.js';
import { scope } from '../../tensor/memory.js';
import { inferenceForward } from '../../train/inference.js';
import type { Backend } from './types.js';

export async function loadTorchBackend(runDir: string, threads: number): Promise<Backend> {
  // OpenMP's team size is a per-thread setting: this sets the pool that this worker's forward passes use.
  setNumThreads(threads);
  const { model, preprocessing, testFlip, precision } = loadRunModel(runDir);
  if (precision === 'fp16') {
    model.dispose();
    throw new Error(`${runDir} was evaluated under fp16 autocast (model.json precision), which needs a CUDA device, and the server runs on the CPU; export it to ONNX (float32) and serve the .onnx file`);
  }
  const forward = inferenceForward(model, { flip: testFlip === true, precision: precision ?? false });
  const { channels, height, width } = preprocessing.input;
  // A model trained channels_last has its weights so (loadRunModel); its inputs go in as evaluation's batch step makes them.
  const channelsLast = preprocessing.memoryFormat === 'channelsLast';
  return {
    info: {
      backend: 'torch',
      // The names `tessera export` gives the ONNX graph's input and output, so both back ends look alike.
      input: { name: 'input', shape: [channels, height, width] },
      output: { name: 'output', size: 0 },
      classes: [...preprocessing.classes],
      preprocessing: preprocessing.toJSON(),
      testFlip: testFlip === true,
    },
    async infer(batch, shape) {
      return scope(() =>
        noGrad(() => {
          const x = fromBufferShared(batch, shape); // (B, C, H, W)
          const y = forward(channelsLast ? x.contiguous('channelsLast') : x).float(); // (B, K), float32 also after bf16 autocast
          if (y.shape.length !== 2 || y.shape[0] !== shape[0]) throw new Error(`the model gave shape [${y.shape.join(', ')}] for a batch of ${shape[0]}; expected (batch, classes)`);
          return y.data() as Float32Array;
        }),
      );
    },
    async dispose() {
      model.dispose();
    },
  };
}
