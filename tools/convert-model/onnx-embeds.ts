// Rewrites a decoder ONNX graph that takes `input_ids` into one that takes `inputs_embeds`
// [batch, sequence, hidden]: the token-embedding Gather is replaced by an Identity of the new
// input, and, when other nodes read input_ids only for its shape (attention-mask and position
// arithmetic in many exports), a zero-filled ids tensor of the right shape stands in for it.
// Initializers keep their external-data references, so the new graph next to the old one shares
// the weight files (*.onnx_data) untouched. Also locates the embedding matrix for extraction.
import {
  concat,
  firstString,
  int64s,
  lenField,
  parseFields,
  strings,
  varintField,
  type WireField,
} from './protobuf-wire';

// ModelProto / GraphProto / NodeProto / ValueInfoProto / TensorProto field numbers (onnx.proto).
const MODEL_GRAPH = 7;
const MODEL_OPSET = 8;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP = 4;
const NODE_ATTRIBUTE = 5;
const ATTR_NAME = 1;
const ATTR_T = 5;
const ATTR_TYPE = 20;
const ATTR_TYPE_TENSOR = 4;
const VALUE_NAME = 1;
const VALUE_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_ELEM = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_NAME = 8;
const TENSOR_RAW = 9;
const TENSOR_EXTERNAL = 13;
const TENSOR_LOCATION = 14;

/** ONNX TensorProto.DataType values this tool handles. */
export const onnxTypes = { float: 1, int32: 6, int64: 7, float16: 10, bfloat16: 16 } as const;

export type EmbeddingSource =
  | { kind: 'inline'; bytes: Uint8Array }
  | { kind: 'external'; location: string; offset: number; length: number | undefined };

export interface EmbeddingInfo {
  /** Initializer name in the graph. */
  name: string;
  /** [rows, hidden] */
  dims: [number, number];
  dataType: number;
  source: EmbeddingSource;
}

export interface ConvertedGraph {
  /** The inputs_embeds graph, serialised. */
  bytes: Uint8Array;
  embedding: EmbeddingInfo;
  /** Nodes other than the embedding lookup that read input_ids (fed a zero stand-in). */
  nShapeOnlyConsumers: number;
}

export class ConvertError extends Error {}

interface NodeInfo {
  raw: Uint8Array;
  inputs: string[];
  outputs: string[];
  op: string;
  name: string;
  fields: WireField[];
}

function nodeInfo(f: WireField): NodeInfo {
  const fields = parseFields(f.payload);
  return { raw: f.raw, inputs: strings(fields, NODE_INPUT), outputs: strings(fields, NODE_OUTPUT), op: firstString(fields, NODE_OP) ?? '', name: firstString(fields, NODE_NAME) ?? '', fields };
}

function contains(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle));
}

export function convertToEmbeds(modelBytes: Uint8Array): ConvertedGraph {
  const model = parseFields(modelBytes);
  const graphField = model.find((f) => f.field === MODEL_GRAPH && f.wire === 2);
  if (graphField === undefined) throw new ConvertError('the file has no graph (not an ONNX ModelProto?)');
  const graph = parseFields(graphField.payload);
  const inputs = graph.filter((f) => f.field === GRAPH_INPUT);
  const inputNames = inputs.map((f) => firstString(parseFields(f.payload), VALUE_NAME));
  if (inputNames.includes('inputs_embeds')) throw new ConvertError('the graph already takes inputs_embeds');
  const idsField = inputs.find((_, i) => inputNames[i] === 'input_ids');
  if (idsField === undefined) throw new ConvertError(`the graph has no input_ids input (inputs: ${inputNames.join(', ')})`);

  const nodes = graph.filter((f) => f.field === GRAPH_NODE).map(nodeInfo);
  const initializers = new Map<string, WireField[]>();
  for (const f of graph.filter((g) => g.field === GRAPH_INITIALIZER)) {
    const fields = parseFields(f.payload);
    initializers.set(firstString(fields, TENSOR_NAME) ?? '', fields);
  }

  // input_ids, possibly through Cast / Identity, indexes a rank-2 initializer: the embedding.
  const idsLike = new Set(['input_ids']);
  for (const n of nodes) if ((n.op === 'Cast' || n.op === 'Identity') && idsLike.has(n.inputs[0] ?? '')) n.outputs.forEach((o) => idsLike.add(o));
  const gather = nodes.find((n) => n.op === 'Gather' && idsLike.has(n.inputs[1] ?? '') && int64s(initializers.get(n.inputs[0] ?? '') ?? [], TENSOR_DIMS).length === 2);
  if (gather === undefined) {
    const users = nodes.filter((n) => n.inputs.some((i) => idsLike.has(i))).map((n) => n.op);
    throw new ConvertError(`no Gather of input_ids from a [vocab, hidden] initializer (input_ids feeds: ${users.join(', ') || 'nothing'}) — quantized embeddings are not supported; convert the float variant`);
  }
  for (const n of nodes) {
    if (n.fields.some((a) => a.field === NODE_ATTRIBUTE && contains(a.payload, 'input_ids'))) {
      throw new ConvertError(`node ${n.name || n.op} reads input_ids inside a subgraph (merged decoder?) — export a plain decoder-with-past graph`);
    }
  }
  const embeddingName = gather.inputs[0] as string;
  const embedding = embeddingInfo(embeddingName, initializers.get(embeddingName) as WireField[]);
  const gatherOut = gather.outputs[0];
  if (gatherOut === undefined) throw new ConvertError('the embedding Gather has no output');

  const kept = nodes.filter((n) => n !== gather);
  const shapeUsers = kept.filter((n) => n.inputs.includes('input_ids'));
  const idsType = elemType(idsField.payload) ?? onnxTypes.int64;
  const added: Uint8Array[] = [node('Identity', ['inputs_embeds'], [gatherOut], 'specter_embeds_identity')];
  if (shapeUsers.length > 0) {
    const opset = opsetVersion(model);
    if (opset < 10) throw new ConvertError(`input_ids is also read by ${shapeUsers.map((n) => n.op).join(', ')} and opset ${opset} < 10 has no Slice with inputs`);
    added.push(
      node('Shape', ['inputs_embeds'], ['specter_embeds_shape'], 'specter_embeds_shape'),
      constantInt64('specter_slice_starts', [0n]),
      constantInt64('specter_slice_ends', [2n]),
      node('Slice', ['specter_embeds_shape', 'specter_slice_starts', 'specter_slice_ends'], ['specter_ids_shape'], 'specter_ids_shape'),
      node('ConstantOfShape', ['specter_ids_shape'], ['input_ids'], 'specter_ids_standin', [tensorAttribute('value', tensor('', idsType, [1n], new Uint8Array(idsType === onnxTypes.int32 ? 4 : 8)))]),
    );
  }
  const stillUsed = kept.some((n) => n.inputs.includes(embeddingName) || n.fields.some((a) => a.field === NODE_ATTRIBUTE && contains(a.payload, embeddingName)));

  const out: Uint8Array[] = [];
  let nodesWritten = false;
  for (const f of graph) {
    if (f.field === GRAPH_NODE) {
      if (!nodesWritten) {
        out.push(...added.map((n) => lenField(GRAPH_NODE, n)));
        out.push(...kept.map((n) => n.raw));
        nodesWritten = true;
      }
    } else if (f.field === GRAPH_INITIALIZER && !stillUsed && firstString(parseFields(f.payload), TENSOR_NAME) === embeddingName) {
      continue;
    } else if (f === idsField) {
      out.push(lenField(GRAPH_INPUT, embedsValueInfo(idsField.payload, embedding.dataType, embedding.dims[1])));
    } else {
      out.push(f.raw);
    }
  }
  const newGraph = concat(out);
  const bytes = concat(model.map((f) => (f === graphField ? lenField(MODEL_GRAPH, newGraph) : f.raw)));
  return { bytes, embedding, nShapeOnlyConsumers: shapeUsers.length };
}

function embeddingInfo(name: string, t: WireField[]): EmbeddingInfo {
  const dims = int64s(t, TENSOR_DIMS).map(Number);
  const dataType = Number(t.find((f) => f.field === TENSOR_DATA_TYPE)?.varint ?? 0n);
  if (![onnxTypes.float, onnxTypes.float16, onnxTypes.bfloat16].includes(dataType as 1)) {
    throw new ConvertError(`the embedding ${name} has ONNX data type ${dataType}; only float32, float16 and bfloat16 are supported (quantized variant? convert the float one)`);
  }
  const location = t.find((f) => f.field === TENSOR_LOCATION)?.varint ?? 0n;
  let source: EmbeddingSource;
  if (location === 1n) {
    const entries = new Map<string, string>();
    for (const e of t.filter((f) => f.field === TENSOR_EXTERNAL)) {
      const kv = parseFields(e.payload);
      entries.set(firstString(kv, 1) ?? '', firstString(kv, 2) ?? '');
    }
    const file = entries.get('location');
    if (file === undefined) throw new ConvertError(`the embedding ${name} is external but names no location`);
    const length = entries.get('length');
    source = { kind: 'external', location: file, offset: Number(entries.get('offset') ?? 0), length: length === undefined ? undefined : Number(length) };
  } else {
    const raw = t.find((f) => f.field === TENSOR_RAW);
    if (raw !== undefined) source = { kind: 'inline', bytes: raw.payload };
    else if (dataType === onnxTypes.float) source = { kind: 'inline', bytes: floatData(t) };
    else throw new ConvertError(`the embedding ${name} keeps its values in a typed field this tool does not read`);
  }
  return { name, dims: [dims[0] ?? 0, dims[1] ?? 0], dataType, source };
}

/** float_data (field 4), packed or not, as little-endian bytes. */
function floatData(t: WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of t) if (f.field === TENSOR_FLOAT_DATA) parts.push(f.payload);
  return concat(parts);
}

function opsetVersion(model: WireField[]): number {
  for (const f of model.filter((m) => m.field === MODEL_OPSET)) {
    const fields = parseFields(f.payload);
    const domain = firstString(fields, 1) ?? '';
    if (domain === '' || domain === 'ai.onnx') return Number(fields.find((x) => x.field === 2)?.varint ?? 0n);
  }
  return 0;
}

function elemType(valueInfo: Uint8Array): number | undefined {
  const type = parseFields(valueInfo).find((f) => f.field === VALUE_TYPE);
  const tensor = type === undefined ? undefined : parseFields(type.payload).find((f) => f.field === TYPE_TENSOR);
  const elem = tensor === undefined ? undefined : parseFields(tensor.payload).find((f) => f.field === TENSOR_TYPE_ELEM);
  return elem === undefined ? undefined : Number(elem.varint);
}

/** inputs_embeds: input_ids' [batch, sequence] dims (symbolic names kept) + [hidden]. */
function embedsValueInfo(idsValueInfo: Uint8Array, dataType: number, hidden: number): Uint8Array {
  const type = parseFields(idsValueInfo).find((f) => f.field === VALUE_TYPE);
  const tensor = type === undefined ? undefined : parseFields(type.payload).find((f) => f.field === TYPE_TENSOR);
  const shape = tensor === undefined ? undefined : parseFields(tensor.payload).find((f) => f.field === TENSOR_TYPE_SHAPE);
  const dims = shape === undefined ? [] : parseFields(shape.payload).filter((f) => f.field === SHAPE_DIM).map((f) => f.raw);
  const newShape = concat([...dims, lenField(SHAPE_DIM, varintField(DIM_VALUE, hidden))]);
  const newTensor = concat([varintField(TENSOR_TYPE_ELEM, dataType), lenField(TENSOR_TYPE_SHAPE, newShape)]);
  return concat([lenField(VALUE_NAME, 'inputs_embeds'), lenField(VALUE_TYPE, lenField(TYPE_TENSOR, newTensor))]);
}

function node(op: string, inputs: string[], outputs: string[], name: string, attributes: Uint8Array[] = []): Uint8Array {
  return concat([
    ...inputs.map((i) => lenField(NODE_INPUT, i)),
    ...outputs.map((o) => lenField(NODE_OUTPUT, o)),
    lenField(NODE_NAME, name),
    lenField(NODE_OP, op),
    ...attributes.map((a) => lenField(NODE_ATTRIBUTE, a)),
  ]);
}

function tensor(name: string, dataType: number, dims: bigint[], raw: Uint8Array): Uint8Array {
  return concat([...dims.map((d) => varintField(TENSOR_DIMS, d)), varintField(TENSOR_DATA_TYPE, dataType), ...(name === '' ? [] : [lenField(TENSOR_NAME, name)]), lenField(TENSOR_RAW, raw)]);
}

function tensorAttribute(name: string, t: Uint8Array): Uint8Array {
  return concat([lenField(ATTR_NAME, name), lenField(ATTR_T, t), varintField(ATTR_TYPE, ATTR_TYPE_TENSOR)]);
}

function constantInt64(output: string, values: bigint[]): Uint8Array {
  const raw = new Uint8Array(8 * values.length);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return node('Constant', [], [output], output, [tensorAttribute('value', tensor('', onnxTypes.int64, [BigInt(values.length)], raw))]);
}
