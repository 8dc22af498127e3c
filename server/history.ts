// Feeds the open documents (and so the user's edits since the editor started) into CopySpec's
// history. Documents are re-tokenised lazily, at most once per `tMinReencodeMs` each, and only
// when a completion is about to run, so typing never pays for tokenising other files.
import type { TokenizerLike } from './engine/model';

export interface HistorySink {
  setDocument(key: string, ids: readonly number[]): void;
  removeDocument(key: string): void;
}

interface Entry {
  text: string;
  dirty: boolean;
  tEncodedMs: number;
}

/** Characters of one document fed to the history (a huge file contributes its first part). */
const maxDocumentChars = 200_000;
const tMinReencodeMs = 2_000;

export class DocumentHistory {
  private readonly entries = new Map<string, Entry>();
  private sink: HistorySink | undefined;

  update(uri: string, text: string): void {
    const entry = this.entries.get(uri);
    if (entry === undefined) this.entries.set(uri, { text, dirty: true, tEncodedMs: -Infinity });
    else if (entry.text !== text) Object.assign(entry, { text, dirty: true });
  }

  remove(uri: string): void {
    this.entries.delete(uri);
    this.sink?.removeDocument(uri);
  }

  /** Brings `sink` (a new one after a model reload) up to date with the documents. */
  sync(tokenizer: TokenizerLike, sink: HistorySink | undefined, tNowMs: number): void {
    if (sink === undefined) return;
    if (sink !== this.sink) {
      this.sink = sink;
      for (const e of this.entries.values()) Object.assign(e, { dirty: true, tEncodedMs: -Infinity });
    }
    for (const [uri, e] of this.entries) {
      if (!e.dirty || tNowMs - e.tEncodedMs < tMinReencodeMs) continue;
      if (e.text.includes('\u0000')) continue; // binary: nothing worth copying
      sink.setDocument(uri, tokenizer.encode(e.text.slice(0, maxDocumentChars)));
      Object.assign(e, { dirty: false, tEncodedMs: tNowMs });
    }
  }
}
