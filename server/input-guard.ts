// Checks the text around the cursor before any tokenisation: binary content and absurd sizes are
// refused with a reason, and huge documents are cut to windows so work stays bounded.

export interface CursorText {
  prefix: string;
  suffix: string;
}

export type GuardOutcome = { ok: true; text: CursorText } | { ok: false; reason: string };

/** Characters kept on each side of the cursor before tokenising: ~8 chars per token is generous. */
export function charWindow(maxTokens: number): number {
  return Math.max(256, maxTokens * 8);
}

/** Share of control characters (other than tab/CR/LF/FF) above which text is treated as binary. */
const maxControlShare = 0.1;

export function guardInput(prefix: string, suffix: string, maxPrefixTokens: number, maxSuffixTokens: number): GuardOutcome {
  const nPrefixChars = charWindow(maxPrefixTokens);
  const nSuffixChars = charWindow(maxSuffixTokens);
  const text: CursorText = {
    prefix: prefix.length > nPrefixChars ? prefix.slice(prefix.length - nPrefixChars) : prefix,
    suffix: suffix.length > nSuffixChars ? suffix.slice(0, nSuffixChars) : suffix,
  };
  const sample = text.prefix.slice(-4096) + text.suffix.slice(0, 1024);
  if (sample.includes('\u0000')) {
    return { ok: false, reason: 'binary content (NUL bytes) near the cursor: no completion for binary files' };
  }
  let nControl = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd) nControl++;
  }
  if (sample.length > 0 && nControl / sample.length > maxControlShare) {
    return { ok: false, reason: `binary-looking content near the cursor (${Math.round((100 * nControl) / sample.length)}% control characters): no completion` };
  }
  return { ok: true, text };
}
