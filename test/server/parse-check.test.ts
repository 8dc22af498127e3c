// The tree-sitter check at the end of a completion (server/grammar/parse-check.ts) with the real
// parsers: tables of completions cut back or kept per language, then the check in the completion
// service with the real model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCompletion, codeTail, countErrors, nextCodeLineEnd, ParseChecker } from '../../server/grammar/parse-check';
import type { TokenizerLike } from '../../server/engine/model';
import { firstText, startService, type ServiceUnderTest } from './service-helpers';
import { defaultSettings, type CompletionStats } from '../../server/protocol';

const checker = new ParseChecker(() => undefined);
/** Every character offset is a token boundary here. */
const everyChar = (text: string): number[] => Array.from({ length: text.length }, (_, i) => i + 1);

/** A parse check budget no test reaches (the cut, not the clock, is under test). */
const unbounded = 600_000;

describe('tree-sitter check: cut back where the completion adds parse errors', () => {
  // [language, before, completion, after, expected kept completion]
  const cases: [string, string, string, string, string][] = [
    ['typescript', 'const x = foo(', 'a, b));', ');\n', 'a, b'],
    ['typescript', 'const x = foo(', 'a, b', ');\n', 'a, b'],
    ['typescript', 'function f(a: number) {\n  return a', ' + 1;\n}\n}', '\n}\n', ' + 1;\n'],
    ['typescript', 'let s = ', '"abc";', '\n', '"abc";'],
    ['javascript', 'if (ok) {\n  run(', ');\n  } else {', ');\n}\n', ''],
    ['python', 'def f(x):\n    return x', ' +* 2', '\n', ' '],
    ['python', 'def f(x):\n    return x', ' * 2', '\n', ' * 2'],
    ['python', 'for i in range(3):\n    print(i', ')', ')\n', ''],
    ['go', 'package main\n\nfunc f() int {\n\treturn 1', ' +', '\n}\n', ' '],
    ['rust', 'fn f() -> i32 {\n    let x = 1', ';\n    x', '\n}\n', ';\n    x'],
    ['java', 'class A {\n  int f() {\n    return 1', ';', '\n  }\n}\n', ';'],
  ];
  // relative: [language, before, completion, after, kept under relative, kept under strict]
  const relative: [string, string, string, string, string, string][] = [
    // No completion leaves `total +=` broken too: relative keeps the (broken) suggestion, strict cuts it
    // to its longest clean start (every character is a boundary here; `if` is one token in practice).
    ['python', 'def f(xs):\n    total = 0\n    for x in xs:\n        total += ', 'if not x:', '\n    return total\n', 'if not x:', 'i'],
    ['typescript', 'const x = foo(', 'a, b));', ');\n', 'a, b', 'a, b'],
    ['python', 'def f(x):\n    return x', ' +* 2', '\n', ' ', ' '],
    // A call signature copied into a class body: its own line parses, the error node the class
    // becomes starts above it. Errors the completion adds anywhere in the window count.
    ['typescript', 'declare class A {\n    constructor(x: number);\n    ', '(this: void, x: number): void;', '\n    m(): void;\n}\n', '', ''],
  ];
  for (const [languageId, pre, text, post, keptRelative, keptStrict] of relative) {
    it(`${languageId}: ${JSON.stringify(text)} → relative ${JSON.stringify(keptRelative)}, strict ${JSON.stringify(keptStrict)}`, async () => {
      const parser = await checker.load(languageId);
      assert.ok(parser);
      // No time budget: these cases are about which cut is kept, and a loaded machine (CI, the
      // first parses of a fresh wasm module) can spend the default 30 ms before reaching it.
      const input = { before: pre, after: post, text, boundaries: everyChar(text), budgetMs: unbounded };
      assert.equal(text.slice(0, checker.check(parser, input, 'relative').keepChars), keptRelative);
      assert.equal(text.slice(0, checker.check(parser, input, 'strict').keepChars), keptStrict);
    });
  }
  for (const [languageId, pre, text, post, expected] of cases) {
    it(`${languageId}: ${JSON.stringify(pre.split('\n').at(-1))} + ${JSON.stringify(text)} → ${JSON.stringify(expected)}`, async () => {
      const parser = await checker.load(languageId);
      assert.ok(parser, `no ${languageId} parser`);
      const r = checker.check(parser, { before: pre, after: post, text, boundaries: everyChar(text), budgetMs: unbounded }, 'strict');
      assert.equal(text.slice(0, r.keepChars), expected);
      if (r.keepChars > 0) assert.equal(r.errorsKept, 0, 'kept text leaves a parse error on its lines');
    });
  }

  it('never changes a one-line completion whose line parses, even where the window has errors of its own', async () => {
    const parser = await checker.load('typescript');
    assert.ok(parser);
    const pre = '  }\n}\nfunction g() {\n  return ';
    assert.ok(countErrors(parser, pre + '1;\n}\n') > 0, 'the window should carry an error of its own');
    const r = checker.check(parser, { before: pre, after: '\n}\n', text: '1;', boundaries: [1, 2] });
    assert.equal(r.keepChars, 2);
    // Two parses: with the completion, and without it to see that the window's errors are its own.
    assert.equal(r.nParses, 2);
    const clean = checker.check(parser, { before: 'function g() {\n  return ', after: '\n}\n', text: '1;', boundaries: [1, 2] });
    assert.equal(clean.keepChars, 2);
    assert.equal(clean.nParses, 1, 'a window without errors is parsed once');
  });

  it('a completion whose lines parse loses its last lines when that mends errors above them (a cut mid-block)', async () => {
    // The original went on inside an `if` whose `else:` is in the suffix; the completion writes
    // an `if` and then a line back at its level, so the `else:` no longer fits and the enclosing
    // `for` becomes the error, no worse than with no completion at all (timeit.py, held out).
    const parser = await checker.load('python');
    assert.ok(parser);
    const pre = 'def main(opts):\n    verbose = 0\n    for o, a in opts:\n        if o == "-n":\n            number = int(a)\n        if o == "-s":\n';
    const post = '\n            else:\n                print("no unit")\n        if o == "-v":\n            verbose += 1\n    return verbose\n';
    const text = '            if verbose:\n                precision += 1\n            verbose += 1';
    const kept = '            if verbose:\n                precision += 1';
    assert.equal(countErrors(parser, pre + text + post), countErrors(parser, pre + post), 'no worse than nothing');
    assert.ok(countErrors(parser, pre + text + post) > 0);
    assert.equal(countErrors(parser, pre + kept + post), 0);
    for (const mode of ['relative', 'strict'] as const) {
      const r = checker.check(parser, { before: pre, after: post, text, boundaries: everyChar(text), budgetMs: unbounded }, mode);
      assert.equal(r.errorsFull, 0, 'the errors start above the completion: its own lines are clean');
      assert.equal(text.slice(0, r.keepChars), kept, mode);
    }
    // Where no cut mends the window's own errors (a stray `}` above), the completion stays whole.
    const stray = '  }\n}\nfunction g(xs) {\n  for (const x of xs) {\n';
    const lines = '    total += x;\n    count += 1;';
    const ts = await checker.load('typescript');
    assert.ok(ts);
    assert.ok(countErrors(ts, stray + lines + '\n  }\n}\n') > 0, 'the window should carry an error of its own');
    const whole = checker.check(ts, { before: stray, after: '\n  }\n}\n', text: lines, boundaries: everyChar(lines), budgetMs: unbounded });
    assert.equal(whole.keepChars, lines.length);
  });

  it('errors the completion seems to add outside its lines are confirmed on the wide windows', async () => {
    // A real file (vscode-languageserver-protocol's notebook module): 4,000 characters back, the
    // narrow window starts inside a helper function, and 1,000 ahead it ends inside an `if`. A
    // completion that writes another `if (…) {` there (closed, like the original, by the suffix's
    // `}`) changes how tree-sitter recovers at those cut edges, so the narrow windows alone blame it.
    const parser = await checker.load('javascript');
    assert.ok(parser);
    const file = readFileSync(path.join(__dirname, '..', '..', 'node_modules', 'vscode-languageserver-protocol', 'lib', 'common', 'protocol.notebook.js'), 'utf8');
    const line = 'if (typeof one !== typeof other) {';
    assert.ok(file.includes(line), 'the fixture line is in the installed vscode-languageserver-protocol');
    const at = file.indexOf(line) + 'if (typeof'.length;
    const around = { prefix: file.slice(0, at), suffix: file.slice(file.indexOf('\n', at)) };
    const text = " one !== 'object') {";
    assert.equal(countErrors(parser, around.prefix + text + around.suffix), 0, 'the completion leaves the whole file without errors');
    const bytes = new TextEncoder();
    const byteTokenizer: TokenizerLike = {
      vocabSize: 256,
      encode: (t) => [...bytes.encode(t)],
      decode: (ids) => new TextDecoder().decode(Uint8Array.from(ids)),
      tokenBytes: (id) => Uint8Array.of(id),
      specialTokens: new Map(),
      stopIds: new Set(),
    };
    const checked = checkCompletion(checker, parser, byteTokenizer, around, text, byteTokenizer.encode(text), 'relative');
    assert.equal(checked.text, text);
    assert.equal(checked.result.nParses, 4, 'with and without the completion, in the narrow and in the wide windows');
    // The narrow windows alone would cut the `{` off (and leave the suffix's `}` one too many).
    const before = around.prefix.slice(around.prefix.indexOf('\n', around.prefix.length - 4000) + 1);
    const after = around.suffix.slice(0, around.suffix.lastIndexOf('\n', 1000) + 1);
    const narrow = checker.check(parser, { before, after, text, boundaries: everyChar(text), budgetMs: unbounded }, 'relative');
    assert.ok(narrow.keepChars < text.length, `narrow windows kept ${JSON.stringify(text.slice(0, narrow.keepChars))}`);
  });

  it('the window starts where the lexer is in code, not inside a docstring', async () => {
    // 4,000 characters back from the cursor is the middle of a long docstring: a window starting
    // there reads the docstring's end as the start of a string, every line after it is an error
    // with or without the completion, and a broken completion looks harmless.
    const parser = await checker.load('python');
    assert.ok(parser);
    const doc = Array.from({ length: 120 }, (_, i) => `    Line ${i} of the documentation, long enough to fill the window.\n`).join('');
    const prefix = `import os\n\n\ndef walk(items):\n    """Walk the items.\n\n${doc}    """\n    result = []\n    for node in items:\n`;
    const suffix = '\n    return result\n';
    const text = '        self._ready is None:\n            raise ValueError("not ready")';
    const usual = prefix.slice(prefix.indexOf('\n', prefix.length - 4000) + 1);
    assert.ok(usual.startsWith('    Line '), 'the usual window starts inside the docstring');
    const code = codeTail('python', prefix, 4000);
    assert.ok(code.startsWith('    result = []\n'), JSON.stringify(code.slice(0, 40)));
    const keep = (before: string): string => text.slice(0, checker.check(parser, { before, after: suffix, text, boundaries: everyChar(text), budgetMs: unbounded }, 'relative').keepChars);
    assert.equal(keep(usual), text, 'inside out, the broken header looks harmless');
    assert.equal(keep(code), '        self._ready is None');
    // Where the usual start is in code already, it stays; languages the lexer does not know too.
    const plain = 'x = 1\n'.repeat(1000);
    assert.equal(codeTail('python', plain, 4000), plain.slice(plain.indexOf('\n', plain.length - 4000) + 1));
    assert.equal(codeTail('cobol', prefix, 4000), usual);
  });

  it('counts only errors that start on the completion lines', async () => {
    const parser = await checker.load('python');
    assert.ok(parser);
    const text = 'x = (\ny = 1\nz = 2\n';
    assert.ok(countErrors(parser, text) > 0);
    assert.equal(countErrors(parser, text, text.indexOf('z'), text.length), 0);
  });

  it('languages without a grammar get no parser; a bad grammar directory is logged, not thrown', async () => {
    assert.equal(await checker.load('cobol'), undefined);
    const logs: string[] = [];
    const broken = new ParseChecker((m) => logs.push(m), '/nonexistent/tree-sitter');
    assert.equal(broken.parserNow('python'), undefined);
    assert.equal(await broken.load('python'), undefined);
    assert.ok(logs.some((l) => /tree-sitter|parser/.test(l) && /lexical check only/.test(l)), logs.join('\n'));
  });
});

describe('tree-sitter check in the completion service (real model)', () => {
  let sut: ServiceUnderTest;
  before(async () => {
    sut = await startService((s) => ({ ...s, completion: { ...s.completion, maxTokens: 32 } }));
  });
  after(async () => sut.service.shutdown());

  const prompts = [
    { uri: 'file:///w/a.py', languageId: 'python', prefix: 'import os\n\n\ndef walk(root):\n    for name in os.listdir(root', suffix: '\n' },
    { uri: 'file:///w/b.ts', languageId: 'typescript', prefix: 'export function sum(xs: number[]): number {\n  let total = 0;\n  for (const x of xs) {\n    total', suffix: '\n  }\n  return total;\n}\n' },
    { uri: 'file:///w/c.js', languageId: 'javascript', prefix: "const fs = require('fs');\n\nfunction read(p) {\n  return fs.", suffix: '\n}\n' },
    { uri: 'file:///w/d.py', languageId: 'python', prefix: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        if', suffix: '\n' },
    { uri: 'file:///w/e.ts', languageId: 'typescript', prefix: 'interface Point {\n  x: number;\n  y', suffix: '\n}\n' },
    { uri: 'file:///w/f.py', languageId: 'python', prefix: 'def area(w, h):\n    return w *', suffix: '\n' },
    // The code after the cursor needs the rest of the line: no completion at all leaves parse errors.
    { uri: 'file:///w/g.js', languageId: 'javascript', prefix: 'function diff(one, two) {\n  const result = [];\n  if ((one.a !== undefined || two.a !== undefined) && !equals(one.summary, two.summ', suffix: '\n    result.push(1);\n  }\n  return result;\n}\n' },
    { uri: 'file:///w/h.ts', languageId: 'typescript', prefix: 'interface Text {\n  replaceAll(search: string | RegExp, replacer: (substring', suffix: '\n}\n' },
  ];

  it('relative is the default; checked completions are prefixes of unchecked ones; strict ones parse', async () => {
    const base = sut.service.settings;
    assert.equal(base.constraints.parseCheck, 'relative');
    const parsers = new Map<string, Awaited<ReturnType<ParseChecker['load']>>>();
    for (const p of prompts) parsers.set(p.languageId, await sut.service.parseChecker.load(p.languageId));
    let nCut = 0;
    const run = async (p: (typeof prompts)[number], parseCheck: 'off' | 'relative' | 'strict'): Promise<string> => {
      // Cutting back alone: a retry (next test) may show another decode altogether.
      sut.service.settings = { ...base, constraints: { ...base.constraints, parseCheck, parseRetries: 0 } };
      const r = await sut.service.complete(p);
      return firstText(r);
    };
    for (const p of prompts) {
      const rawText = await run(p, 'off');
      const relativeText = await run(p, 'relative');
      const text = await run(p, 'strict');
      assert.ok(rawText.startsWith(relativeText), `${p.uri}: ${JSON.stringify(relativeText)} is not a prefix of ${JSON.stringify(rawText)}`);
      assert.ok(relativeText.startsWith(text), `${p.uri}: strict ${JSON.stringify(text)} is not a prefix of relative ${JSON.stringify(relativeText)}`);
      const parser = parsers.get(p.languageId);
      assert.ok(parser);
      // Parse errors that start on the lines the completion touches (from the cursor's line on).
      const errors = (t: string): number => {
        const all = p.prefix + t + p.suffix;
        const end = all.indexOf('\n', p.prefix.length + t.length);
        return countErrors(parser, all, p.prefix.lastIndexOf('\n') + 1, end < 0 ? all.length : end);
      };
      if (text !== rawText) {
        nCut++;
        assert.ok(errors(rawText) > 0, `${p.uri}: a clean completion was cut: ${JSON.stringify(rawText)}`);
      }
      if (relativeText !== rawText) assert.ok(errors(relativeText) < errors(rawText), `${p.uri}: relative cut without removing errors`);
      if (text !== '') assert.equal(errors(text), 0, `${p.uri}: ${JSON.stringify(text)} leaves parse errors on its lines`);
    }
    // Otherwise the test shows nothing: the model must have written something broken somewhere.
    assert.ok(nCut > 0, 'no completion was cut back');
    sut.service.settings = base;
  });

  it('parse retries: a completion with parse errors on its lines is decoded again (more often where cutting back cannot mend it); a retry is shown only when its lines parse', async (t) => {
    assert.equal(defaultSettings.constraints.parseRetries, 8, 'eight retries by default');
    assert.equal(defaultSettings.constraints.parseRetryBudgetMs, 500, 'within 500 ms by default');
    // The count, not the clock, is under test here: no time budget (startService lifts it).
    const base = sut.service.settings;
    assert.ok(base.constraints.parseRetryBudgetMs >= unbounded);
    let nRetried = 0;
    let nTaken = 0;
    // Retried where what the check left still had errors on its lines (the sampled retries).
    let nUnmendable = 0;
    const withConstraints = async (p: (typeof prompts)[number], c: Partial<typeof base.constraints>): Promise<string> => {
      sut.service.settings = { ...base, constraints: { ...base.constraints, ...c } };
      const text = firstText(await sut.service.complete(p));
      sut.service.settings = base;
      return text;
    };
    for (const p of prompts) {
      const parser = await sut.service.parseChecker.load(p.languageId);
      assert.ok(parser);
      // As the service counts: from the cursor's line to the next line with code after the completion.
      const linesErrors = (text: string): number => {
        const all = p.prefix + text + p.suffix;
        return countErrors(parser, all, p.prefix.lastIndexOf('\n') + 1, nextCodeLineEnd(all, p.prefix.length + text.length));
      };
      const raw = await withConstraints(p, { parseCheck: 'off' });
      const once = await withConstraints(p, { parseRetries: 0 });
      const r = await sut.service.complete(p);
      const stats = r.kind === 'ok' || r.kind === 'empty' ? r.stats : undefined;
      const text = firstText(r);
      assert.equal(stats?.parseRetryBudgetSpent, undefined, `${p.uri}: stopped by a budget it does not have`);
      // Seeded: the same request decodes the same retries.
      assert.equal(firstText(await sut.service.complete(p)), text, `${p.uri}: retries are not reproducible`);
      if (stats?.parseRetries === undefined) {
        assert.equal(text, once, `${p.uri}: no retry, same completion`);
        continue;
      }
      nRetried++;
      if (linesErrors(once) > 0) nUnmendable++;
      assert.ok(linesErrors(raw) > 0, `${p.uri}: ${JSON.stringify(raw)} parses, yet was decoded again`);
      if (text === once) {
        // None parsed: all retries spent — one where cutting back mended the completion, all where it could not.
        assert.equal(stats.parseRetries, linesErrors(once) > 0 ? base.constraints.parseRetries : 1, `${p.uri}: ${stats.parseRetries} retries for ${JSON.stringify(once)}`);
        continue;
      }
      nTaken++;
      assert.ok(stats.parseRetries >= 1 && stats.parseRetries <= base.constraints.parseRetries, `${p.uri}: ${stats.parseRetries} retries`);
      assert.notEqual(text.trim(), '', `${p.uri}: an empty retry is not taken`);
      assert.equal(linesErrors(text), 0, `${p.uri}: the retry ${JSON.stringify(text)} was taken with parse errors on its lines`);
    }
    assert.ok(nRetried > 0, 'no completion was decoded again');
    assert.ok(nUnmendable > 0, 'no completion that cutting back could not mend');
    t.diagnostic(`${nRetried} of ${prompts.length} completions decoded again (${nUnmendable} that cutting back could not mend), ${nTaken} of those shown`);
  });

  it('while typing (trigger automatic) at most one parse retry runs; a completion that needed more is marked deferred, and an explicit request runs them', async () => {
    // No time budget (startService lifts it): an explicit request that stopped at the clock would look deferred too.
    assert.ok(sut.service.settings.constraints.parseRetryBudgetMs >= unbounded);
    let nDeferred = 0;
    for (const p of prompts) {
      const explicit = await sut.service.complete(p);
      const automatic = await sut.service.complete({ ...p, trigger: 'automatic' });
      const statsOf = (r: typeof explicit): CompletionStats | undefined => (r.kind === 'ok' || r.kind === 'empty' ? r.stats : undefined);
      const e = statsOf(explicit);
      const a = statsOf(automatic);
      assert.ok((a?.parseRetries ?? 0) <= 1, `${p.uri}: ${a?.parseRetries} retries while typing`);
      assert.equal(e?.parseRetriesDeferred, undefined, `${p.uri}: an explicit request defers nothing`);
      if ((e?.parseRetries ?? 0) <= 1) {
        // The retries an explicit request ran, an automatic one runs too: the same completion.
        assert.equal(firstText(automatic), firstText(explicit), `${p.uri}`);
        assert.equal(a?.parseRetriesDeferred, undefined, `${p.uri}: nothing was left out`);
        continue;
      }
      // The explicit request needed its sampled retries: the automatic one stopped after the first,
      // which failed for it as it did for the explicit request, and shows the first completion.
      nDeferred++;
      assert.equal(a?.parseRetries, 1, `${p.uri}`);
      assert.equal(a?.parseRetriesDeferred, true, `${p.uri}: not marked deferred`);
      const base = sut.service.settings;
      sut.service.settings = { ...base, constraints: { ...base.constraints, parseRetries: 0 } };
      const once = await sut.service.complete(p);
      sut.service.settings = base;
      assert.equal(firstText(automatic), firstText(once), `${p.uri}: the automatic request did not keep the first completion`);
    }
    assert.ok(nDeferred > 0, 'no completion needed the sampled retries');
  });

  it('parse retries after the first start only within specter.constraints.parseRetryBudgetMs; a request that stopped there says so', async () => {
    const defaults = sut.service.settings;
    const run = async (p: (typeof prompts)[number], c: Partial<typeof defaults.constraints>) => {
      sut.service.settings = { ...defaults, constraints: { ...defaults.constraints, ...c } };
      const r = await sut.service.complete(p);
      sut.service.settings = defaults;
      return { text: firstText(r), stats: r.kind === 'ok' || r.kind === 'empty' ? r.stats : undefined };
    };
    let nStopped = 0;
    for (const p of prompts) {
      const unlimited = await run(p, { parseRetryBudgetMs: unbounded });
      // Every request has taken at least 0 ms when its second retry would start.
      const none = await run(p, { parseRetryBudgetMs: 0 });
      const one = await run(p, { parseRetries: 1, parseRetryBudgetMs: unbounded });
      assert.ok((none.stats?.parseRetries ?? 0) <= 1, `${p.uri}: ${none.stats?.parseRetries} retries with no budget`);
      // The first retry always runs: with no budget, the request is the one-retry request.
      assert.equal(none.text, one.text, `${p.uri}: no budget and one retry differ`);
      assert.equal(none.stats?.parseRetries, one.stats?.parseRetries, `${p.uri}`);
      if ((unlimited.stats?.parseRetries ?? 0) > 1) {
        nStopped++;
        assert.equal(none.stats?.parseRetryBudgetSpent, true, `${p.uri}: stopped by the budget without saying so`);
      } else {
        assert.equal(none.stats?.parseRetryBudgetSpent, undefined, `${p.uri}: nothing was left out`);
        assert.equal(none.text, unlimited.text, `${p.uri}`);
      }
    }
    assert.ok(nStopped > 0, 'no completion needed more than one retry');
  });
});
