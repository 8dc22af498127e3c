// Makes a model directory ready for superposed decoding: writes onnx/model_embeds.onnx (the
// decoder taking inputs_embeds, sharing the external weight files of onnx/<variant>.onnx) and the
// token-embedding table as model.safetensors when the directory has no such tensor, and records
// both in config.json under "specter". Existing files other than config.json are never changed.
// No onnxruntime and no vscode here: the CLI, the server and the extension can all call it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { convertToEmbeds, ConvertError, onnxTypes, type EmbeddingInfo } from './onnx-embeds';

export { ConvertError };

export interface ConvertOptions {
  /** ONNX file stem under onnx/ to convert (default "model"). */
  variant?: string;
  /** Replace an existing onnx/model_embeds.onnx. */
  force?: boolean;
  log?: (message: string) => void;
}

export interface ConvertReport {
  embedsPath: string;
  /** Where the embedding table is read from, and the tensor name. */
  tablePath: string;
  tableTensor: string;
  /** False when model.safetensors already held the table. */
  wroteTable: boolean;
  rows: number;
  hidden: number;
  nShapeOnlyConsumers: number;
}

const tableTensor = 'model.embed_tokens.weight';
const knownEmbeddingNames = ['model.embed_tokens.weight', 'embed_tokens.weight', 'transformer.wte.weight', 'model.embed_in.weight', 'gpt_neox.embed_in.weight', 'wte.weight'];

export async function convertModelDir(dir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const log = options.log ?? (() => undefined);
  const variant = options.variant ?? 'model';
  const onnxDir = path.join(dir, 'onnx');
  const source = path.join(onnxDir, `${variant}.onnx`);
  const target = path.join(onnxDir, 'model_embeds.onnx');
  const configPath = path.join(dir, 'config.json');
  const config = JSON.parse(await readText(configPath, `${dir} has no config.json`)) as Record<string, unknown>;
  if (!options.force && (await exists(target))) throw new ConvertError(`${target} already exists (use --force to replace it)`);

  const bytes = await fs.readFile(source).catch(() => {
    throw new ConvertError(`${source} not found — give the model directory (config.json, onnx/${variant}.onnx)`);
  });
  const converted = convertToEmbeds(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { embedding } = converted;
  const hidden = embedding.dims[1];
  const configHidden = config['hidden_size'] ?? config['n_embd'] ?? config['d_model'];
  if (typeof configHidden === 'number' && configHidden !== hidden) {
    throw new ConvertError(`the embedding ${embedding.name} is [${embedding.dims.join(', ')}] but config.json says hidden size ${configHidden}`);
  }

  // The table first: a failure leaves no half-converted directory behind.
  const tablePath = path.join(dir, 'model.safetensors');
  let tensorName = tableTensor;
  let wroteTable = false;
  const existing = await existingEmbedding(tablePath, hidden);
  if (existing !== undefined) {
    tensorName = existing;
    log(`model.safetensors already holds ${existing}; keeping it`);
  } else if (await exists(tablePath)) {
    throw new ConvertError(`${tablePath} exists but has no [vocab, ${hidden}] embedding tensor; move it away or add the tensor`);
  } else {
    const data = await embeddingBytes(onnxDir, embedding);
    await fs.writeFile(tablePath, safetensors(tableTensor, embedding, data));
    wroteTable = true;
    log(`wrote ${path.relative(dir, tablePath)}: ${tableTensor} [${embedding.dims.join(', ')}] from ${embedding.name}`);
  }
  await fs.writeFile(target, converted.bytes);
  log(`wrote ${path.relative(dir, target)} (${converted.nShapeOnlyConsumers} shape-only readers of input_ids fed a stand-in)`);

  const specter = typeof config['specter'] === 'object' && config['specter'] !== null ? (config['specter'] as Record<string, unknown>) : {};
  config['specter'] = { ...specter, embeds_model: 'onnx/model_embeds.onnx', embedding_table: { file: 'model.safetensors', tensor: tensorName } };
  await fs.writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { embedsPath: target, tablePath, tableTensor: tensorName, wroteTable, rows: embedding.dims[0], hidden, nShapeOnlyConsumers: converted.nShapeOnlyConsumers };
}

async function readText(file: string, missing: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new ConvertError(missing);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** The name of a [vocab, hidden] embedding tensor in an existing safetensors file, if any. */
async function existingEmbedding(file: string, hidden: number): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    const header = Buffer.alloc(n);
    await handle.read(header, 0, n, 8);
    const entries = JSON.parse(header.toString('utf8')) as Record<string, { shape?: number[] }>;
    const names = [...knownEmbeddingNames, ...Object.keys(entries).filter((k) => k.endsWith('embed_tokens.weight'))];
    return names.find((k) => entries[k]?.shape?.length === 2 && entries[k]?.shape?.[1] === hidden);
  } finally {
    await handle.close();
  }
}

async function embeddingBytes(onnxDir: string, e: EmbeddingInfo): Promise<Uint8Array> {
  const nBytes = e.dims[0] * e.dims[1] * (e.dataType === onnxTypes.float ? 4 : 2);
  if (e.source.kind === 'inline') {
    if (e.source.bytes.length !== nBytes) throw new ConvertError(`the embedding ${e.name} holds ${e.source.bytes.length} bytes, expected ${nBytes}`);
    return e.source.bytes;
  }
  const file = path.join(onnxDir, e.source.location);
  if (e.source.length !== undefined && e.source.length !== nBytes) throw new ConvertError(`the embedding ${e.name} is ${e.source.length} bytes in ${e.source.location}, expected ${nBytes}`);
  const handle = await fs.open(file, 'r').catch(() => {
    throw new ConvertError(`the embedding ${e.name} lives in ${file}, which is missing`);
  });
  try {
    const buf = Buffer.alloc(nBytes);
    const { bytesRead } = await handle.read(buf, 0, nBytes, e.source.offset);
    if (bytesRead !== nBytes) throw new ConvertError(`${file} ends before the embedding ${e.name} (${bytesRead} of ${nBytes} bytes)`);
    return buf;
  } finally {
    await handle.close();
  }
}

/** A one-tensor safetensors file: u64 header length, JSON header (8-byte aligned), data. */
function safetensors(name: string, e: EmbeddingInfo, data: Uint8Array): Buffer {
  const dtype = e.dataType === onnxTypes.float ? 'F32' : e.dataType === onnxTypes.float16 ? 'F16' : 'BF16';
  let header = JSON.stringify({ __metadata__: { format: 'pt', source: `onnx initializer ${e.name}` }, [name]: { dtype, shape: e.dims, data_offsets: [0, data.length] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([len, Buffer.from(header), data]);
}
