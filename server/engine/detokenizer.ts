// Incremental text of generated tokens. Bytes come from `tokenBytes` (what the token stands for,
// leading spaces included — `decode` of a lone SentencePiece piece would drop its "▁"), decoded
// with a streaming UTF-8 decoder: an incomplete multi-byte character at the end stays pending
// instead of surfacing as U+FFFD, and appears once its last byte arrives.
import type { TokenizerLike } from './model';

export class Detokenizer {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  text = '';

  constructor(private readonly tok: TokenizerLike) {}

  /** Appends a token; returns the characters it completed (may be '' mid-character). */
  push(id: number): string {
    const added = this.decoder.decode(this.tok.tokenBytes(id), { stream: true });
    this.text += added;
    return added;
  }
}
