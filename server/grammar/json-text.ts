// JSON with comments (tsconfig.json, VS Code settings) as plain JSON for the grammar: comments
// become spaces, so offsets and the grammar's whitespace rules are unaffected.

/** Replaces `//` and `/* *\/` comments outside strings with spaces (newlines kept). */
export function blankJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (inString) {
      out += ch;
      if (ch === '\\' && i + 1 < text.length) {
        out += text[i + 1] as string;
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i++;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * Characters of `text` (JSON, comments blanked) up to and including its n-th structural character
 * (`{ } [ ] : ,`) outside strings; text.length when it has fewer. Up to there a string may still
 * be read as a key or as a value; past the first few, the parse no longer depends on the state it
 * started in.
 */
export function jsonStructuralLength(text: string, n: number): number {
  let inString = false;
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if ('{}[]:,'.includes(ch) && ++seen === n) return i + 1;
  }
  return text.length;
}
