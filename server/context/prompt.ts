// Prompt building: header, prefix window and suffix window laid out by the FIM template.
// Laid out for KV reuse while the user types: what changes (the end of the prefix) goes last, so
// consecutive prompts share everything before it. Suffix-first (SPM) when the model was trained
// for it; otherwise PSM with a small suffix window, since everything after the prefix re-runs.
import type { TokenizerLike } from '../engine/model';
import type { FimTemplate, Layout, Segment } from './fim';
import { prefixWindow, suffixWindow } from './windows';

export interface PromptContext {
  /** File path or URI of the document (shown to the model as a header). */
  path: string;
  languageId: string;
  /** Document text before / after the cursor. */
  prefix: string;
  suffix: string;
}

export interface PromptBudget {
  maxPrefixTokens: number;
  maxSuffixTokens: number;
  /** Whole prompt cap (e.g. the model's context minus the completion's max tokens); the
   * prefix window gives way first. */
  maxPromptTokens?: number;
}

export interface PromptOptions {
  /** Force a layout the template supports (default: the template's preferred one). */
  layout?: Layout;
  /** Suffix budget cap in PSM order, tokens: there the suffix re-runs on every keystroke. */
  psmMaxSuffixTokens?: number;
  /** Prefix window starts snap to every n-th line of the file. */
  snapLines?: number;
}

export interface Prompt {
  ids: number[];
  layout: Layout;
  nHeaderTokens: number;
  nPrefixTokens: number;
  nSuffixTokens: number;
  /** Char offset in `prefix` where the window starts / in `suffix` where it ends. */
  prefixStart: number;
  suffixEnd: number;
  /** Ids that end the middle for this template (add to the tokenizer's own stop ids). */
  stopIds: number[];
}

const hashComment = new Set(['python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'makefile', 'dockerfile', 'powershell', 'elixir', 'julia', 'coffeescript', 'nim']);
const dashComment = new Set(['sql', 'lua', 'haskell', 'elm', 'ada']);
const markupComment = new Set(['html', 'xml', 'markdown', 'vue', 'svelte']);
const blockComment = new Set(['css', 'scss', 'less']);

/** A one-line comment naming the file, in the language's syntax. */
export function commentHeader(languageId: string, path: string): string {
  if (hashComment.has(languageId)) return `# ${path}\n`;
  if (dashComment.has(languageId)) return `-- ${path}\n`;
  if (markupComment.has(languageId)) return `<!-- ${path} -->\n`;
  if (blockComment.has(languageId)) return `/* ${path} */\n`;
  return `// ${path}\n`;
}

/** A short path for the header: file URIs decoded, at most the last three segments. */
export function displayPath(path: string): string {
  let p = path;
  if (p.startsWith('file://')) {
    try {
      p = decodeURIComponent(p.slice('file://'.length));
    } catch {
      p = p.slice('file://'.length);
    }
  }
  const parts = p.split(/[\\/]/).filter((s) => s !== '');
  return parts.slice(-3).join('/');
}

function chooseLayout(template: FimTemplate, wanted: Layout | undefined): Layout {
  if (wanted === 'spm' && template.spm !== undefined) return 'spm';
  if (wanted === 'psm' && template.psm !== undefined) return 'psm';
  if (wanted === 'prefix-only') return 'prefix-only';
  return template.preferred;
}

export function buildPrompt(tok: TokenizerLike, template: FimTemplate, ctx: PromptContext, budget: PromptBudget, options: PromptOptions = {}): Prompt {
  const layout = chooseLayout(template, options.layout);
  const path = displayPath(ctx.path);
  const maxSuffix = layout === 'psm' ? Math.min(budget.maxSuffixTokens, options.psmMaxSuffixTokens ?? 64) : budget.maxSuffixTokens;
  const suf = layout === 'prefix-only' ? { end: 0, ids: [] } : suffixWindow(tok, ctx.suffix, maxSuffix);

  // A header made of special tokens goes in front; a comment header is file text, so it starts the prefix.
  const specialHeader = template.useHeader && template.header !== undefined;
  const headerIds = !template.useHeader ? [] : specialHeader ? render(tok, template.header ?? [], path, [], []) : tok.encode(commentHeader(ctx.languageId, path));
  const segments = layout === 'spm' ? template.spm : layout === 'psm' ? template.psm : undefined;
  const nFixed = headerIds.length + suf.ids.length + (segments === undefined ? 0 : render(tok, segments, path, [], []).length);
  const maxPrefix = Math.max(0, Math.min(budget.maxPrefixTokens, (budget.maxPromptTokens ?? Infinity) - nFixed));
  const pre = prefixWindow(tok, ctx.prefix, maxPrefix, options.snapLines);
  const prefixIds = specialHeader ? pre.ids : [...headerIds, ...pre.ids];

  const body = segments === undefined ? prefixIds : render(tok, segments, path, prefixIds, suf.ids);
  return {
    ids: specialHeader ? [...headerIds, ...body] : body,
    layout,
    nHeaderTokens: headerIds.length,
    nPrefixTokens: pre.ids.length,
    nSuffixTokens: suf.ids.length,
    prefixStart: pre.start,
    suffixEnd: suf.end,
    stopIds: template.stopIds,
  };
}

/** Segments → ids; each text segment is tokenized on its own. */
function render(tok: TokenizerLike, segments: readonly Segment[], path: string, prefixIds: readonly number[], suffixIds: readonly number[]): number[] {
  const ids: number[] = [];
  for (const s of segments) {
    if (s.kind === 'special') ids.push(s.id);
    else if (s.kind === 'text') ids.push(...tok.encode(s.text));
    else if (s.kind === 'path') ids.push(...tok.encode(path));
    else if (s.kind === 'prefix') ids.push(...prefixIds);
    else ids.push(...suffixIds);
  }
  return ids;
}
