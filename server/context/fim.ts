// Fill-in-the-middle templates, discovered from the tokenizer's special tokens (and, for the
// embedded model, from the "specter_fim" metadata its training wrote). A template is a list of
// segments; `buildPrompt` tokenizes each text segment on its own and joins them with the special
// ids, so a special-token string inside user code is never mistaken for a control token.
import type { TokenizerLike } from '../engine/model';

export type Segment =
  | { kind: 'special'; id: number; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'prefix' }
  | { kind: 'suffix' }
  | { kind: 'path' };

export type FimFamily = 'specter' | 'qwen' | 'starcoder' | 'deepseek' | 'codellama' | 'none';
export type Layout = 'psm' | 'spm' | 'prefix-only';

export interface FimTemplate {
  family: FimFamily;
  /** Prefix-suffix-middle order, ending right before the middle; undefined without FIM tokens. */
  psm?: Segment[];
  /** Suffix-first order, when the model was trained with it. */
  spm?: Segment[];
  /** File header with a `path` segment; undefined → a comment line in the language's syntax. */
  header?: Segment[];
  /** Whether a header goes in front at all (the embedded model never saw one before a FIM block). */
  useHeader: boolean;
  /** The layout with the best KV reuse among those the model supports. */
  preferred: Layout;
  /** Control tokens that end the middle (besides the tokenizer's own stop ids). */
  stopIds: number[];
}

/**
 * Parses a format such as "<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}…":
 * special-token strings become ids, `{prefix}`/`{suffix}`/`{path}` become slots, and the format
 * ends at `{middle}` (what follows is the training target). Undefined when a special is unknown
 * to the tokenizer or a slot is missing.
 */
export function parseFormat(tok: TokenizerLike, format: string, requiredSlots: readonly ('prefix' | 'suffix' | 'path')[]): Segment[] | undefined {
  const end = format.indexOf('{middle}');
  const body = end >= 0 ? format.slice(0, end) : format;
  const specials = [...tok.specialTokens.keys()].sort((a, b) => b.length - a.length);
  const segments: Segment[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') segments.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < body.length; ) {
    const slot = /^\{(prefix|suffix|path)\}/.exec(body.slice(i));
    if (slot !== null) {
      flush();
      segments.push({ kind: slot[1] as 'prefix' | 'suffix' | 'path' });
      i += slot[0].length;
      continue;
    }
    const special = specials.find((s) => body.startsWith(s, i));
    if (special !== undefined) {
      flush();
      segments.push({ kind: 'special', id: tok.specialTokens.get(special) as number, text: special });
      i += special.length;
      continue;
    }
    if (body[i] === '<' && /^<[|｜][^>]*[|｜]>/.test(body.slice(i))) return undefined; // unknown control token
    text += body[i];
    i++;
  }
  flush();
  for (const slot of requiredSlots) if (!segments.some((s) => s.kind === slot)) return undefined;
  return segments;
}

interface Family {
  family: FimFamily;
  /** Special tokens that identify the family (all must exist). */
  needs: string[];
  psm: string;
  spm?: string;
  /** Header formats, first one whose specials exist wins. */
  headers: string[];
  stops: string[];
}

// The formats of the public code-model families. Both Qwen2.5-Coder and DeepSeek-Coder were
// trained PSM-only; StarCoder (Megatron FIM, "SPM variant 2") and Code Llama also in SPM order,
// where the prefix follows the middle token directly.
const families: Family[] = [
  {
    family: 'qwen',
    needs: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    psm: '<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>',
    headers: ['<|file_sep|>{path}\n'],
    stops: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  },
  {
    family: 'starcoder',
    needs: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
    psm: '<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>',
    spm: '<fim_prefix><fim_suffix>{suffix}<fim_middle>{prefix}',
    headers: ['<file_sep>{path}\n', '<filename>{path}\n'],
    stops: ['<|endoftext|>', '<file_sep>', '<fim_pad>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
  },
  {
    family: 'deepseek',
    needs: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
    psm: '<｜begin▁of▁sentence｜><｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>',
    headers: [],
    stops: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
  },
  {
    family: 'codellama',
    needs: ['▁<PRE>', '▁<SUF>', '▁<MID>'],
    psm: '<s>▁<PRE>{prefix}▁<SUF>{suffix}▁<MID>',
    spm: '<s>▁<PRE>▁<SUF>{suffix}▁<MID>{prefix}',
    headers: [],
    stops: ['▁<EOT>', '</s>'],
  },
  {
    family: 'codellama',
    needs: ['<PRE>', '<SUF>', '<MID>'],
    psm: '<s><PRE>{prefix}<SUF>{suffix}<MID>',
    spm: '<s><PRE><SUF>{suffix}<MID>{prefix}',
    headers: [],
    stops: ['<EOT>', '</s>'],
  },
];

/** Drops specials the tokenizer lacks from optional positions (e.g. BOS) before parsing. */
function withKnownOptionals(tok: TokenizerLike, format: string): string {
  for (const optional of ['<s>', '<｜begin▁of▁sentence｜>']) {
    if (format.startsWith(optional) && !tok.specialTokens.has(optional)) return format.slice(optional.length);
  }
  return format;
}

function idsOf(tok: TokenizerLike, names: readonly string[]): number[] {
  return names.map((n) => tok.specialTokens.get(n)).filter((id): id is number => id !== undefined);
}

/** The embedded model's metadata, as written by tools/model (fim.py). */
interface SpecterFim {
  psm?: boolean;
  spm?: boolean;
  psm_format?: string;
  spm_format?: string;
  middle_end_token?: string;
  file_separator?: string;
}

function fromSpecterMetadata(tok: TokenizerLike, meta: SpecterFim): FimTemplate | undefined {
  const psm = meta.psm !== false && typeof meta.psm_format === 'string' ? parseFormat(tok, meta.psm_format, ['prefix', 'suffix']) : undefined;
  const spm = meta.spm === true && typeof meta.spm_format === 'string' ? parseFormat(tok, meta.spm_format, ['prefix', 'suffix']) : undefined;
  if (psm === undefined && spm === undefined) return undefined;
  const header = typeof meta.file_separator === 'string' ? parseFormat(tok, `${meta.file_separator}{path}\n`, ['path']) : undefined;
  const stops = [meta.middle_end_token, meta.file_separator].filter((s): s is string => typeof s === 'string');
  return {
    family: 'specter',
    ...(psm ? { psm } : {}),
    ...(spm ? { spm } : {}),
    ...(header ? { header } : {}),
    // Its FIM training rows start right at the first FIM token, without a file header.
    useHeader: false,
    preferred: spm !== undefined ? 'spm' : 'psm',
    stopIds: idsOf(tok, stops),
  };
}

/**
 * The FIM template for a tokenizer. `metadata` is the model's "specter_fim" object (config.json or
 * tokenizer_config.json) when present; it wins over name-based discovery. Without FIM tokens the
 * template is prefix-only.
 */
export function discoverFimTemplate(tok: TokenizerLike, metadata?: unknown): FimTemplate {
  if (typeof metadata === 'object' && metadata !== null) {
    const fromMeta = fromSpecterMetadata(tok, metadata as SpecterFim);
    if (fromMeta !== undefined) return fromMeta;
  }
  for (const f of families) {
    if (!f.needs.every((n) => tok.specialTokens.has(n))) continue;
    const psm = parseFormat(tok, withKnownOptionals(tok, f.psm), ['prefix', 'suffix']);
    if (psm === undefined) continue;
    const spm = f.spm !== undefined ? parseFormat(tok, withKnownOptionals(tok, f.spm), ['prefix', 'suffix']) : undefined;
    const header = f.headers.map((h) => parseFormat(tok, h, ['path'])).find((h) => h !== undefined && h.some((s) => s.kind === 'special'));
    return {
      family: f.family,
      psm,
      ...(spm ? { spm } : {}),
      ...(header ? { header } : {}),
      useHeader: true,
      preferred: spm !== undefined ? 'spm' : 'psm',
      stopIds: idsOf(tok, f.stops),
    };
  }
  return { family: 'none', useHeader: true, preferred: 'prefix-only', stopIds: [] };
}
