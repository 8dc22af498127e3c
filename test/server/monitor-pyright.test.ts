// The monitor against a real language server: pyright-langserver --stdio (npm `pyright`).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createMonitor } from '../../server/monitor/index';
import { bundledPyright, LspSource, ProjectRoots } from '../../server/monitor/lsp-source';
import type { TokenizerLike } from '../../server/engine/model';
import { cut, percentile, pyProject, queryOf, realTokenizer, typeCheckKept } from '../fixtures/monitor/docs';

const shapes = path.join(pyProject, 'shapes.py');
const pointMembers = ['x', 'y', 'norm', 'scaled'];

void describe('monitor: pyright over LSP', () => {
  let src: LspSource;
  let tok: TokenizerLike;
  const log: string[] = [];
  before(() => {
    const pyright = bundledPyright();
    assert.ok(pyright, 'npm pyright is installed');
    src = new LspSource({ servers: { python: pyright }, trusted: true, log: (l) => log.push(l) });
    tok = realTokenizer();
  });
  after(() => src.dispose());

  void it("after `q.` the legal set holds Point's members (and object's), nothing else", async () => {
    const names = await src.query(queryOf(cut(shapes, 'q.norm()', 'q.'), 'python', pyProject));
    assert.ok(names);
    for (const m of pointMembers) assert.ok(names.includes(m), m);
    const own = names.filter((n) => !n.startsWith('__'));
    assert.deepEqual([...own].sort(), [...pointMembers].sort());
  });

  void it('after `q.x.` the members of float', async () => {
    const names = await src.query(queryOf(cut(shapes, 'q.norm()', 'q.x.'), 'python', pyProject));
    assert.ok(names?.includes('is_integer'));
    assert.ok(!names?.includes('norm'));
  });

  void it('the Monitor waits for pyright, then constrains; `.`+identifier tokens are split meanwhile', async () => {
    const doc = cut(shapes, 'q.norm()', 'q');
    const m = createMonitor({ languageId: 'python', uri: doc.uri, rootDir: pyProject, prefix: doc.prefix, suffix: doc.suffix, tokenizer: tok, sources: [src], log: () => {}, budgetMs: 5000 });
    assert.ok(m);
    const dotNorm = tok.encode('.norm')[0] as number;
    if (tok.decode([dotNorm]).length > 1) {
      assert.equal(m.check(dotNorm), false, 'answer not in yet: split at the operator');
      assert.equal(m.stats.nSplit, 1);
    }
    const dot = tok.encode('.')[0] as number;
    m.advance(dot);
    const wait = m.pending?.();
    assert.ok(wait);
    await wait;
    const ids = tok.encode('norm()');
    for (const id of ids) {
      assert.ok(m.check(id), tok.decode([id]));
      m.advance(id);
    }
    m.rollback(ids.length);
    assert.equal(m.check(tok.encode('foo')[0] as number), false);
    assert.equal(m.stats.nOk, 1);
  });

  void it('type check through pyright diagnostics: a completion that adds errors is cut back before them, a clean one is kept', async () => {
    // `r = q.` before `return q.norm()` (which the cut leaves unindented: an error with or without the completion).
    const doc = cut(shapes, 'return q.norm()', 'r = q.');
    const errorsOf = (text: string): Promise<readonly { start: number; key: string }[] | undefined> =>
      src.errors({ languageId: 'python', uri: doc.uri, rootDir: pyProject, text }, 20_000);
    const kept = (text: string): Promise<string> => typeCheckKept(errorsOf, doc, tok, text, { budgetMs: 60_000 });
    assert.equal(await kept('norm()'), 'norm()');
    assert.equal(await kept('scaled(2.0).x'), 'scaled(2.0).x');
    // A str where a float goes: cut before the argument list that holds it.
    assert.equal(await kept('scaled("x")'), 'scaled');
    // No such member: nothing is left.
    assert.equal(await kept('nope()'), '');
    // A name that does not exist, after a correct member call.
    assert.equal(await kept('norm() + missing_name'), 'norm()');
    // `return q.scaled` returns a method where a float goes: an error of the unfinished statement.
    // Without a floor nothing is shown; with the verified name as the floor, the name stays.
    const ret = cut(shapes, 'q.norm()', 'q.');
    const retKept = (floorChars: number): Promise<string> =>
      typeCheckKept((text) => src.errors({ languageId: 'python', uri: ret.uri, rootDir: pyProject, text }, 20_000), ret, tok, 'scaled(1, 2)', { budgetMs: 60_000, floorChars });
    assert.equal(await retKept(0), '');
    assert.equal(await retKept('scaled'.length), 'scaled');
    // The errors are pyright's own, by code and message.
    const errs = await errorsOf(doc.prefix + 'nope()' + doc.suffix);
    assert.ok(errs?.some((e) => e.start === doc.prefix.length && e.key.startsWith('reportAttributeAccessIssue:')), JSON.stringify(errs));
  });

  void it('query latency after warm-up (reported, not asserted)', async () => {
    const times: number[] = [];
    const exprs = ['q.', 'p.', 'q.x.', 'self.'];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      const names = await src.query(queryOf(cut(shapes, 'q.norm()', `v${i} = ${exprs[i % exprs.length] ?? ''}`), 'python', pyProject));
      times.push(performance.now() - t0);
      assert.ok(names !== undefined);
    }
    console.log(`# pyright query after warm-up: p50 ${percentile(times, 0.5).toFixed(0)} ms, p95 ${percentile(times, 0.95).toFixed(0)} ms (n=${times.length})`);
  });

  void it('a missing server: one clear log line, no answer, no throw', async () => {
    const lines: string[] = [];
    const missing = new LspSource({ servers: { python: ['specter-no-such-server', '--stdio'] }, trusted: true, log: (l) => lines.push(l) });
    const q = queryOf(cut(shapes, 'q.norm()', 'q.'), 'python', pyProject);
    assert.equal(await missing.query(q), undefined);
    assert.equal(await missing.query(q), undefined);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /could not start .*unconstrained/);
    missing.dispose();
  });

  void it('a crashed server restarts on next use', async () => {
    const lines: string[] = [];
    const pyright = bundledPyright() ?? [];
    const s = new LspSource({ servers: { python: pyright }, trusted: true, log: (l) => lines.push(l) });
    const q = queryOf(cut(shapes, 'q.norm()', 'q.'), 'python', pyProject);
    assert.ok((await s.query(q))?.includes('norm'));
    const pid = s.pids()[0];
    assert.ok(pid !== undefined);
    const exited = s.waitForExit();
    process.kill(pid, 'SIGKILL');
    await exited;
    assert.match(lines.join('\n'), /exited .*restarts on next use/);
    assert.ok((await s.query(q))?.includes('norm'));
    s.dispose();
  });

  void it('without a workspace folder: the server of the file\'s project (nearest pyrightconfig.json)', async () => {
    assert.equal(new ProjectRoots().of(pathToFileURL(shapes).href), pyProject);
    assert.equal(new ProjectRoots().of('untitled:Untitled-1'), undefined);
    const { rootDir: _, ...q } = queryOf(cut(shapes, 'q.norm()', 'q.'), 'python', pyProject);
    const pids = src.pids();
    assert.ok((await src.query(q))?.includes('norm'));
    assert.deepEqual(src.pids(), pids, 'the same server as with rootDir = the project');
  });

  void it('untrusted workspace: nothing is launched', async () => {
    const lines: string[] = [];
    const s = new LspSource({ servers: { python: bundledPyright() ?? [] }, trusted: false, log: (l) => lines.push(l) });
    assert.equal(s.supports('python'), false);
    assert.equal(await s.query(queryOf(cut(shapes, 'q.norm()', 'q.'), 'python', pyProject)), undefined);
    assert.deepEqual(s.pids(), []);
    assert.match(lines[0] ?? '', /untrusted/);
  });
});
