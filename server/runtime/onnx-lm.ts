// CausalLM over an onnxruntime-node session with the decoder-with-past interface. The KV cache
// lives in the `present` tensors of the last run, [1, kvHeads, past, headDim] per layer and
// kind; truncation is recorded and applied (one copy) at the next forward.
import * as ort from 'onnxruntime-node';
import type { CausalLM, Logits } from '../engine/model';
import { floatToHalf, halfToFloat } from './half';
import { readIoSpec, type IoSpec } from './io-spec';
import type { ConfigDims } from './model-dir';
import { fail, ok, ortErrorText, type Outcome } from './outcome';
import { readEmbeddingTable, type EmbeddingTable } from './safetensors';

type KvData = Float32Array | Uint16Array;

export interface OnnxLmOptions {
  /** "onnx/model.onnx", for messages. */
  fileLabel: string;
  /** Ids the tokenizer can produce; the logits must be at least this wide. */
  tokenizerVocab: number;
  /** Opens onnx/model_embeds.onnx on first use of forwardEmbeds; undefined = no embeds path. */
  openEmbedsSession?: () => Promise<Outcome<ort.InferenceSession>>;
  /** model.safetensors, source of the token-embedding table, and the tensor's name if known. */
  safetensorsPath?: string;
  embeddingTensor?: string;
}

export class OnnxCausalLM implements CausalLM {
  /**
   * Passes and tokens (every model), plus where a pass's time goes (for benchmarks): inside the
   * session run, and cutting the cached KV back after a truncate (rejected draft positions).
   */
  readonly counters = { nForward: 0, nTokens: 0, runMs: 0, nCuts: 0, cutMs: 0 };
  /** Cut the KV cache in place (true), or into fresh arrays as before (false: benchmark A/B only). */
  cutInPlace = true;
  /** Ids whose KV is cached; -1 for positions fed as embeddings (forwardEmbeds). */
  private readonly ids: number[] = [];
  /** Per layer: key and value, each [1, kvHeads, nKvPositions, headDim]. */
  private past: { key: ort.Tensor; value: ort.Tensor }[];
  /** Positions held by `past` tensors; may exceed ids.length after truncate (sliced lazily). */
  private nKvPositions = 0;
  private busy = false;
  private disposed = false;
  private inflight: Promise<unknown> | undefined;
  private vocab = 0;
  private embeds: { session: ort.InferenceSession; io: IoSpec } | undefined;
  private table: Promise<Outcome<EmbeddingTable>> | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly io: IoSpec,
    private readonly dims: ConfigDims,
    private readonly opts: OnnxLmOptions,
  ) {
    this.past = this.emptyPast(io);
  }

  /** Checks the session's interface against config.json and runs a 1-token probe. */
  static async create(session: ort.InferenceSession, dims: ConfigDims, opts: OnnxLmOptions): Promise<Outcome<OnnxCausalLM>> {
    const io = readIoSpec(session, dims, opts.fileLabel, 'input_ids');
    if (!io.ok) return io;
    const lm = new OnnxCausalLM(session, io.value, dims, opts);
    let probe: Logits;
    try {
      probe = await lm.run([0], undefined);
    } catch (e) {
      return fail('runtime', `${opts.fileLabel} failed on a 1-token test run (${ortErrorText(e)}) — the export is broken or needs a newer onnxruntime; pick another model in specter.model.`);
    }
    if (probe.vocabSize < opts.tokenizerVocab) {
      return fail('vocab-mismatch', `The tokenizer has ${opts.tokenizerVocab} tokens but ${opts.fileLabel} returns logits for only ${probe.vocabSize} — tokenizer.json belongs to a different model; use the tokenizer that came with the model.`);
    }
    const present = lm.past[0]?.key.dims;
    if (present?.[1] !== io.value.kvHeads || present[2] !== 1 || present[3] !== io.value.headDim) {
      return fail('shape-mismatch', `${opts.fileLabel} returned a KV cache of shape [${present?.join(', ') ?? ''}] for 1 token, expected [1, ${io.value.kvHeads}, 1, ${io.value.headDim}] — the export does not follow the decoder-with-past layout; pick another model in specter.model.`);
    }
    lm.truncate(0);
    Object.assign(lm.counters, { nForward: 0, nTokens: 0, runMs: 0, nCuts: 0, cutMs: 0 });
    return ok(lm);
  }

  get vocabSize(): number {
    return this.vocab;
  }

  get contextLength(): number {
    return this.dims.contextLength;
  }

  get cached(): readonly number[] {
    return this.ids;
  }

  /** True when onnx/model_embeds.onnx exists (superposed decoding). */
  get hasEmbedsPath(): boolean {
    return this.opts.openEmbedsSession !== undefined;
  }

  async forward(tokens: readonly number[]): Promise<Logits> {
    if (tokens.length === 0) throw new RangeError('forward: tokens must be non-empty');
    return this.run(tokens, undefined);
  }

  /**
   * Runs positions given as input embeddings: `embeds` is [nTokens, hidden]. They join the cache
   * like tokens do; `cached` records them as -1 (no single id stands for a superposed input).
   */
  async forwardEmbeds(embeds: Float32Array, nTokens: number): Promise<Logits> {
    if (nTokens <= 0 || embeds.length !== nTokens * this.dims.hidden) {
      throw new RangeError(`forwardEmbeds: ${embeds.length} values for ${nTokens} tokens × hidden ${this.dims.hidden}`);
    }
    if (this.embeds === undefined) {
      const open = this.opts.openEmbedsSession;
      if (open === undefined) throw new Error('forwardEmbeds: the model directory has no onnx/model_embeds.onnx');
      const session = await open();
      if (!session.ok) throw new Error(session.error.message);
      const io = readIoSpec(session.value, this.dims, 'onnx/model_embeds.onnx', 'inputs_embeds');
      if (!io.ok) throw new Error(io.error.message);
      if (io.value.kvType !== this.io.kvType) throw new Error('onnx/model_embeds.onnx and the decoder disagree on the KV cache type');
      this.embeds = { session: session.value, io: io.value };
    }
    return this.run(new Array<number>(nTokens).fill(-1), embeds);
  }

  /** Token-embedding table [rows, hidden] from model.safetensors, read once (inputs for forwardEmbeds). */
  embeddingTable(): Promise<Outcome<EmbeddingTable>> {
    const file = this.opts.safetensorsPath;
    if (file === undefined) {
      return Promise.resolve(fail('missing-file', 'The model directory has no model.safetensors — superposed decoding needs the token-embedding table.'));
    }
    this.table ??= readEmbeddingTable(file, this.dims.hidden, this.opts.embeddingTensor);
    return this.table;
  }

  truncate(n: number): void {
    if (this.busy) throw new Error('OnnxCausalLM: truncate during a forward (the caller must serialise forward/truncate)');
    const keep = Math.max(0, Math.min(n, this.ids.length));
    this.ids.length = keep;
  }

  /** Waits for a run in flight (releasing a session under a running inference is unsafe). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.inflight?.catch(() => undefined);
    await this.session.release();
    await this.embeds?.session.release();
  }

  /** One session run over `ids` (or `embeds` [ids.length, hidden]) after the cached positions. */
  private async run(ids: readonly number[], embeds: Float32Array | undefined): Promise<Logits> {
    if (this.disposed) throw new Error('OnnxCausalLM: the model was unloaded');
    if (this.busy) throw new Error('OnnxCausalLM: overlapping calls (the caller must serialise forward/truncate)');
    const nPast = this.ids.length;
    const n = ids.length;
    if (nPast + n > this.dims.contextLength) {
      throw new RangeError(`forward: ${nPast} cached + ${n} new tokens exceed the context of ${this.dims.contextLength}`);
    }
    this.busy = true;
    try {
      this.applyTruncation();
      const target = embeds === undefined ? { session: this.session, io: this.io } : this.embeds;
      if (target === undefined) throw new Error('forwardEmbeds: no embeds session');
      const { session, io } = target;
      const feeds: Record<string, ort.Tensor> = {};
      if (embeds === undefined) {
        feeds['input_ids'] = io.idsType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(ids), [1, n])
          : new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, n]);
      } else {
        feeds['inputs_embeds'] = io.embedsType === 'float16'
          ? new ort.Tensor('float16', floatToHalf(embeds), [1, n, this.dims.hidden])
          : new ort.Tensor('float32', embeds, [1, n, this.dims.hidden]);
      }
      if (io.hasAttentionMask) feeds['attention_mask'] = new ort.Tensor('int64', new BigInt64Array(nPast + n).fill(1n), [1, nPast + n]);
      if (io.hasPositionIds) {
        feeds['position_ids'] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(nPast + i)), [1, n]);
      }
      if (io.hasUseCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(nPast > 0 ? 1 : 0), [1]);
      if (io.logitsToKeepName !== undefined) feeds[io.logitsToKeepName] = new ort.Tensor('int64', BigInt64Array.of(0n), []);
      this.past.forEach((kv, i) => {
        feeds[`past_key_values.${i}.key`] = kv.key;
        feeds[`past_key_values.${i}.value`] = kv.value;
      });
      const tRunMs = performance.now();
      const running = session.run(feeds);
      this.inflight = running;
      const out = await running;
      this.counters.runMs += performance.now() - tRunMs;
      const logitsT = out['logits'];
      if (logitsT === undefined) throw new Error('the session returned no logits');
      // [1, n, vocab]
      const width = logitsT.dims[2] ?? 0;
      if (logitsT.dims[1] !== n) throw new Error(`logits for ${String(logitsT.dims[1])} positions, expected ${n}`);
      const next: { key: ort.Tensor; value: ort.Tensor }[] = [];
      for (let i = 0; i < this.io.layers; i++) {
        const key = out[`present.${i}.key`];
        const value = out[`present.${i}.value`];
        if (key === undefined || value === undefined) throw new Error(`the session returned no present.${i}`);
        next.push({ key, value });
      }
      this.past = next;
      this.nKvPositions = nPast + n;
      this.ids.push(...ids);
      this.vocab = width;
      this.counters.nForward++;
      this.counters.nTokens += n;
      const data = logitsT.type === 'float16' ? halfToFloat(logitsT.data as Uint16Array) : (logitsT.data as Float32Array);
      return { data, nRows: n, vocabSize: width };
    } finally {
      this.busy = false;
    }
  }

  /** Slices every cached tensor from nKvPositions down to ids.length positions. */
  private applyTruncation(): void {
    const keep = this.ids.length;
    if (keep === this.nKvPositions) return;
    if (keep === 0) {
      this.past = this.emptyPast(this.io);
    } else {
      const tCutMs = performance.now();
      this.past = this.past.map((kv) => ({ key: this.slice(kv.key, keep), value: this.slice(kv.value, keep) }));
      this.counters.nCuts++;
      this.counters.cutMs += performance.now() - tCutMs;
    }
    this.nKvPositions = keep;
  }

  /**
   * [1, kvHeads, past, headDim] → [1, kvHeads, keep, headDim]: per head, the first keep rows,
   * in place. Head 0's rows are already where they belong; each further head's move down over the
   * dropped rows of the heads before it, and the tensor becomes a view of the front of the same
   * buffer. No allocation, and half the copying of a fresh array with two KV heads: a rejected
   * draft at a long context otherwise costs a good part of a forward pass. The buffer is this
   * cache's own (the present output of the last run), so nothing else sees it change.
   */
  private slice(t: ort.Tensor, keep: number): ort.Tensor {
    const [, nHeads = 0, nPast = 0, headDim = 0] = t.dims;
    const data = t.data as KvData;
    const rows = keep * headDim;
    if (!this.cutInPlace) {
      const fresh = data instanceof Float32Array ? new Float32Array(nHeads * rows) : new Uint16Array(nHeads * rows);
      for (let h = 0; h < nHeads; h++) fresh.set(data.subarray(h * nPast * headDim, h * nPast * headDim + rows), h * rows);
      return fresh instanceof Float32Array ? new ort.Tensor('float32', fresh, [1, nHeads, keep, headDim]) : new ort.Tensor('float16', fresh, [1, nHeads, keep, headDim]);
    }
    for (let h = 1; h < nHeads; h++) data.copyWithin(h * rows, h * nPast * headDim, h * nPast * headDim + rows);
    const view = data.subarray(0, nHeads * rows);
    return view instanceof Float32Array
      ? new ort.Tensor('float32', view, [1, nHeads, keep, headDim])
      : new ort.Tensor('float16', view, [1, nHeads, keep, headDim]);
  }

  private emptyPast(io: IoSpec): { key: ort.Tensor; value: ort.Tensor }[] {
    const dims = [1, io.kvHeads, 0, io.headDim];
    const empty = (): ort.Tensor =>
      io.kvType === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    return Array.from({ length: io.layers }, () => ({ key: empty(), value: empty() }));
  }
}
