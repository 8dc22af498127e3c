// The loop's end rule for constraints: a completion ends only where its constraint allows it.
// Stopping criteria, the token budget and the context window end decoding wherever they like (and
// may trim characters off the text); `endWhereAllowed` cuts the final text back to the last place
// where `canStop()` holds. Every token is checked again, strictly: a step that ran unconstrained
// (a mask over its time budget, a grammar that turned itself off) is judged here like any other.
// An empty completion is the answer when there is no such place: it leaves the document as it was.
import type { Constraint } from './constraint';
import type { TokenizerLike } from './model';

const utf8 = new TextEncoder();

/**
 * The longest prefix of `text` at which `constraint` allows the completion to end, at a token
 * boundary or at the end of `text`; '' when there is none. `tokens` are the ids the loop advanced
 * the constraint over, in order (stop ids included); `text` is the completion the stopping
 * criteria kept, a prefix of those tokens' text. Leaves the constraint advanced to the returned text.
 */
export function endWhereAllowed(constraint: Constraint, tok: TokenizerLike, tokens: readonly number[], text: string): string {
  constraint.rollback(tokens.length);
  const bytes = utf8.encode(text);
  const charAt = charOffsets(text, bytes.length);
  // ends[i]: characters of `text` covered after i fed tokens; -1 inside a character.
  const ends: number[] = [0];
  let pos = 0; // bytes of `text` fed so far
  const feed = (id: number, length: number): boolean => {
    if (!constraint.check(id)) return false;
    constraint.advance(id);
    pos += length;
    ends.push(charAt[pos] as number);
    return true;
  };
  let rejected = false;
  for (const id of tokens) {
    const b = tok.tokenBytes(id);
    if (b.length === 0) continue; // stop ids and other specials add no text
    if (!startsWith(bytes, pos, b)) break; // the kept text ends inside this token
    if (!feed(id, b.length)) {
      rejected = true;
      break;
    }
  }
  // The kept text ends inside a token (a criterion dropped its newline, say): the rest as text.
  const from = charAt[pos] as number;
  if (!rejected && pos < bytes.length && from >= 0) {
    const tail = tok.encode(text.slice(from));
    let n = 0;
    for (const id of tail) n += tok.tokenBytes(id).length;
    // A tokenizer that normalises text may not spell the tail back byte for byte: end before it.
    if (n === bytes.length - pos) {
      for (const id of tail) if (!feed(id, tok.tokenBytes(id).length)) break;
    }
  }
  for (let i = ends.length - 1; ; i--) {
    const at = ends[i] as number;
    if (at >= 0 && constraint.canStop()) return text.slice(0, at);
    if (i === 0) return '';
    constraint.rollback(1);
  }
}

/** offsets[b] = UTF-16 index of the character starting at UTF-8 byte b (b = length: text.length); -1 inside a character. */
function charOffsets(text: string, nBytes: number): Int32Array {
  const offsets = new Int32Array(nBytes + 1).fill(-1);
  let b = 0;
  let c = 0;
  for (const ch of text) {
    offsets[b] = c;
    const cp = ch.codePointAt(0) as number;
    b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    c += ch.length;
  }
  offsets[b] = c;
  return offsets;
}

function startsWith(bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  if (at + part.length > bytes.length) return false;
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
  return true;
}
