// TokenizerLike over @huggingface/tokenizers, built from tokenizer.json (+ tokenizer_config.json).
//
// The library always splits added-token strings out of the input, so user code containing
// "<|endoftext|>" would become the special id. Encoding therefore goes through a second instance
// built without the special added tokens: their text is tokenized like any other text.
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import { errorText, fail, ok, type Outcome } from './outcome';
import type { Json } from './model-dir';
import type { TokenizerLike } from '../engine/model';

type TokenizersModule = typeof import('@huggingface/tokenizers', { with: { 'resolution-mode': 'import' } });
// The package is ESM-first but ships a CommonJS build (exports["."].node.require); the server
// bundle is CommonJS, so load that build explicitly.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tokenizers = require('@huggingface/tokenizers') as TokenizersModule;

interface AddedTokenJson {
  id: number;
  content: string;
  special: boolean;
}

/** How a vocabulary string maps to bytes. */
type ByteScheme = 'byte-level' | 'sentencepiece' | 'plain';

/**
 * Tokens that end a completion, whichever of them the vocabulary has: end-of-text markers of the
 * code-model families, the file separators a repo-level model emits after a file, and FIM markers
 * (a model that starts a new FIM block has finished the middle). CodeLlama ends infilling with
 * <EOT>, DeepSeek-Coder with <｜end▁of▁sentence｜>, Qwen2.5-Coder/StarCoder with <|endoftext|>.
 */
const stopTokenTexts = [
  '<|endoftext|>', '<|file_sep|>', '<file_sep>', '<|file_separator|>', '<|fim_pad|>', '<|repo_name|>',
  '<reponame>', '<|im_end|>', '<EOT>', '▁<EOT>', '<|EOT|>', '<｜end▁of▁sentence｜>', '</s>', '<eos>',
  '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>',
  '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<PRE>', '<SUF>', '<MID>', '▁<PRE>', '▁<SUF>', '▁<MID>',
];

export class HfTokenizerAdapter implements TokenizerLike {
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly stopIds: ReadonlySet<number>;
  /** Ids whose bytes are empty: added tokens marked special. */
  private readonly specialIds: ReadonlySet<number>;
  private readonly byteCache: (Uint8Array | undefined)[];

  constructor(
    private readonly full: HfTokenizer,
    private readonly plain: HfTokenizer,
    private readonly scheme: ByteScheme,
    added: readonly AddedTokenJson[],
    eosIds: readonly number[],
    extraStopTexts: readonly string[],
  ) {
    let maxId = -1;
    for (const id of full.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.specialTokens = new Map(added.map((t) => [t.content, t.id]));
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    const stops = new Set(eosIds.filter((id) => id >= 0 && id < this.vocabSize));
    for (const text of [...stopTokenTexts, ...extraStopTexts]) {
      const id = this.specialTokens.get(text);
      if (id !== undefined) stops.add(id);
    }
    this.stopIds = stops;
    this.byteCache = new Array<Uint8Array | undefined>(this.vocabSize);
  }

  encode(text: string): number[] {
    if (text === '') return [];
    return this.plain.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    if (this.scheme === 'plain') {
      // WordPiece-style vocabularies need the library's decoder (continuation prefixes, spacing).
      const known = ids.filter((id) => this.full.id_to_token(id) !== undefined);
      if (known.length === 0) return '';
      return this.full.decode(known, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
    }
    // Byte-exact: the concatenated token bytes, so a completion decodes to exactly what its tokens
    // stand for (no " ." → "." clean-up, no stripped leading "▁" space); a trailing partial UTF-8
    // sequence becomes U+FFFD. Special tokens and padded logits rows contribute no bytes.
    const parts = ids.map((id) => this.tokenBytes(id));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      bytes.set(p, offset);
      offset += p.length;
    }
    return utf8Decoder.decode(bytes);
  }

  tokenBytes(id: number): Uint8Array {
    const cached = this.byteCache[id];
    if (cached !== undefined) return cached;
    const bytes = this.computeBytes(id);
    if (id >= 0 && id < this.vocabSize) this.byteCache[id] = bytes;
    return bytes;
  }

  /** The vocabulary string of an id (for diagnostics and grammar tooling). */
  idToToken(id: number): string | undefined {
    return this.full.id_to_token(id);
  }

  private computeBytes(id: number): Uint8Array {
    if (this.specialIds.has(id)) return new Uint8Array(0);
    const token = this.full.id_to_token(id);
    if (token === undefined) return new Uint8Array(0);
    if (this.specialTokens.has(token)) return utf8.encode(token); // non-special added token
    switch (this.scheme) {
      case 'byte-level':
        return byteLevelBytes(token);
      case 'sentencepiece': {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
        if (m?.[1] !== undefined) return Uint8Array.of(parseInt(m[1], 16));
        return utf8.encode(token.replaceAll('▁', ' '));
      }
      case 'plain':
        return utf8.encode(token);
    }
  }
}

/** Builds the tokenizer; eosIds come from config.json/generation_config.json. */
export function createTokenizer(
  tokenizerJson: Json,
  tokenizerConfig: Json,
  eosIds: readonly number[],
  extraStopTexts: readonly string[] = [],
): Outcome<HfTokenizerAdapter> {
  const added = parseAdded(tokenizerJson['added_tokens']);
  if (!added.ok) return added;
  // The library defaults clean_up_tokenization_spaces to true, which would rewrite code on decode.
  const config: Json = { ...tokenizerConfig, clean_up_tokenization_spaces: false };
  const eosText = tokenText(tokenizerConfig['eos_token']);
  const eos = [...eosIds];
  let full: HfTokenizer;
  let plain: HfTokenizer;
  try {
    full = new tokenizers.Tokenizer(tokenizerJson, config);
    // Keep non-special added tokens (e.g. whitespace runs) that do not look like control markers.
    const plainAdded = added.value.filter((t) => !t.special && !/^<.*>$/s.test(t.content));
    const plainJson: Json = { ...tokenizerJson, added_tokens: plainAdded.map((t) => rawAdded(tokenizerJson, t.id)) };
    plain = new tokenizers.Tokenizer(plainJson, { ...config, additional_special_tokens: [] });
    full.encode('a\n\tb', { add_special_tokens: false });
  } catch (e) {
    return fail('bad-tokenizer', `tokenizer.json could not be loaded by @huggingface/tokenizers (${errorText(e)}) — re-export it with a recent transformers (tokenizer.save_pretrained) or re-download the model.`);
  }
  if (eosText !== undefined) {
    const id = full.token_to_id(eosText);
    if (id !== undefined) eos.push(id);
  }
  return ok(new HfTokenizerAdapter(full, plain, byteScheme(tokenizerJson), added.value, eos, extraStopTexts));
}

function parseAdded(v: unknown): Outcome<AddedTokenJson[]> {
  if (v === undefined || v === null) return ok([]);
  if (!Array.isArray(v)) return fail('bad-tokenizer', 'tokenizer.json: "added_tokens" is not a list — re-download the model.');
  const out: AddedTokenJson[] = [];
  for (const t of v as unknown[]) {
    const r = t as Partial<Record<string, unknown>>;
    if (typeof r['id'] !== 'number' || typeof r['content'] !== 'string') {
      return fail('bad-tokenizer', `tokenizer.json: an added token lacks "id" or "content" (${JSON.stringify(t).slice(0, 80)}) — re-download the model.`);
    }
    out.push({ id: r['id'], content: r['content'], special: r['special'] === true });
  }
  return ok(out);
}

function rawAdded(tokenizerJson: Json, id: number): unknown {
  return (tokenizerJson['added_tokens'] as { id: number }[]).find((t) => t.id === id);
}

/** "<|endoftext|>" or {"content": "<|endoftext|>", …} as tokenizer_config.json writes tokens. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json)['content'] === 'string') return (v as Json)['content'] as string;
  return undefined;
}

function byteScheme(tokenizerJson: Json): ByteScheme {
  const parts = JSON.stringify([tokenizerJson['decoder'], tokenizerJson['pre_tokenizer']]);
  const model = tokenizerJson['model'] as Json | undefined;
  if (parts.includes('"ByteLevel"')) return 'byte-level';
  if (model?.['byte_fallback'] === true || parts.includes('"ByteFallback"') || parts.includes('"Metaspace"') || parts.includes('▁')) {
    return 'sentencepiece';
  }
  return 'plain';
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
let unicodeToByte: Map<string, number> | undefined;

/** Inverse of GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest are U+0100 on. */
function byteLevelBytes(token: string): Uint8Array {
  if (unicodeToByte === undefined) {
    unicodeToByte = new Map();
    let nShifted = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      unicodeToByte.set(String.fromCodePoint(printable ? b : 256 + nShifted++), b);
    }
  }
  const out: number[] = [];
  for (const ch of token) {
    const b = unicodeToByte.get(ch);
    if (b !== undefined) out.push(b);
    else out.push(...utf8.encode(ch)); // not in the alphabet: a hand-added token, take its text
  }
  return Uint8Array.from(out);
}
