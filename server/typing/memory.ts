// What the typing layer remembers between keystrokes:
//  - an LRU of finished completions keyed by the exact document context (uri, language, whole
//    prefix and suffix, and a fingerprint of the settings and model that shape the output), so a
//    state seen before (backspace, re-trigger, accepted suggestion, prefetched state) costs nothing;
//  - per document, the suggestion last shown, so that while the user types characters matching it
//    the rest is served at once (typing-through). Any edit that leaves that suggestion's path
//    invalidates it.
// Keys hash the whole text: the prompt window's start depends on line numbers counted from the top
// of the file, so a key on the window's tail alone could hit for a different prompt.
import { createHash } from 'node:crypto';
import { Lru } from './lru';

export interface ContextRequest {
  uri: string;
  languageId: string;
  prefix: string;
  suffix: string;
}

export type EntryOrigin = 'model' | 'prefetch' | 'type-through' | 'partial-accept';

export interface CacheEntry {
  /** The suggestions (several with multi-draft); empty when the model produced nothing here. */
  texts: string[];
  origin: EntryOrigin;
  /** The run was automatic and left sampled parse retries to an explicit request (CompletionStats.parseRetriesDeferred). */
  deferred?: true;
}

/** Suggestions as shown at a state: the cursor sits after `prefix`, before `suffix`. */
export interface Shown extends ContextRequest {
  texts: string[];
  origin: EntryOrigin;
}

const maxTypingDocs = 64;

export function contextKey(fingerprint: string, r: ContextRequest): string {
  const h = createHash('sha1');
  for (const part of [fingerprint, r.uri, r.languageId, String(r.prefix.length), r.prefix, r.suffix]) {
    h.update(part);
    h.update('\u0000');
  }
  return h.digest('hex');
}

export class CompletionMemory {
  private readonly cache: Lru<string, CacheEntry>;
  private readonly typing = new Lru<string, Shown>(maxTypingDocs);
  private fingerprint = '';

  constructor(capacity: number) {
    this.cache = new Lru(capacity);
  }

  get nEntries(): number {
    return this.cache.size;
  }

  /** Settings or model changed: everything remembered was computed under the old ones. */
  setFingerprint(fingerprint: string, capacity: number): void {
    if (fingerprint !== this.fingerprint) this.clear();
    this.fingerprint = fingerprint;
    this.cache.resize(capacity);
  }

  clear(): void {
    this.cache.clear();
    this.typing.clear();
  }

  key(r: ContextRequest): string {
    return contextKey(this.fingerprint, r);
  }

  lookup(r: ContextRequest): CacheEntry | undefined {
    return this.cache.get(this.key(r));
  }

  has(r: ContextRequest): boolean {
    return this.cache.has(this.key(r));
  }

  store(r: ContextRequest, entry: CacheEntry): void {
    this.cache.set(this.key(r), entry);
  }

  /** The suggestion now on screen for the document of `s`. */
  remember(s: Shown): void {
    if (s.texts.every((t) => t === '')) this.typing.delete(s.uri);
    else this.typing.set(s.uri, s);
  }

  shown(uri: string): Shown | undefined {
    return this.typing.peek(uri);
  }

  /**
   * The rests of the shown suggestions when `r` is their state with some of their characters
   * typed (at least one, not all of them): undefined when no suggestion matches.
   */
  typeThrough(r: ContextRequest): { rests: string[]; base: Shown } | undefined {
    const base = this.typing.peek(r.uri);
    if (base === undefined || base.languageId !== r.languageId || r.suffix !== base.suffix) return undefined;
    const nTyped = r.prefix.length - base.prefix.length;
    if (nTyped <= 0 || !r.prefix.startsWith(base.prefix)) return undefined;
    const typed = r.prefix.slice(base.prefix.length);
    const rests = base.texts.filter((t) => t.length > nTyped && t.startsWith(typed)).map((t) => t.slice(nTyped));
    return rests.length > 0 ? { rests, base } : undefined;
  }

  /**
   * The document changed to `text`: forget the shown suggestion unless the new text is its state
   * with a typed (or accepted) part of it, i.e. prefix + text[0:n] + suffix for some n.
   */
  documentChanged(uri: string, text: string): void {
    const base = this.typing.peek(uri);
    if (base === undefined) return;
    const nTyped = text.length - base.prefix.length - base.suffix.length;
    const onPath =
      nTyped >= 0 &&
      text.startsWith(base.prefix) &&
      text.endsWith(base.suffix) &&
      base.texts.some((t) => t.length >= nTyped && t.startsWith(text.slice(base.prefix.length, base.prefix.length + nTyped)));
    if (!onPath) this.typing.delete(uri);
  }

  /**
   * The user accepted the first `acceptedLength` characters of the shown suggestion `text`: store
   * the rest under the state after acceptance. Returns that state (undefined if `text` is unknown).
   */
  partialAccept(uri: string, text: string, acceptedLength: number): ContextRequest | undefined {
    const base = this.typing.peek(uri);
    if (base === undefined || acceptedLength <= 0) return undefined;
    // The client reports the item it showed: a whole suggestion or its typed-through rest.
    const whole = base.texts.find((t) => t.endsWith(text));
    if (whole === undefined) return undefined;
    const nAccepted = whole.length - text.length + acceptedLength;
    if (nAccepted >= whole.length) return undefined;
    const state: ContextRequest = { uri, languageId: base.languageId, prefix: base.prefix + whole.slice(0, nAccepted), suffix: base.suffix };
    this.store(state, { texts: [whole.slice(nAccepted)], origin: 'partial-accept' });
    return state;
  }
}
