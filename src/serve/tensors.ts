// The Open Inference Protocol's (KServe v2) JSON tensors: an infer request's `inputs` checked
// against the model (name, datatype, shape, element count and type) with a 400 that names the field
// at fault, and the answer's `outputs`. `data` may be flat (row-major) or nested to match `shape`,
// as the protocol allows.
import type { ModelInfo } from './backend/types.js';
import { badRequest } from './errors.js';

export interface InferInput {
  /** The request's `id`, echoed in the answer. */
  id?: string;
  /** (n, C, H, W) row-major. */
  data: Float32Array;
  n: number;
}

export interface OutputTensor {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: number[];
}

const describe = (v: unknown): string => (v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `parameters` may carry hints; this server has none to act on, so any hint but the ones that ask
 * for what it does anyway (JSON rather than binary tensors) is refused rather than ignored.
 */
function checkParameters(p: unknown, where: string): void {
  if (p === undefined) return;
  if (!isObject(p)) throw badRequest(`${where}parameters must be an object, got ${describe(p)}`);
  for (const [k, v] of Object.entries(p)) {
    if ((k === 'binary_data' || k === 'binary_data_output') && v === false) continue;
    throw badRequest(`${where}parameters.${k} is not supported by this server (it answers JSON tensors and takes no hints)`);
  }
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw badRequest(`${where}unknown field '${k}' (fields: ${allowed.join(', ')})`);
}

/** Copies nested or flat `data` into `out`, checking the nesting against `shape` and every element. */
function fill(data: unknown[], shape: readonly number[], out: Float32Array, where: string): void {
  let at = 0;
  const put = (v: unknown, path: string) => {
    if (typeof v !== 'number') throw badRequest(`${where}: data${path} is ${describe(v)}, not a number`);
    const f = Math.fround(v);
    if (!Number.isFinite(f)) throw badRequest(`${where}: data${path} (${v}) is outside float32's range`);
    out[at++] = f;
  };
  if (!Array.isArray(data[0])) {
    if (data.length !== out.length) throw badRequest(`${where}: shape [${shape.join(', ')}] holds ${out.length} values but data has ${data.length}`);
    data.forEach((v, i) => put(v, `[${i}]`));
    return;
  }
  // Nested: each level as long as its dimension, numbers only at the innermost level.
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) return put(v, path);
    if (!Array.isArray(v)) throw badRequest(`${where}: data${path} is ${describe(v)}, expected an array of ${shape[depth]} (shape [${shape.join(', ')}])`);
    if (v.length !== shape[depth]) throw badRequest(`${where}: data${path} has ${v.length} entries, expected ${shape[depth]} (shape [${shape.join(', ')}])`);
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
}

/** An infer request body → the samples for the batcher, or a 400 naming what does not fit the model. */
export function parseInferRequest(body: unknown, info: ModelInfo, maxBatchSize: number): InferInput {
  if (!isObject(body)) throw badRequest(`the request body must be a JSON object with 'inputs', got ${describe(body)}`);
  checkKeys(body, ['id', 'parameters', 'inputs', 'outputs'], '');
  if (body.id !== undefined && typeof body.id !== 'string') throw badRequest(`id must be a string, got ${describe(body.id)}`);
  checkParameters(body.parameters, '');
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw badRequest(`inputs must be a non-empty array of tensors, got ${describe(inputs)}`);
  const want = info.input;
  if (inputs.length !== 1) throw badRequest(`the model takes one input ('${want.name}'), got ${inputs.length}`);
  const input: unknown = inputs[0];
  if (!isObject(input)) throw badRequest(`inputs[0] must be an object {name, shape, datatype, data}, got ${describe(input)}`);
  checkKeys(input, ['name', 'shape', 'datatype', 'parameters', 'data'], 'inputs[0]: ');
  if (input.name !== want.name) throw badRequest(`inputs[0].name is ${JSON.stringify(input.name)}; the model's input is '${want.name}'`);
  const where = `input '${want.name}'`;
  checkParameters(input.parameters, `${where}: `);
  if (input.datatype !== 'FP32') throw badRequest(`${where}: datatype ${JSON.stringify(input.datatype)} is not the model's FP32`);
  const shape = input.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0))
    throw badRequest(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  const expected = `[n, ${want.shape.join(', ')}] with n from 1 to ${maxBatchSize}`;
  if (shape.length !== 4 || want.shape.some((d, i) => shape[i + 1] !== d)) throw badRequest(`${where}: shape [${shape.join(', ')}] does not fit the model, which takes ${expected}`);
  const n = shape[0] as number;
  if (n < 1 || n > maxBatchSize) throw badRequest(`${where}: a batch of ${n} is outside 1 to ${maxBatchSize} (the model's max batch size)`);
  if (!Array.isArray(input.data)) throw badRequest(`${where}: data must be an array of numbers, got ${describe(input.data)}`);
  const data = new Float32Array(shape.reduce((a: number, b: number) => a * b, 1));
  fill(input.data, shape as number[], data, where);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw badRequest(`outputs must be an array, got ${describe(body.outputs)}`);
    body.outputs.forEach((o: unknown, i) => {
      if (!isObject(o)) throw badRequest(`outputs[${i}] must be an object {name}, got ${describe(o)}`);
      checkKeys(o, ['name', 'parameters'], `outputs[${i}]: `);
      if (o.name !== info.output.name) throw badRequest(`outputs[${i}].name is ${JSON.stringify(o.name)}; the model's output is '${info.output.name}'`);
      checkParameters(o.parameters, `outputs[${i}]: `);
    });
  }
  return { ...(body.id !== undefined ? { id: body.id } : {}), data, n };
}

export function outputTensor(info: ModelInfo, logits: Float32Array, n: number): OutputTensor {
  return { name: info.output.name, datatype: 'FP32', shape: [n, info.output.size], data: Array.from(logits) };
}
