// How long to wait after a keystroke before asking for a completion: pure logic, no editor or
// server imports, so the VS Code client (src/debounce.ts) and benchmarks share it.
//
// A request the next keystroke supersedes is wasted work, and the server cancels it anyway; a
// request sent late is lag. So: ask at once where the user usually pauses (after a trigger
// character or a keyword at the end of a line, on a fresh line); in the middle of a word wait a
// little longer than the user's usual gap between keys (a request then goes out only when they
// pause), unless completions are currently so fast that asking costs nothing. When answers take
// longer than the gap between keys, even a trigger waits one gap: an answer cannot arrive before
// the next key anyway, and the wait costs a pausing user a small fraction of the latency. A key
// that types through the suggestion on screen is asked at once: the server answers it without
// the model.

export type DebounceMode = 'auto' | 'manual';

export interface DebounceInput {
  /** Text of the cursor's line before / after the cursor. */
  lineBefore: string;
  lineAfter: string;
  /** Typical gap between keystrokes (TypingRhythm.intervalMs), ms; undefined: unknown. */
  typingIntervalMs?: number;
  /** Typical recent completion latency (TypingRhythm.latencyMs), ms; undefined: unknown. */
  latencyMs?: number;
  /** `specter.debounceMs`: a fixed wait overrides the policy; null/undefined = adaptive. */
  fixedMs?: number | null;
  /** 'manual': never ask on typing, only on an explicit trigger. */
  mode?: DebounceMode;
  /**
   * The keystroke typed the next characters of the suggestion on screen (ShownSuggestion): the
   * server answers from that suggestion without the model (typing-through), so ask at once.
   */
  typesThrough?: boolean;
}

export type DebounceDecision = { kind: 'wait'; ms: number } | { kind: 'manual' };

/** Characters after which the user usually pauses. */
const triggerChars = new Set(['.', '(', '[', '{', ',', ':', '=', '>', ';', '"', "'", '`']);
/** A space after one of these words is a trigger too: `return |`, `const |`, `import |`. */
const keywords = new Set(['return', 'const', 'let', 'var', 'if', 'else', 'for', 'while', 'await', 'yield', 'new', 'import', 'from', 'export', 'def', 'class', 'function', 'async', 'elif', 'in', 'of', 'not', 'and', 'or', 'throw', 'raise', 'case', 'extends', 'implements', 'typeof']);
/** What may follow the cursor and still count as "end of line" (auto-closed brackets, quotes). */
const closersOnly = /^[\s)\]}>'"`;,]*$/;

const tMinWaitMs = 0;
const tMaxWaitMs = 400;
/** Default gap between keystrokes before we know the user: a moderate typist. */
const tDefaultIntervalMs = 150;

export function adaptiveDebounce(input: DebounceInput): DebounceDecision {
  if (input.mode === 'manual') return { kind: 'manual' };
  if (input.fixedMs !== undefined && input.fixedMs !== null) return { kind: 'wait', ms: Math.max(0, input.fixedMs) };
  if (input.typesThrough === true) return wait(0);
  const before = input.lineBefore;
  const atLineEnd = closersOnly.test(input.lineAfter);
  const last = before.at(-1) ?? '';
  const interval = input.typingIntervalMs ?? tDefaultIntervalMs;
  const latency = input.latencyMs ?? Number.POSITIVE_INFINITY;

  // When an answer takes longer than the gap between keys, a request the next key supersedes
  // is pure waste: then wait at least until the user would have pressed the next key. When the
  // latency is unknown, assume it is short.
  const slow = Number.isFinite(latency) && latency > interval;
  const floor = slow ? 1.1 * interval : 0;
  // Fresh (indented) line, or just after a trigger at the end of the line: the user pauses here.
  if (atLineEnd && (before.trim() === '' || triggerChars.has(last) || afterKeyword(before))) return wait(floor);
  // Completions served this fast (cache, tiny model) cost less than waiting. Under a fifth of the
  // gap between keys, not a quarter: around a quarter the policy flipped between asking at every
  // key and asking at pauses from one run to the next, and asking at every key cost about 40%
  // more CPU per key for a few milliseconds of median latency (bench/typing, session 5).
  if (latency < 0.2 * interval) return wait(atLineEnd ? 10 : 25);
  const inWord = /[\p{L}\p{N}_$]/u.test(last);
  // Wait until the user would have pressed the next key, plus a margin; mid-line asks are
  // rarely wanted, so wait longer there.
  const base = Math.max(floor, inWord ? 1.3 * interval : 0.6 * interval);
  return wait(atLineEnd ? base : 1.5 * base);
}

function afterKeyword(before: string): boolean {
  if (!before.endsWith(' ')) return false;
  const word = /([A-Za-z_]+) $/.exec(before)?.[1];
  return word !== undefined && keywords.has(word);
}

function wait(ms: number): DebounceDecision {
  return { kind: 'wait', ms: Math.round(Math.min(tMaxWaitMs, Math.max(tMinWaitMs, ms))) };
}

/** Tracks the user's typing speed and recent completion latency (exponential moving averages). */
export class TypingRhythm {
  private tLastKeyMs: number | undefined;
  private interval: number | undefined;
  private latency: number | undefined;

  constructor(
    /** Weight of a new observation. */
    private readonly alpha = 0.2,
    /** Gaps longer than this are pauses, not typing speed, ms. */
    private readonly tPauseMs = 1000,
  ) {}

  get intervalMs(): number | undefined {
    return this.interval;
  }

  get latencyMs(): number | undefined {
    return this.latency;
  }

  /** A keystroke at `tMs` (any monotonic clock). */
  key(tMs: number): void {
    if (this.tLastKeyMs !== undefined) {
      const gap = tMs - this.tLastKeyMs;
      if (gap > 0 && gap < this.tPauseMs) this.interval = this.interval === undefined ? gap : this.interval + this.alpha * (gap - this.interval);
    }
    this.tLastKeyMs = tMs;
  }

  /** A completion answered after `tMs` (request to response). */
  observeLatency(tMs: number): void {
    if (!(tMs >= 0)) return;
    this.latency = this.latency === undefined ? tMs : this.latency + this.alpha * (tMs - this.latency);
  }
}

/**
 * The suggestion last shown in an editor, to tell whether a keystroke types through it: the
 * cursor is still on its line, and the text from where it was shown up to the cursor is a proper
 * prefix of it (something of it is left to show).
 */
export class ShownSuggestion {
  private shown: { uri: string; line: number; character: number; text: string } | undefined;

  /** A suggestion `text` answered for the cursor at (line, character) of `uri`; '' clears. */
  show(uri: string, line: number, character: number, text: string): void {
    this.shown = text === '' ? undefined : { uri, line, character, text };
  }

  clear(): void {
    this.shown = undefined;
  }

  /** `lineText`: the cursor's whole line now. */
  typesThrough(uri: string, line: number, character: number, lineText: string): boolean {
    const s = this.shown;
    if (s === undefined || s.uri !== uri || s.line !== line || character <= s.character) return false;
    const typed = lineText.slice(s.character, character);
    return typed.length === character - s.character && typed.length < s.text.length && s.text.startsWith(typed);
  }
}
