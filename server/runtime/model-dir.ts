// Inspects a model directory against the DESIGN.md contract before any ONNX session is created:
// config.json, tokenizer.json (+ tokenizer_config.json, generation_config.json), onnx/<variant>.onnx
// with optional external data. Every problem becomes an Outcome error that says what to do.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { errorText, fail, formatBytes, ok, type Outcome } from './outcome';

export type Json = Record<string, unknown>;

/** Model dimensions as config.json states them (the session's own metadata is checked against these). */
export interface ConfigDims {
  modelType: string;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  /** MLP width; undefined when config.json does not say. */
  intermediate: number | undefined;
  /** config.json vocab_size: the logits width the model was built with. */
  vocab: number;
  /** Longest sequence in tokens. */
  contextLength: number;
  tiedEmbeddings: boolean;
  /** eos_token_id from config.json and generation_config.json (either may be a list). */
  eosTokenIds: number[];
}

export interface ModelDirInfo {
  dir: string;
  /** Directory base name, shown in the status bar. */
  name: string;
  dims: ConfigDims;
  config: Json;
  tokenizerJson: Json;
  /** {} when the directory has no tokenizer_config.json. */
  tokenizerConfig: Json;
  generationConfig: Json;
  variant: string;
  onnxPath: string;
  /** Graph plus external data files, in bytes. */
  nOnnxBytes: number;
  /** The graph first, then its external data files: paths relative to dir ("onnx/model.onnx_data"). */
  onnxFiles: { rel: string; nBytes: number }[];
  /** onnx/model_embeds.onnx (inputs_embeds instead of input_ids), for superposed decoding. */
  embedsOnnxPath: string | undefined;
  safetensorsPath: string | undefined;
  /** "specter_fim" from config.json or tokenizer_config.json. */
  fim: Json | undefined;
  warnings: string[];
}

const whatToDo = 'point specter.model at a model directory (config.json, tokenizer.json, onnx/model.onnx) or leave it empty for the embedded model';

export async function inspectModelDir(dir: string, variant: string): Promise<Outcome<ModelDirInfo>> {
  const stat = await statOrUndefined(dir);
  if (stat === undefined) return fail('missing-dir', `Model directory ${dir} does not exist — ${whatToDo}.`);
  if (!stat.isDirectory()) return fail('missing-dir', `${dir} is a file, not a model directory — ${whatToDo}.`);

  const config = await readJson(dir, 'config.json', 'bad-config', true);
  if (!config.ok) return config;
  const tokenizerJson = await readJson(dir, 'tokenizer.json', 'bad-tokenizer', true);
  if (!tokenizerJson.ok) return tokenizerJson;
  const model = tokenizerJson.value?.['model'];
  if (typeof model !== 'object' || model === null || !('vocab' in model)) {
    return fail('bad-tokenizer', `${path.join(dir, 'tokenizer.json')} has no "model" with a vocabulary — it is not a Hugging Face tokenizers file; re-export it with tokenizer.save_pretrained() or re-download the model.`);
  }
  const tokenizerConfig = await readJson(dir, 'tokenizer_config.json', 'bad-tokenizer', false);
  if (!tokenizerConfig.ok) return tokenizerConfig;
  const generationConfig = await readJson(dir, 'generation_config.json', 'bad-config', false);
  if (!generationConfig.ok) return generationConfig;

  const warnings: string[] = [];
  const dims = readDims(config.value ?? {}, generationConfig.value ?? {}, tokenizerConfig.value ?? {}, warnings);
  if (!dims.ok) return dims;

  const onnx = await findOnnx(dir, variant);
  if (!onnx.ok) return onnx;
  const embedsOnnxPath = path.join(dir, 'onnx', 'model_embeds.onnx');
  const safetensorsPath = path.join(dir, 'model.safetensors');
  const fim = asJson(config.value?.['specter_fim']) ?? asJson(tokenizerConfig.value?.['specter_fim']);
  return ok({
    dir,
    name: path.basename(path.resolve(dir)),
    dims: dims.value,
    config: config.value ?? {},
    tokenizerJson: tokenizerJson.value ?? {},
    tokenizerConfig: tokenizerConfig.value ?? {},
    generationConfig: generationConfig.value ?? {},
    variant,
    onnxPath: onnx.value.path,
    nOnnxBytes: onnx.value.files.reduce((sum, f) => sum + f.nBytes, 0),
    onnxFiles: onnx.value.files,
    embedsOnnxPath: (await statOrUndefined(embedsOnnxPath))?.isFile() ? embedsOnnxPath : undefined,
    safetensorsPath: (await statOrUndefined(safetensorsPath))?.isFile() ? safetensorsPath : undefined,
    fim,
    warnings,
  });
}

const gatedMlpTypes = new Set(['llama', 'qwen2', 'qwen3', 'mistral', 'mixtral', 'gemma', 'gemma2', 'phi3', 'olmo', 'granite', 'deepseek_v2']);

/** Parameters (approximate) implied by the config: embeddings, attention, MLP. */
export function nParams(d: ConfigDims): number {
  const attention = d.hidden * d.headDim * (2 * d.heads + 2 * d.kvHeads);
  // Gated MLPs (Llama family) have three matrices, GPT-2 style two.
  const mlp = (gatedMlpTypes.has(d.modelType) ? 3 : 2) * d.hidden * (d.intermediate ?? 4 * d.hidden);
  const embeddings = d.vocab * d.hidden * (d.tiedEmbeddings ? 1 : 2);
  return embeddings + d.layers * (attention + mlp);
}

async function findOnnx(dir: string, variant: string): Promise<Outcome<{ path: string; files: { rel: string; nBytes: number }[] }>> {
  const onnxDir = path.join(dir, 'onnx');
  const file = path.join(onnxDir, `${variant}.onnx`);
  const stat = await statOrUndefined(file);
  if (stat === undefined || !stat.isFile()) {
    const available = await listVariants(onnxDir);
    const hint =
      available.length === 0
        ? `the directory has no onnx/*.onnx at all — export the model to ONNX (decoder with past) or ${whatToDo}`
        : `available variants: ${available.join(', ')} — set specter.modelVariant to one of them`;
    return fail('missing-file', `${path.join('onnx', `${variant}.onnx`)} not found in ${dir}; ${hint}.`);
  }
  // External weights sit next to the graph: <variant>.onnx_data, _data_1, … or <variant>.onnx.data.
  const files = [{ rel: `onnx/${variant}.onnx`, nBytes: stat.size }];
  for (const name of (await readdirOrEmpty(onnxDir)).sort()) {
    if (name.startsWith(`${variant}.onnx_data`) || name.startsWith(`${variant}.onnx.data`)) {
      files.push({ rel: `onnx/${name}`, nBytes: (await statOrUndefined(path.join(onnxDir, name)))?.size ?? 0 });
    }
  }
  return ok({ path: file, files });
}

async function listVariants(onnxDir: string): Promise<string[]> {
  return (await readdirOrEmpty(onnxDir))
    .filter((n) => n.endsWith('.onnx') && n !== 'model_embeds.onnx')
    .map((n) => n.slice(0, -'.onnx'.length))
    .sort();
}

function readDims(config: Json, generation: Json, tokenizerConfig: Json, warnings: string[]): Outcome<ConfigDims> {
  const num = (...keys: string[]): number | undefined => {
    for (const key of keys) {
      const v = config[key];
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    }
    return undefined;
  };
  const missing = (what: string, keys: string[]): Outcome<ConfigDims> =>
    fail('bad-config', `config.json does not give ${what} (${keys.join(' / ')}) — this is not a decoder config the runtime understands; use a Llama/Qwen2/StarCoder-style model exported with Optimum.`);
  const layerKeys = ['num_hidden_layers', 'n_layer', 'num_layers'];
  const headKeys = ['num_attention_heads', 'n_head'];
  const hiddenKeys = ['hidden_size', 'n_embd', 'd_model'];
  const layers = num(...layerKeys);
  if (layers === undefined) return missing('the layer count', layerKeys);
  const heads = num(...headKeys);
  if (heads === undefined) return missing('the attention head count', headKeys);
  const hidden = num(...hiddenKeys);
  if (hidden === undefined) return missing('the hidden size', hiddenKeys);
  const vocab = num('vocab_size');
  if (vocab === undefined) return missing('the vocabulary size', ['vocab_size']);
  // MQA models (gpt_bigcode) say multi_query instead of a KV head count.
  const kvHeads = num('num_key_value_heads', 'n_head_kv') ?? (config['multi_query'] === true ? 1 : heads);
  const headDim = num('head_dim') ?? hidden / heads;
  if (!Number.isInteger(headDim)) {
    return fail('bad-config', `config.json: hidden_size ${hidden} is not divisible by num_attention_heads ${heads} and head_dim is not given — fix config.json.`);
  }
  if (heads % kvHeads !== 0) {
    return fail('bad-config', `config.json: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads} — fix config.json.`);
  }
  let contextLength = num('max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length');
  if (contextLength === undefined) {
    const fromTokenizer = tokenizerConfig['model_max_length'];
    contextLength = typeof fromTokenizer === 'number' && fromTokenizer < 1e7 ? fromTokenizer : 2048;
    warnings.push(`config.json has no max_position_embeddings; assuming a context of ${contextLength} tokens`);
  }
  const eos = new Set<number>();
  for (const v of [config['eos_token_id'], generation['eos_token_id']]) {
    for (const id of Array.isArray(v) ? v : [v]) if (typeof id === 'number') eos.add(id);
  }
  return ok({
    modelType: typeof config['model_type'] === 'string' ? config['model_type'] : 'unknown',
    layers,
    heads,
    kvHeads,
    headDim,
    hidden,
    intermediate: num('intermediate_size', 'n_inner', 'ffn_dim'),
    vocab,
    contextLength,
    tiedEmbeddings: config['tie_word_embeddings'] !== false,
    eosTokenIds: [...eos],
  });
}

type Code = 'bad-config' | 'bad-tokenizer';

/** Reads dir/name as a JSON object; a missing optional file gives undefined. */
async function readJson(dir: string, name: string, code: Code, required: boolean): Promise<Outcome<Json | undefined>> {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return ok(undefined);
      return fail('missing-file', `${dir} has no ${name} — a model directory needs config.json, tokenizer.json and onnx/model.onnx; copy ${name} from the original model or ${whatToDo}.`);
    }
    return fail(code, `Cannot read ${file}: ${errorText(e)} — check the file's permissions.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(code, `${name} in ${dir} is not valid JSON (${errorText(e)}; ${formatBytes(text.length)} read) — the file is damaged or truncated; re-download the model.`);
  }
  const json = asJson(parsed);
  if (json === undefined) return fail(code, `${name} in ${dir} is not a JSON object — re-download the model.`);
  return ok(json);
}

function asJson(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

async function statOrUndefined(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch {
    return undefined;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}
