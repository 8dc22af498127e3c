// Prompts with the cursor inside a word, where token healing has a token to back up over; shared by
// the healing tests of single and multi-draft completions.
export interface MidWordPrompt {
  prefix: string;
  suffix: string;
  languageId: 'python' | 'typescript';
}

export const midWordPrompts: readonly MidWordPrompt[] = [
  { prefix: 'import * as path from "node:path";\n\nexport function base(file: string): string {\n  return path.basen', suffix: '\n}\n', languageId: 'typescript' },
  { prefix: 'def read_lines(path):\n    with open(path) as f:\n        return f.readl', suffix: '\n', languageId: 'python' },
  { prefix: 'const folders = vscode.workspace.workspaceFol', suffix: ';\n', languageId: 'typescript' },
  { prefix: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.app', suffix: '\n', languageId: 'python' },
  { prefix: 'for (let i = 0; i < items.len', suffix: '\n', languageId: 'typescript' },
  { prefix: 'export const DEFAULT_TIMEO', suffix: '\n', languageId: 'typescript' },
];

/** The completion request for prompt `i` (`tag` keeps the files of different tests apart). */
export function midWordRequest(p: MidWordPrompt, i: number, tag: string): { uri: string; languageId: string; prefix: string; suffix: string } {
  return { uri: `file:///w/${tag}${i}.${p.languageId === 'python' ? 'py' : 'ts'}`, languageId: p.languageId, prefix: p.prefix, suffix: p.suffix };
}
