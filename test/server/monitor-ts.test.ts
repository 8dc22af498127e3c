// The monitor against the real TypeScript language service over a fixture project on disk.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spellings } from '../../server/monitor/canonical';
import { createMonitor } from '../../server/monitor/index';
import * as typescript from 'typescript';
import { overlaySnapshot, TsServiceSource } from '../../server/monitor/ts-service';
import type { TokenizerLike } from '../../server/engine/model';
import { cut, percentile, queryOf, realTokenizer, tsProject, typeCheckKept } from '../fixtures/monitor/docs';

const main = path.join(tsProject, 'src', 'main.ts');
const log: string[] = [];

void describe('monitor: TypeScript language service', () => {
  let ts: TsServiceSource;
  let tok: TokenizerLike;
  before(() => {
    ts = new TsServiceSource({ log: (l) => log.push(l) });
    tok = realTokenizer();
  });
  after(() => ts.dispose());

  void it('a cold project: no constraint at once, the project builds in the background', async () => {
    const q = queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject);
    assert.equal(ts.querySync(q), undefined);
    await ts.prepare(q);
    assert.match(log.join('\n'), /typescript project .*tsconfig.json ready in \d+ ms/);
  });

  void it('after `c.` the legal set is exactly the public instance members of the class', () => {
    const names = ts.querySync(queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject));
    assert.deepEqual([...(names ?? [])].sort(), ['count', 'double', 'increment', 'label', 'total']);
  });

  void it('through an interface, a static side, and node_modules types', () => {
    const q = (insert: string): readonly string[] => ts.querySync(queryOf(cut(main, 'c.increment();', insert), 'typescript', tsProject)) ?? [];
    assert.deepEqual([...q('(c as Tally).')].sort(), ['label', 'total']);
    assert.ok(q('Counter.').includes('create'));
    assert.ok(!q('Counter.').includes('count'));
    assert.ok(q('process.').includes('argv'), 'types from @types/node via the project');
    assert.ok(q('label.').includes('toUpperCase'));
  });

  void it('not a member access (a string, a comment): no constraint', () => {
    assert.equal(ts.querySync(queryOf(cut(main, 'c.increment();', '// c.'), 'typescript', tsProject)), undefined);
  });

  void it('the Monitor with the real tokenizer allows only member spellings after `c.`', async () => {
    const doc = cut(main, 'c.increment();', 'c.');
    const m = createMonitor({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, prefix: doc.prefix, suffix: doc.suffix, tokenizer: tok, sources: [ts], log: () => {}, budgetMs: 50 });
    assert.ok(m);
    await m.pending?.();
    const allowed = new Uint8Array(tok.vocabSize);
    assert.ok(m.mask(allowed));
    const members = ['count', 'double', 'increment', 'label', 'total'];
    let n = 0;
    for (let id = 0; id < tok.vocabSize; id++) {
      if (allowed[id] !== 1) continue;
      n++;
      const text = tok.decode([id]);
      const ident = /^[A-Za-z0-9_$]*/.exec(text)?.[0] ?? '';
      const ok = members.some((x) => (ident === text ? x.startsWith(text) && text !== '' : x === ident));
      assert.ok(ok, `token ${JSON.stringify(text)} allowed after c.`);
      assert.equal(m.check(id), true);
    }
    assert.ok(n > 0);
    // "increment(" token by token, then the constraint is released.
    const ids = tok.encode('increment();');
    for (const id of ids) {
      assert.ok(m.check(id), `token ${JSON.stringify(tok.decode([id]))}`);
      m.advance(id);
    }
    assert.equal(m.current(), undefined);
    m.rollback(ids.length);
    const bad = tok.encode('foo')[0] as number;
    assert.equal(m.check(bad), false);
  });

  void it('operator+identifier tokens (`.count`) are judged at once by the in-process service', () => {
    const names = ['count', 'double', 'increment', 'label', 'total'];
    const dotTokens: [string, number][] = [];
    for (let id = 0; id < tok.vocabSize; id++) {
      const t = tok.decode([id]);
      if (/^\.[A-Za-z_]/.test(t)) dotTokens.push([t, id]);
    }
    assert.ok(dotTokens.length > 0);
    // The tokenizer's own first chunk of each name after `.` (canonical spelling).
    const firstChunks = new Set(names.flatMap((x) => spellings(tok, '.', x).map((c) => new TextDecoder().decode(c[0] ?? new Uint8Array(0)))));
    for (const canonical of [false, true]) {
      const doc = cut(main, 'c.increment();', 'c');
      const m = createMonitor({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, prefix: doc.prefix, suffix: doc.suffix, tokenizer: tok, sources: [ts], log: () => {}, budgetMs: 50, canonical });
      assert.ok(m);
      let nLegal = 0;
      for (const [t, id] of dotTokens) {
        const ident = /^\.([A-Za-z0-9_$]*)/.exec(t)?.[1] ?? '';
        const whole = ident === t.slice(1);
        // Byte rule: any prefix of a member (`.c`), or a whole member followed by a non-identifier byte.
        const legal = names.some((x) => (whole ? x.startsWith(ident) : x === ident)) && (!canonical || firstChunks.has(ident));
        if (legal) nLegal++;
        assert.equal(m.check(id), legal, `${t} (canonical ${String(canonical)})`);
      }
      assert.ok(nLegal > 0);
      assert.equal(m.stats.nSplit, 0);
    }
  });

  void it('type check after decoding: a completion that adds type errors is cut back before them, a clean one is kept', async () => {
    const doc = cut(main, 'c.increment();', 'c.');
    const errorsOf = (text: string): readonly { start: number; key: string }[] | undefined => ts.errorsSync({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text });
    const kept = (text: string, mode: 'relative' | 'strict' = 'relative'): Promise<string> => typeCheckKept(errorsOf, doc, tok, text, { mode });
    assert.equal(await kept('increment(2);'), 'increment(2);');
    // A string where a number goes: cut before the argument list that holds it.
    assert.equal(await kept('increment("x");'), 'increment');
    // No such member: nothing is left.
    assert.equal(await kept('nope();'), '');
    // A name that does not exist, after a correct member call.
    assert.equal(await kept('total() + missingName;'), 'total()');
    // Too many arguments: the cut must not leave "(" open (TypeScript reports it on the next line).
    assert.equal(await kept('label.toUpperCase(1);'), 'label.toUpperCase');
    assert.equal(await kept('increment(2);', 'strict'), 'increment(2);');
    assert.ok(ts.tCheckMs.length > 0);
  });

  void it('type check: unchecked JavaScript is not type-checked (no answer); `// @ts-check` turns it on', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-ts-js-'));
    const source = new TsServiceSource({ log: () => {}, buildWhenCold: true });
    try {
      const file = path.join(dir, 'a.js');
      const body = 'const s = "x";\ns.nope();\n';
      fs.writeFileSync(file, body);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowJs: true, checkJs: false, noEmit: true }, include: ['*.js'] }));
      const doc = (text: string): { languageId: string; uri: string; rootDir: string; text: string } => ({ languageId: 'javascript', uri: `file://${file}`, rootDir: dir, text });
      assert.equal(source.errorsSync(doc(body)), undefined);
      const checked = source.errorsSync(doc(`// @ts-check\n${body}`));
      assert.ok(checked?.some((e) => e.key.startsWith('2339 ')), JSON.stringify(checked));
    } finally {
      source.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('overlay snapshots tell TypeScript exactly what changed (incremental re-parse)', () => {
    const pairs: [string, string][] = [['abc', 'abXc'], ['abc', 'ac'], ['', 'x'], ['x', ''], ['aaaa', 'aaaaa'], ['const a = 1;\n', 'const ab = 1;\n'], ['same', 'same'], ['abcabc', 'abc']];
    for (const [before, after] of pairs) {
      const range = overlaySnapshot(typescript, after).getChangeRange(typescript.ScriptSnapshot.fromString(before));
      assert.ok(range);
      const { start, length } = range.span;
      assert.equal(before.slice(0, start) + after.slice(start, start + range.newLength) + before.slice(start + length), after, JSON.stringify([before, after]));
    }
    // Typing a statement character by character through one service (incremental) gives the
    // diagnostics and member lists of a service that parses the final text from scratch.
    const doc = cut(main, 'c.increment();', '');
    const typed = 'const n: string = c.total() + label.length;';
    for (let i = 1; i <= typed.length; i++) ts.errorsSync({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text: doc.prefix + typed.slice(0, i) + doc.suffix });
    const fresh = new TsServiceSource({ log: () => {}, buildWhenCold: true });
    try {
      const text = doc.prefix + typed + doc.suffix;
      const keys = (src: TsServiceSource): string[] => (src.errorsSync({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text }) ?? []).map((e) => `${e.start} ${e.key}`);
      assert.deepEqual(keys(ts), keys(fresh));
      assert.ok(keys(ts).some((k) => k.includes('2322')), 'number is not assignable to string');
      const q = queryOf({ uri: doc.uri, prefix: doc.prefix + 'c.', suffix: doc.suffix }, 'typescript', tsProject);
      assert.deepEqual([...(ts.querySync(q) ?? [])].sort(), [...(fresh.querySync(q) ?? [])].sort());
    } finally {
      fresh.dispose();
    }
  });

  void it('query latency after warm-up (reported, not asserted)', async () => {
    const doc = cut(main, 'c.increment();', '');
    ts.warm({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text: doc.prefix + doc.suffix });
    await new Promise((r) => setImmediate(r));
    const times: number[] = [];
    const exprs = ['c.', 'label.', 'Counter.', 'process.', 'c.increment().', 'new Counter(label).'];
    for (let i = 0; i < 60; i++) {
      const insert = `const v${i} = ${exprs[i % exprs.length] ?? ''}`;
      const t0 = performance.now();
      const names = ts.querySync(queryOf(cut(main, 'c.increment();', insert), 'typescript', tsProject));
      times.push(performance.now() - t0);
      assert.ok(names !== undefined && names.length > 0);
    }
    console.log(`# typescript service query after warm-up: p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms (n=${times.length})`);
  });

  void it('files in many folders: at most maxProjects type checkers are kept, an evicted one rebuilds', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-ts-lru-'));
    const lru = new TsServiceSource({ log: () => {}, maxProjects: 2, buildWhenCold: true });
    try {
      const members = (i: number): readonly string[] | undefined => {
        const dir = path.join(base, `folder${i}`);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, 'a.ts');
        const text = `class K${i} { alpha${i} = 1; beta${i}(): number { return 2; } }\nconst k = new K${i}();\nk.`;
        fs.writeFileSync(file, text);
        const q = queryOf({ uri: `file://${file}`, prefix: text, suffix: '' }, 'typescript', dir);
        return lru.querySync(q);
      };
      for (let i = 0; i < 5; i++) {
        assert.deepEqual([...(members(i) ?? [])].sort(), [`alpha${i}`, `beta${i}`]);
        assert.ok(lru.nProjects <= 2, `${lru.nProjects} projects kept after folder ${i}`);
      }
      // folder0's project was released; asking again rebuilds it with the same answer.
      assert.deepEqual([...(members(0) ?? [])].sort(), ['alpha0', 'beta0']);
      assert.ok(lru.nProjects <= 2);
    } finally {
      lru.dispose();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  void it("loads the editor's typescript.js when the client names one, and falls back when it cannot", () => {
    const q = queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject);
    const editorTs = require.resolve('typescript');
    for (const [typescriptPath, expected] of [
      [editorTs, `from ${editorTs}`],
      [path.join(os.tmpdir(), 'no-such-dir', 'typescript.js'), 'could not load'],
    ] as const) {
      const lines: string[] = [];
      const source = new TsServiceSource({ log: (l) => lines.push(l), typescriptPath, buildWhenCold: true });
      try {
        assert.deepEqual([...(source.querySync(q) ?? [])].sort(), ['count', 'double', 'increment', 'label', 'total']);
        assert.ok(lines.some((l) => l.includes(expected)), `log mentions "${expected}": ${lines.join(' | ')}`);
      } finally {
        source.dispose();
      }
    }
  });
});
