// Reads one tensor (the token-embedding table) out of model.safetensors without loading the rest.
// Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets:[begin,end]}},
// then the data block; offsets are relative to the data block.
import { promises as fs } from 'node:fs';
import { halfToFloat } from './half';
import { errorText, fail, ok, type Outcome } from './outcome';

export interface EmbeddingTable {
  /** [vocab, hidden], row-major. */
  data: Float32Array;
  nRows: number;
  hidden: number;
  tensorName: string;
}

/** Names the embedding matrix has in the common architectures, most likely first. */
const embeddingNames = ['model.embed_tokens.weight', 'embed_tokens.weight', 'transformer.wte.weight', 'model.embed_in.weight', 'gpt_neox.embed_in.weight', 'wte.weight'];

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** `preferredName` comes from config.json ("specter": {"embedding_table": {"tensor": …}}) when the model says. */
export async function readEmbeddingTable(file: string, hidden: number, preferredName?: string): Promise<Outcome<EmbeddingTable>> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    return fail('missing-file', `Cannot open ${file} (${errorText(e)}) — superposed decoding needs model.safetensors next to config.json.`);
  }
  try {
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const nHeader = Number(lenBuf.readBigUInt64LE(0));
    const { size } = await handle.stat();
    if (nHeader <= 0 || 8 + nHeader > size) return fail('bad-onnx', `${file} has a header of ${nHeader} bytes in a ${size}-byte file — the file is damaged; re-download it.`);
    const headerBuf = Buffer.alloc(nHeader);
    await handle.read(headerBuf, 0, nHeader, 8);
    const header = JSON.parse(headerBuf.toString('utf8')) as Record<string, TensorEntry | Record<string, string>>;
    const name = [preferredName, ...embeddingNames].find((n) => n !== undefined && n in header) ?? Object.keys(header).find((n) => n.endsWith('embed_tokens.weight'));
    const entry = name === undefined ? undefined : (header[name] as TensorEntry | undefined);
    if (name === undefined || entry === undefined) {
      return fail('bad-onnx', `${file} has no token-embedding tensor (looked for ${embeddingNames.slice(0, 3).join(', ')}) — superposed decoding is unavailable for this model.`);
    }
    const [nRows = 0, width = 0] = entry.shape;
    if (entry.shape.length !== 2 || width !== hidden) {
      return fail('shape-mismatch', `${file}: ${name} has shape [${entry.shape.join(', ')}], expected [vocab, ${hidden}] — model.safetensors and config.json come from different models.`);
    }
    const [begin, end] = entry.data_offsets;
    const bytes = Buffer.alloc(end - begin);
    await handle.read(bytes, 0, bytes.length, 8 + nHeader + begin);
    const n = nRows * width;
    let data: Float32Array;
    if (entry.dtype === 'F32' && bytes.length === 4 * n) {
      data = new Float32Array(n);
      new Uint8Array(data.buffer).set(bytes);
    } else if ((entry.dtype === 'F16' || entry.dtype === 'BF16') && bytes.length === 2 * n) {
      const halves = new Uint16Array(n);
      new Uint8Array(halves.buffer).set(bytes);
      data = entry.dtype === 'F16' ? halfToFloat(halves) : bfloatToFloat(halves);
    } else {
      return fail('bad-onnx', `${file}: ${name} is ${entry.dtype} with ${bytes.length} bytes for ${n} values — unsupported or damaged; re-download the model.`);
    }
    return ok({ data, nRows, hidden: width, tensorName: name });
  } catch (e) {
    return fail('bad-onnx', `Cannot read the embedding table from ${file} (${errorText(e)}) — the file is damaged; re-download it.`);
  } finally {
    await handle.close();
  }
}

/** bfloat16 is the top half of a float32. */
function bfloatToFloat(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = (src[i] ?? 0) << 16;
  return new Float32Array(bits.buffer);
}
