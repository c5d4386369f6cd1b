// The onnxruntime back end: an .onnx file (as `tessera export` writes it, or any model with one
// float32 NCHW input) in ONNX Runtime inside the model's worker thread — its run() blocks the thread
// it is called on, which is why it lives here and not on the event loop. The class names and the
// evaluation preprocessing come from the file's metadata_props; a file without them is served for
// tensors only. A run's test-time flip is in the graph when `tessera export` put it there (metadata
// test_time_flip "true"): the file is run as it is, never flipped again here.
import { readFile } from 'node:fs/promises';

import { fromBinary } from '@bufbuild/protobuf';
import { z } from 'zod';

import { formatIssues } from '../../config/load.js';
import { Preprocessing, type PreprocessingJSON } from '../../data/pipeline/preprocessing.js';
import { ModelProtoSchema } from '../../export/generated/onnx_pb.js';
import type { Backend } from './types.js';

interface FileMetadata {
  classes?: string[];
  preprocessing?: PreprocessingJSON;
  testFlip: boolean;
}

function metadataOf(path: string, bytes: Uint8Array): FileMetadata {
  let props: Record<string, string>;
  try {
    props = Object.fromEntries(fromBinary(ModelProtoSchema, bytes).metadataProps.map((p) => [p.key, p.value]));
  } catch (e) {
    throw new Error(`${path} is not an ONNX model: ${(e as Error).message}`);
  }
  const json = (key: string): unknown => {
    try {
      return JSON.parse(props[key] as string);
    } catch (e) {
      throw new Error(`${path}: metadata '${key}' is not JSON: ${(e as Error).message}`);
    }
  };
  const flip = props.test_time_flip;
  if (flip !== undefined && flip !== 'true' && flip !== 'false') throw new Error(`${path}: metadata 'test_time_flip' must be "true" or "false", got ${JSON.stringify(flip)}`);
  const out: FileMetadata = { testFlip: flip === 'true' };
  if (props.classes !== undefined) {
    const c = z.array(z.string()).min(1).safeParse(json('classes'));
    if (!c.success) throw new Error(`${path}: metadata 'classes' must be a JSON array of names: ${formatIssues(c.error.issues)}`);
    out.classes = c.data;
  }
  // Checked here, at load, so a file the image route cannot use is refused before the server is ready.
  if (props.preprocessing !== undefined) out.preprocessing = Preprocessing.fromJSON(json('preprocessing'), `${path}: metadata 'preprocessing'`).toJSON();
  return out;
}

export async function loadOnnxBackend(path: string, threads: number): Promise<Backend> {
  const bytes = await readFile(path);
  const { classes, preprocessing, testFlip } = metadataOf(path, bytes);
  const ort = await import('onnxruntime-node');
  // No spinning between runs: the cores are shared with the event loop and the image decoder.
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const input = session.inputMetadata[0];
  if (session.inputNames.length !== 1 || !input?.isTensor || input.type !== 'float32' || input.shape.length !== 4)
    throw new Error(`${path}: the server takes models with one float32 (batch, C, H, W) input; this one has ${session.inputMetadata.map((m) => (m.isTensor ? `${m.name}: ${m.type} [${m.shape.join(', ')}]` : `${m.name}: not a tensor`)).join('; ')}`);
  // (C, H, W) from the graph where it is fixed, else from the preprocessing metadata.
  const fixed = input.shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
  const fromMeta = preprocessing ? [preprocessing.input.channels, preprocessing.input.height, preprocessing.input.width] : [];
  const chw = fixed.map((d, i) => d ?? fromMeta[i]);
  if (chw.some((d) => d === undefined)) throw new Error(`${path}: input '${input.name}' has shape [${input.shape.join(', ')}] and the file has no preprocessing metadata to fix its size`);
  if (preprocessing && fromMeta.some((d, i) => d !== chw[i])) throw new Error(`${path}: input '${input.name}' is [${input.shape.join(', ')}] but the preprocessing metadata makes (${fromMeta.join(', ')}) images`);
  const outputName = session.outputNames[0];
  if (outputName === undefined) throw new Error(`${path}: the model has no output`);
  return {
    info: {
      backend: 'onnx',
      input: { name: input.name, shape: chw as [number, number, number] },
      output: { name: outputName, size: 0 },
      ...(classes ? { classes } : {}),
      ...(preprocessing ? { preprocessing } : {}),
      testFlip,
    },
    async infer(batch, shape) {
      const out = (await session.run({ [input.name]: new ort.Tensor('float32', batch, shape) }, [outputName]))[outputName];
      if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== shape[0])
        throw new Error(`output '${outputName}' is ${out ? `${out.type} [${out.dims.join(', ')}]` : 'missing'} for a batch of ${shape[0]}; expected float32 (batch, classes)`);
      // A copy in a buffer of its own, which the worker hands to the main thread without copying again.
      return new Float32Array(out.data as Float32Array);
    },
    async dispose() {
      await session.release();
    },
  };
}
