// Finds function, method and test-case blocks in real source files by their lines, for the editing
// workload: a JS/TS block is a one-line header ending in `{` and the first later line at the same
// indentation starting with `}`; a Python block is a one-line `def …:` header and the lines indented
// deeper than it. Heuristic on purpose: only well-formed blocks are needed, not every block.

export type Language = 'javascript' | 'typescript' | 'python';

export interface Block {
  /** Line index of the header. */
  header: number;
  /** Body lines are [header + 1, end). */
  end: number;
  /** JS/TS: the closing line (index `end`), e.g. `    });`; Python: undefined. */
  close: string | undefined;
  indent: string;
  /** Indentation of the first body line. */
  bodyIndent: string;
  /** Function or method name; for a test call, its label. */
  name: string;
  params: string[];
  isTest: boolean;
}

const notNames = new Set(['if', 'for', 'while', 'switch', 'catch', 'function', 'return', 'with', 'else', 'do', 'try', 'finally', 'constructor']);
const jsFunction = /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(([^()]*)\)\s*(?::\s*[^{]+)?\{$/;
const jsMethod = /^\s*(?:(?:public|private|protected|static|async|get|set|override)\s+)*([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\(([^()]*)\)\s*(?::\s*[^{]+)?\{$/;
const jsAssigned = /^\s*(?:(?:var|let|const)\s+)?(?:[\w$]+\.)*([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?function\s*[\w$]*\s*\(([^()]*)\)\s*\{$/;
const jsTestCall = /^\s*(?:[\w$]+\.)?(?:test|it)\(\s*(['"`])(.+?)\1\s*,\s*(?:async\s+)?(?:function\s*\(([^()]*)\)|\(([^()]*)\)\s*=>)\s*\{$/;
const pyDef = /^(\s*)(?:async\s+)?def\s+(\w+)\((.*)\)\s*(?:->\s*[^:]+)?:\s*$/;

function indentOf(line: string): string {
  return /^\s*/.exec(line)?.[0] ?? '';
}

function paramNames(list: string): string[] {
  return list
    .split(',')
    .map((p) => /^\s*(?:\.\.\.|\*{1,2})?([A-Za-z_$][\w$]*)/.exec(p)?.[1] ?? '')
    .filter((p) => p !== '');
}

export function jsBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    if (!line.endsWith('{')) continue;
    let name: string | undefined;
    let params: string[] = [];
    let isTest = false;
    const test = jsTestCall.exec(line);
    const fn = jsFunction.exec(line) ?? jsAssigned.exec(line) ?? jsMethod.exec(line);
    if (test !== null) {
      name = test[2];
      params = paramNames(test[3] ?? test[4] ?? '');
      isTest = true;
    } else if (fn !== null && !notNames.has(fn[1] ?? '')) {
      name = fn[1];
      params = paramNames(fn[2] ?? '');
    }
    if (name === undefined) continue;
    const indent = indentOf(line);
    let end = -1;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j] ?? '';
      if (l.trim() === '') continue;
      const ind = indentOf(l);
      if (ind.length < indent.length) break;
      if (ind === indent) {
        if (l.trim().startsWith('}')) end = j;
        break;
      }
    }
    if (end < 0) continue;
    const first = lines.slice(i + 1, end).find((l) => l.trim() !== '') ?? '';
    blocks.push({ header: i, end, close: lines[end] ?? '}', indent, bodyIndent: indentOf(first), name, params, isTest });
  }
  return blocks;
}

export function pyBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = pyDef.exec(lines[i] ?? '');
    if (m === null) continue;
    const indent = m[1] ?? '';
    let end = i + 1;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j] ?? '';
      if (l.trim() === '') continue;
      if (indentOf(l).length <= indent.length) break;
      end = j + 1;
    }
    if (end === i + 1) continue;
    const name = m[2] ?? '';
    const first = lines.slice(i + 1, end).find((l) => l.trim() !== '') ?? '';
    blocks.push({ header: i, end, close: undefined, indent, bodyIndent: indentOf(first), name, params: paramNames(m[3] ?? ''), isTest: name.startsWith('test') });
  }
  return blocks;
}

/** 1 − Levenshtein distance / longer length. */
export function editSimilarity(a: string, b: string): number {
  if (a.length === 0 && b.length === 0) return 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return 1 - (prev[b.length] ?? 0) / Math.max(a.length, b.length);
}
