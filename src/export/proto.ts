// The graph as an ONNX ModelProto, encoded by protobuf-es with the messages generated from ONNX's
// own onnx.proto (generated/onnx_pb.ts; see scripts/gen-onnx-proto.mjs).
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';

import type { DType } from '../tensor/dtype.js';
import type { Attr, Graph, Initializer, Value } from './graph.js';
import {
  AttributeProto_AttributeType as AttrType,
  ModelProtoSchema,
  TensorProto_DataType as DataType,
  type AttributeProtoSchema,
  type TensorProtoSchema,
  type ValueInfoProtoSchema,
} from './generated/onnx_pb.js';

/** IR version 8 (ONNX 1.10–1.12) carries every opset the exporter writes (13–17). */
export const IR_VERSION = 8;
/** The name of the symbolic batch dimension of inputs and outputs. */
export const BATCH_DIM = 'batch';

const DATA_TYPES: Record<DType, DataType> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  float16: DataType.FLOAT16,
  bfloat16: DataType.BFLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int16: DataType.INT16,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

/** ONNX's TensorProto.DataType for a Tessera dtype. */
export function onnxDataType(d: DType): number {
  return DATA_TYPES[d];
}

export interface ModelInfo {
  opset: number;
  producerVersion: string;
  graphName: string;
  docString?: string;
  /** metadata_props: strings a reader of the file finds without the training code. */
  metadata: Readonly<Record<string, string>>;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function serializeModel(graph: Graph, info: ModelInfo): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [{ domain: '', version: BigInt(info.opset) }],
    producerName: 'tessera',
    producerVersion: info.producerVersion,
    ...(info.docString ? { docString: info.docString } : {}),
    metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: info.graphName,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([name, a]) => attribute(name, a)),
      })),
      initializer: [...graph.initializers.values()].map(tensorProto),
      input: graph.inputs.map((v) => valueInfo(v, true)),
      output: graph.outputs.map((v) => valueInfo(v, v.batchAxis !== null || graph.inputs.every((i) => i.batchAxis === null))),
    },
  });
  return toBinary(ModelProtoSchema, model);
}

/**
 * A graph input or output: element type and shape, the batch axis symbolic. An output whose batch
 * axis the trace lost (a reshape merged it into another axis) while the inputs' batch is free gets
 * dimensions of unknown size, rather than the trace's sizes, which would be wrong at other batches.
 */
function valueInfo(v: Value, sizesKnown: boolean): MessageInitShape<typeof ValueInfoProtoSchema> {
  const dim = v.shape.map((d, i) =>
    !sizesKnown ? {} : i === v.batchAxis ? { value: { case: 'dimParam' as const, value: BATCH_DIM } } : { value: { case: 'dimValue' as const, value: BigInt(d) } },
  );
  return { name: v.name, type: { value: { case: 'tensorType', value: { elemType: DATA_TYPES[v.dtype], shape: { dim } } } } };
}

function tensorProto(t: Initializer): MessageInitShape<typeof TensorProtoSchema> {
  return { name: t.name, dims: t.shape.map((d) => BigInt(d)), dataType: DATA_TYPES[t.dtype], rawData: t.data };
}

function attribute(name: string, a: Attr): MessageInitShape<typeof AttributeProtoSchema> {
  switch (a.type) {
    case 'int': return { name, type: AttrType.INT, i: BigInt(a.value) };
    case 'float': return { name, type: AttrType.FLOAT, f: a.value };
    case 'ints': return { name, type: AttrType.INTS, ints: a.value.map((v) => BigInt(v)) };
    case 'floats': return { name, type: AttrType.FLOATS, floats: [...a.value] };
    case 'string': return { name, type: AttrType.STRING, s: utf8(a.value) };
    case 'strings': return { name, type: AttrType.STRINGS, strings: a.value.map(utf8) };
  }
}
