// Development tasks for tuning decoding settings without touching the held-out benchmark tasks:
// "complete the rest of the line" tasks (the rules of tools/model/make_tasks.py: cursor after ≥ 3
// characters of a line's content, target the rest of the line, prefix up to 2000 characters, suffix
// up to 1000 from the line's '\n') cut from code the model never trained on and that every fresh
// clone has: this repository's own Python tools and TypeScript server, and the JavaScript of npm
// packages outside the training set (vscode-jsonrpc, commander).
// The set the context cache's weights were chosen on is committed as bench/tasks/dev-line.jsonl;
// this generator reads the current sources, so a re-run gives another set (hence the default
// output in .scratch/, not over the committed file).
//   node --import tsx bench/tasks/make-dev-tasks.ts [--n 150] [--out .scratch/dev-line.jsonl]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng } from '../../server/engine/rng';
import { positiveOption, root } from '../report';

interface Source {
  language: string;
  dir: string;
  ext: RegExp;
  share: number;
}

const sources: Source[] = [
  { language: 'python', dir: 'tools/model', ext: /\.py$/, share: 0.4 },
  { language: 'typescript', dir: 'server', ext: /\.ts$/, share: 0.35 },
  { language: 'javascript', dir: 'node_modules/vscode-jsonrpc/lib', ext: /\.js$/, share: 0.15 },
  { language: 'javascript', dir: 'node_modules/commander/lib', ext: /\.js$/, share: 0.1 },
];

function filesUnder(dir: string, ext: RegExp): string[] {
  const names = fs.readdirSync(dir, { recursive: true }).map(String);
  return names.filter((n) => ext.test(n) && !n.endsWith('.d.ts')).map((n) => path.join(dir, n)).sort();
}

function main(): void {
  const args = process.argv;
  const n = positiveOption(args, '--n', 150);
  const at = args.indexOf('--out');
  const out = at >= 0 ? (args[at + 1] as string) : path.join(root, '.scratch', 'dev-line.jsonl');
  const rng = createRng(20261124);
  const pickInt = (k: number): number => Math.min(k - 1, Math.floor(rng.next() * k));
  const lines: string[] = [];
  for (const s of sources) {
    const files = filesUnder(path.join(root, s.dir), s.ext);
    const candidates: { file: string; text: string; start: number; end: number; indent: number }[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      let start = 0;
      for (const line of text.split('\n')) {
        const end = start + line.length;
        const content = line.trim();
        if (end < text.length && content.length >= 6 && line.length <= 160) candidates.push({ file, text, start, end, indent: line.length - line.trimStart().length });
        start = end + 1;
      }
    }
    const want = Math.round(n * s.share);
    for (let k = 0; k < want && candidates.length > 0; k++) {
      const c = candidates.splice(pickInt(candidates.length), 1)[0];
      if (c === undefined) break;
      const contentLength = c.end - c.start - c.indent;
      const cut = c.start + c.indent + 3 + pickInt(Math.max(1, contentLength - 3));
      if (cut >= c.end) continue;
      lines.push(
        JSON.stringify({
          id: `dev-${lines.length.toString().padStart(3, '0')}`,
          language: s.language,
          path: path.relative(root, c.file),
          prefix: c.text.slice(Math.max(0, cut - 2000), cut),
          suffix: c.text.slice(c.end, c.end + 1000),
          target: c.text.slice(cut, c.end),
        }),
      );
    }
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${lines.join('\n')}\n`);
  process.stderr.write(`${lines.length} dev tasks → ${out}\n`);
}

main();
