// Parse-error counts with tree-sitter (@vscode/tree-sitter-wasm): ERROR and MISSING nodes, counted as
// the server's parse check counts them. Its own grammar table: the bench also parses C, C++ and C#,
// which Specter does not ship.
import { dirname, join } from 'node:path';
import { countErrors, sharedLanguage, sharedModule } from '../../server/grammar/parse-check';

type TreeSitter = typeof import('@vscode/tree-sitter-wasm');
type Parser = InstanceType<TreeSitter['Parser']>;

const wasmDir = dirname(require.resolve('@vscode/tree-sitter-wasm'));
const grammarFile: Record<string, string> = {
  typescript: 'tree-sitter-typescript.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  rust: 'tree-sitter-rust.wasm',
  java: 'tree-sitter-java.wasm',
  c: 'tree-sitter-cpp.wasm',
  cpp: 'tree-sitter-cpp.wasm',
  csharp: 'tree-sitter-c-sharp.wasm',
};

const parsers = new Map<string, Parser>();

export async function parserFor(languageId: string): Promise<Parser | undefined> {
  const file = grammarFile[languageId];
  if (file === undefined) return undefined;
  // The process's one tree-sitter module, shared with the server's parse check (parse-check.ts).
  const ts = await sharedModule(wasmDir);
  let p = parsers.get(languageId);
  if (p === undefined) {
    p = new ts.Parser();
    p.setLanguage(await sharedLanguage(ts, join(wasmDir, file)));
    parsers.set(languageId, p);
  }
  return p;
}

/** ERROR + MISSING nodes in the parse of `text`: the count the server's parse check uses. */
export { countErrors as countParseErrors };
