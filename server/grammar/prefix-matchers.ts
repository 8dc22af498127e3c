// Reaching the state at the cursor means feeding the whole text before it to a matcher (tens of
// ms for a 10 kB package.json). While the user types, each request's prefix extends the previous
// one, so one matcher per document is kept at the last prefix and only the new characters are
// fed. A completion leases the matcher; its GrammarConstraint rolls its own tokens back and
// returns it on dispose(). A leased (or undisposed) matcher is never shared: a request that
// finds it leased gets a fresh matcher of its own.
import type { CompiledGrammar, GrammarMatcher } from './xgrammar';
import { loadXGrammar } from './xgrammar';

interface Entry {
  matcher: GrammarMatcher;
  fed: string;
  leased: boolean;
}

export interface Lease {
  matcher: GrammarMatcher;
  /** Characters fed for this request (the delta when the cached matcher was reused). */
  nFedChars: number;
  /** Return the matcher (already rolled back to the fed prefix); undefined for a matcher of its own. */
  release: (() => void) | undefined;
  /** Free the matcher for good (its constraint was dropped without dispose()). */
  discard: () => void;
}

export class PrefixMatchers {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxDocuments = 8) {}

  /** A matcher that has accepted `text`, or undefined when `text` is not in the grammar's language. */
  async acquire(key: string, compiled: CompiledGrammar, text: string): Promise<Lease | undefined> {
    const entry = this.entries.get(key);
    if (entry !== undefined && !entry.leased && text.startsWith(entry.fed)) {
      const delta = text.slice(entry.fed.length);
      if (delta === '' || entry.matcher._acceptString(delta)) {
        entry.fed = text;
        entry.leased = true;
        return { matcher: entry.matcher, nFedChars: delta.length, release: () => (entry.leased = false), discard: () => this.discard(key, entry) };
      }
      this.drop(key);
      return undefined;
    }
    const matcher = await loadXGrammar().GrammarMatcher.createGrammarMatcher(compiled);
    if (text !== '' && !matcher._acceptString(text)) {
      matcher.dispose();
      return undefined;
    }
    if (entry === undefined || !entry.leased) {
      if (entry !== undefined) this.drop(key);
      const fresh: Entry = { matcher, fed: text, leased: true };
      this.entries.set(key, fresh);
      this.evict();
      return { matcher, nFedChars: text.length, release: () => (fresh.leased = false), discard: () => this.discard(key, fresh) };
    }
    return { matcher, nFedChars: text.length, release: undefined, discard: () => matcher.dispose() };
  }

  private discard(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    entry.matcher.dispose();
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    this.entries.delete(key);
    if (e !== undefined && !e.leased) e.matcher.dispose();
  }

  private evict(): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxDocuments) return;
      if (!e.leased) this.drop(key);
    }
  }
}
