// Loads a model directory into a ready CausalLM + tokenizer, or an error outcome that says what
// is wrong and what to do. The single entry point the model host calls.
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting } from '../protocol';
import { inspectModelDir, nParams, type ConfigDims, type Json, type ModelDirInfo } from './model-dir';
import { OnnxCausalLM } from './onnx-lm';
import { fail, formatBytes, ok, type Outcome } from './outcome';
import type { DraftTable } from '../engine/draft-table';
import { readDraftTable } from './draft-table-file';
import { readContextCacheMeta } from './context-cache-meta';
import type { ContextCacheOptions } from '../engine/context-cache';
import { createSession } from './session';
import { createTokenizer, type HfTokenizerAdapter } from './tokenizer';

export { prefillWithReuse, type PrefillResult, type PrefillOptions } from './prefill';
export type { Outcome, ModelError, ModelErrorCode } from './outcome';

export interface LoadOptions {
  /** ONNX file stem under onnx/ (settings modelVariant). */
  variant: string;
  executionProvider: ExecutionProviderSetting;
  threads: number;
  /** See SessionOptions.threadSpinning. */
  threadSpinning?: boolean;
  log: (msg: string) => void;
}

export interface ModelConfigInfo {
  modelType: string;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  /** Longest sequence in tokens. */
  contextLength: number;
  /** Logits width (≥ tokenizerVocab; padded embeddings make it larger). */
  vocab: number;
  tokenizerVocab: number;
  /** Element type of the KV cache / weights of the loaded variant. */
  dtype: 'float32' | 'float16';
  /** "specter_fim" metadata from config.json or tokenizer_config.json, when the model has it. */
  fim: Json | undefined;
  tokenizerConfig: Json;
}

export interface LoadedModel {
  name: string;
  dir: string;
  lm: OnnxCausalLM;
  tokenizer: HfTokenizerAdapter;
  config: ModelConfigInfo;
  /** 'cpu', 'cuda', … — the provider the session runs on. */
  executionProvider: string;
  /** Non-fatal problems for the status bar (provider fallback, config oddities, a damaged draft table). */
  warnings: string[];
  /** The model's own next-token table for the `table` drafter (specter/draft-table.bin), when the directory has a usable one. */
  draftTable?: DraftTable;
  /** The context cache the model directory asks for (config.json "specter.context_cache"), when it does. */
  contextCache?: ContextCacheOptions;
  tLoadMs: number;
  dispose(): Promise<void>;
}

export async function loadModel(dir: string, opts: LoadOptions): Promise<Outcome<LoadedModel>> {
  const t0 = performance.now();
  const inspected = await inspectModelDir(dir, opts.variant);
  if (!inspected.ok) return inspected;
  const info = inspected.value;
  const fileLabel = path.relative(dir, info.onnxPath).split(path.sep).join('/');

  const extraStops = ['middle_end_token', 'file_separator'].map((k) => info.fim?.[k]).filter((v): v is string => typeof v === 'string');
  const tokenizer = createTokenizer(info.tokenizerJson, info.tokenizerConfig, info.dims.eosTokenIds, extraStops);
  if (!tokenizer.ok) return tokenizer;

  const created = await createSession(info.onnxPath, opts);
  if (!created.ok) {
    const missingData = /External data path does not exist: "?([^"\n]+)/.exec(created.error.message)?.[1];
    if (missingData !== undefined) {
      return fail('missing-file', `${fileLabel} keeps its weights in ${path.basename(missingData)}, which is missing from ${path.dirname(info.onnxPath)} — download it too (it sits next to the .onnx file) or pick another model in specter.model.`);
    }
    return fail('bad-onnx', onnxLoadMessage(info, created.error.message));
  }
  const { session, executionProvider } = created.value;
  const warnings = [...info.warnings, ...created.value.warnings];

  const embedsPath = info.embedsOnnxPath;
  const openEmbedsSession =
    embedsPath === undefined
      ? undefined
      : async (): Promise<Outcome<ort.InferenceSession>> => {
          const s = await createSession(embedsPath, { ...opts, executionProvider: executionProvider as ExecutionProviderSetting });
          return s.ok ? ok(s.value.session) : fail('bad-onnx', `onnx/model_embeds.onnx could not be loaded (${s.error.message})`);
        };
  // "specter": {"embedding_table": {"tensor": "model.embed_tokens.weight"}} in config.json, when present.
  const specterMeta = info.config['specter'] as { embedding_table?: { tensor?: unknown } } | undefined;
  const tensorName = specterMeta?.embedding_table?.tensor;
  const embeddingTensor = typeof tensorName === 'string' ? tensorName : undefined;
  const lmOutcome = await OnnxCausalLM.create(session, info.dims, {
    fileLabel,
    tokenizerVocab: tokenizer.value.vocabSize,
    ...(openEmbedsSession === undefined ? {} : { openEmbedsSession }),
    ...(info.safetensorsPath === undefined ? {} : { safetensorsPath: info.safetensorsPath }),
    ...(embeddingTensor === undefined ? {} : { embeddingTensor }),
  });
  if (!lmOutcome.ok) {
    await session.release();
    return lmOutcome;
  }
  const lm = lmOutcome.value;
  if (lm.vocabSize !== info.dims.vocab) {
    warnings.push(`config.json says vocab_size ${info.dims.vocab} but ${fileLabel} returns ${lm.vocabSize} logits; using ${lm.vocabSize}`);
  }
  const drafts = await readDraftTable(info.dir, tokenizer.value.vocabSize);
  if (drafts.warning !== undefined) warnings.push(drafts.warning);
  const cache = readContextCacheMeta(info.config);
  if (cache.warning !== undefined) warnings.push(cache.warning);
  const tLoadMs = performance.now() - t0;
  opts.log(`Loaded ${info.name}: ${info.dims.layers} layers, ${info.dims.kvHeads}/${info.dims.heads} KV/query heads × ${info.dims.headDim}, vocab ${lm.vocabSize} (tokenizer ${tokenizer.value.vocabSize}), context ${info.dims.contextLength}, ${lm.io.kvType}, ${executionProvider}${drafts.table === undefined ? '' : `, draft table ${drafts.table.nEntries} entries`}${cache.options === undefined ? '' : `, context cache ${cache.options.minN}–${cache.options.maxN} tokens λ ≤ ${cache.options.weight}`}, ${Math.round(tLoadMs)} ms`);
  return ok({
    name: info.name,
    dir: info.dir,
    lm,
    tokenizer: tokenizer.value,
    config: {
      modelType: info.dims.modelType,
      layers: info.dims.layers,
      heads: info.dims.heads,
      kvHeads: info.dims.kvHeads,
      headDim: info.dims.headDim,
      hidden: info.dims.hidden,
      contextLength: info.dims.contextLength,
      vocab: lm.vocabSize,
      tokenizerVocab: tokenizer.value.vocabSize,
      dtype: lm.io.kvType,
      fim: info.fim,
      tokenizerConfig: info.tokenizerConfig,
    },
    executionProvider,
    warnings,
    ...(drafts.table === undefined ? {} : { draftTable: drafts.table }),
    ...(cache.options === undefined ? {} : { contextCache: cache.options }),
    tLoadMs,
    dispose: () => lm.dispose(),
  });
}

/** ORT could not open the file: say so with the file sizes against what config.json implies. */
function onnxLoadMessage(info: ModelDirInfo, ortMessage: string): string {
  const expected = formatBytes(expectedBytes(info.dims, info.variant));
  const [graph, ...data] = info.onnxFiles;
  const files =
    data.length === 0
      ? `${graph?.rel ?? 'the ONNX file'} is ${formatBytes(info.nOnnxBytes)}`
      : `${info.onnxFiles.map((f) => `${f.rel} (${formatBytes(f.nBytes)})`).join(' + ')} = ${formatBytes(info.nOnnxBytes)}`;
  const what =
    info.nOnnxBytes < 0.7 * expectedBytes(info.dims, info.variant)
      ? `${files} but should be ~${expected} for this config.json (truncated download?)`
      : `${files} (~${expected} expected) but cannot be loaded: damaged or truncated (interrupted download?)`;
  return `${what}; onnxruntime says: ${ortMessage} — re-download the model or pick another model in specter.model.`;
}

/** Rough file size of a variant: fp32 4 bytes per parameter, fp16 2, 8-bit 1, 4-bit ½. */
function expectedBytes(dims: ConfigDims, variant: string): number {
  const bytesPerParam = /q4|int4|bnb4/.test(variant) ? 0.5 : /fp16|f16|half/.test(variant) ? 2 : /quant|int8|uint8|q8/.test(variant) ? 1 : 4;
  return Math.round(bytesPerParam * nParams(dims));
}
