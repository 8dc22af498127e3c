// XGrammar turns `properties` into a grammar that expects the keys in the schema's order; a key
// out of that order only matches the open "additional property" path, where any value goes. Real
// documents (package.json) follow no schema's order, so objects with `properties` are rewritten
// to `patternProperties`: one exact-match pattern per key, plus (for open objects) one pattern
// that matches every other key and nothing else — keys in any order, each with its own value
// schema, unknown keys still allowed. `required` cannot be expressed in an any-order grammar and
// is dropped (a completion edits the middle of a document).

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const escapeClass = (s: string): string => s.replace(/[\]\\^-]/g, '\\$&');

const keyChar = '[^"\\\\]';

interface Trie {
  terminal: boolean;
  children: Map<string, Trie>;
}

/**
 * A regex (no lookahead) for keys that do not start like any of `names`: strings whose first
 * `depth` characters are not the first `depth` characters of a name (strings shorter than that
 * must not be a name's prefix of their length… except when they are no name at all). Matching
 * precisely "every string but these" takes a state per character of every name, and XGrammar's
 * compile time grows with grammar states × vocabulary; a short prefix keeps it small. Unknown keys
 * that happen to share a prefix with a typed key are not matched (the document then falls back
 * to the syntax constraint).
 */
export function otherThanPattern(names: readonly string[], depth = 3): string {
  const root: Trie = { terminal: false, children: new Map() };
  for (const name of names) {
    let node = root;
    for (const ch of [...name].slice(0, depth)) {
      let next = node.children.get(ch);
      if (next === undefined) {
        next = { terminal: false, children: new Map() };
        node.children.set(ch, next);
      }
      node = next;
    }
    if ([...name].length <= depth) node.terminal = true;
  }
  // rest(n, d): continuations s of the path to n (length d) that the pattern accepts.
  const rest = (n: Trie, d: number): string => {
    const kids = [...n.children.keys()];
    const alts = [kids.length === 0 ? `${keyChar}+` : `[^${kids.map(escapeClass).join('')}"\\\\]${keyChar}*`];
    if (d + 1 < depth) for (const [ch, child] of n.children) alts.push(escapeRegex(ch) + rest(child, d + 1));
    const body = alts.length === 1 ? (alts[0] as string) : `(${alts.join('|')})`;
    return n.terminal ? body : `(${body})?`;
  };
  return `^${rest(root, 0)}$`;
}

/** Returns a copy of `schema` where objects with `properties` accept their keys in any order. */
export function anyOrderSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(anyOrderSchema);
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') {
      out[k] = isObject(v) ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, anyOrderSchema(s)])) : v;
    } else if (['items', 'additionalProperties', 'anyOf', 'oneOf', 'allOf', 'not', 'prefixItems'].includes(k)) {
      out[k] = anyOrderSchema(v);
    } else {
      out[k] = v;
    }
  }
  const props = out['properties'];
  if (!isObject(props)) return out;
  const extra = out['additionalProperties'];
  const patterns: Json = isObject(out['patternProperties']) ? { ...out['patternProperties'] } : {};
  for (const [name, s] of Object.entries(props)) patterns[`^${escapeRegex(name)}$`] = s;
  // Keys with any value need no protection from the catch-all pattern.
  const typed = Object.entries(props).filter(([, s]) => !(isObject(s) && Object.keys(s).length === 0)).map(([name]) => name);
  if (extra !== false) patterns[otherThanPattern(typed)] = isObject(extra) ? extra : {};
  delete out['properties'];
  delete out['required'];
  out['patternProperties'] = patterns;
  out['additionalProperties'] = false;
  return out;
}
