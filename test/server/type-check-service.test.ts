// specter.monitor.typeCheck through the completion service: the real model, the real monitor and
// TypeScript service, the fixture project on disk. Whatever the model writes after `expr.`, what
// the service returns adds no error on its lines that the document without it does not have —
// or, when it starts with a member name static analysis gives there, that the document with only
// that name does not have (the floor: `const n: number = c.increment` is the unfinished
// statement's error). Checked by a second, independent TypeScript service.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextCodeLineEnd } from '../../server/grammar/parse-check';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { cut, queryOf, tsProject } from '../fixtures/monitor/docs';
import { openTsProject, startService, type ServiceUnderTest } from './service-helpers';

const main = path.join(tsProject, 'src', 'main.ts');
const inserts = ['c.', 'label.', 'Counter.', 'c.increment().', 'const n: number = c.', 'process.', 't.', 'new Counter(label).'];

/** Errors on the completion's lines (to the next line with code) that the document without it lacks. */
function newErrors(ts: TsServiceSource, uri: string, prefix: string, text: string, suffix: string): string[] {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const onLines = (doc: string, end: number): string[] => {
    const next = nextCodeLineEnd(doc, end);
    const errors = ts.errorsSync({ languageId: 'typescript', uri, rootDir: tsProject, text: doc });
    assert.ok(errors, 'the checking service is ready');
    return errors.filter((e) => e.start >= lineStart && e.start <= next).map((e) => e.key);
  };
  const left = onLines(prefix + suffix, prefix.length);
  return onLines(prefix + text + suffix, prefix.length + text.length).filter((k) => {
    const i = left.indexOf(k);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

void describe('type check after decoding, through the completion service (real model)', () => {
  let sut: ServiceUnderTest;
  const checker = new TsServiceSource({ log: () => {}, buildWhenCold: true });
  before(async () => {
    sut = await startService((s) => ({ ...s, monitor: { ...s.monitor, enabled: true, typeCheck: 'relative' } }));
    // The project builds in the background.
    await openTsProject(sut, cut(main, 'c.increment();', ''));
  });
  after(async () => {
    checker.dispose();
    await sut.service.shutdown();
  });

  void it('a completion after `expr.` adds no new error on its lines', async () => {
    let nShown = 0;
    for (const insert of inserts) {
      const doc = cut(main, 'c.increment();', insert);
      const r = await sut.service.complete({ uri: doc.uri, languageId: 'typescript', prefix: doc.prefix, suffix: doc.suffix });
      if (r.kind !== 'ok') {
        assert.equal(r.kind, 'empty', JSON.stringify(r));
        continue;
      }
      const text = r.texts[0] ?? '';
      nShown++;
      const name = /^[\w$]*/.exec(text)?.[0] ?? '';
      const members = checker.querySync(queryOf(doc, 'typescript', tsProject)) ?? [];
      const base = name !== '' && members.includes(name) ? name : '';
      assert.deepEqual(newErrors(checker, doc.uri, doc.prefix + base, text.slice(base.length), doc.suffix), [], `${insert}${text}`);
    }
    console.log(`# ${nShown} of ${inserts.length} completions shown`);
  });
});
