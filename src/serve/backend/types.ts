// What the server needs from a model, whatever runs it: load it, say what it takes and gives, and
// turn a batch of inputs into logits. A back end lives inside the model's worker thread.
import type { BatchingOptions } from '../options.js';
import type { PreprocessingJSON } from '../../data/pipeline/preprocessing.js';

export const BACKENDS = ['torch', 'onnx'] as const;
export type BackendKind = (typeof BACKENDS)[number];

/** What a loaded model takes and gives. */
export interface ModelInfo {
  backend: BackendKind;
  /** The one input, float32 (batch, C, H, W); `shape` is (C, H, W). */
  input: { name: string; shape: [number, number, number] };
  /** The one output, float32 (batch, size): logits. `size` is learnt from the warm-up pass. */
  output: { name: string; size: number };
  /** Class names in output order, when the model file carries them. */
  classes?: string[];
  /** How an image becomes the input (the saved Preprocessing, as JSON), when the model file says. */
  preprocessing?: PreprocessingJSON;
  /**
   * The logits are the mean of those for each input and its mirror image (the run's test-time
   * flip): the torch back end computes them as eval does, an ONNX file when its graph does so
   * (metadata test_time_flip "true"); the server never adds a flip of its own.
   */
  testFlip: boolean;
}

/** One model the server is asked to serve: where it is and how its requests are batched. */
export interface ModelSource {
  name: string;
  /** A positive integer, as text (KServe versions are strings). */
  version: string;
  backend: BackendKind;
  /** A run directory (torch) or an .onnx file (onnx). */
  path: string;
  batching: BatchingOptions;
}

export interface Backend {
  /** Output size not yet known (0) until the first inference; the worker fills it in after warm-up. */
  readonly info: ModelInfo;
  /** `batch` holds shape[0] samples, (B, C, H, W) row-major; returns (B, info.output.size) logits in a buffer of their own. */
  infer(batch: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array>;
  dispose(): Promise<void>;
}
