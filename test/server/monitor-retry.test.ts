// specter.monitor.typeRetries on the real path: the real model, the real monitor and TypeScript
// service over the fixture project, the completion service. Where a number goes (`return c.` in a
// function returning `number`), the model's first member makes the line a type error; the service
// decodes again without that name and shows a completion whose line type-checks, judged by a second,
// independent TypeScript service. With retries at 0 the first completion is shown, cut back.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextCodeLineEnd } from '../../server/grammar/parse-check';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { cut, queryOf, tsProject, type CutDocument } from '../fixtures/monitor/docs';
import { openTsProject, startService, type ServiceUnderTest } from './service-helpers';

const main = path.join(tsProject, 'src', 'main.ts');
const inserts = ['return c.', 'const n: number = c.'];

function ready(sut: ServiceUnderTest): Promise<void> {
  return openTsProject(sut, cut(main, 'c.increment();', ''));
}

/** Every error on the completion's lines (to the next line with code), the document's own included. */
function errorsOnLines(ts: TsServiceSource, doc: CutDocument, text: string): string[] {
  const full = doc.prefix + text + doc.suffix;
  const lineStart = doc.prefix.lastIndexOf('\n') + 1;
  const end = nextCodeLineEnd(full, doc.prefix.length + text.length);
  const errors = ts.errorsSync({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text: full });
  assert.ok(errors, 'the checking service is ready');
  return errors.filter((e) => e.start >= lineStart && e.start <= end).map((e) => e.key);
}

void describe('type-check retries, through the completion service (real model)', () => {
  let once: ServiceUnderTest;
  let retrying: ServiceUnderTest;
  const checker = new TsServiceSource({ log: () => {}, buildWhenCold: true });
  before(async () => {
    once = await startService((s) => ({ ...s, monitor: { ...s.monitor, enabled: true, typeRetries: 0 } }));
    // startService turns the monitor off; typeRetries stays at its default.
    retrying = await startService((s) => ({ ...s, monitor: { ...s.monitor, enabled: true } }));
    await ready(once);
    await ready(retrying);
  });
  after(async () => {
    checker.dispose();
    await once.service.shutdown();
    await retrying.service.shutdown();
  });

  void it('decodes again without the rejected member and shows a completion whose line type-checks', async () => {
    assert.ok(retrying.service.settings.monitor.typeRetries > 0, 'retries are on by default');
    for (const insert of inserts) {
      const doc = cut(main, 'c.increment();', insert);
      const request = { uri: doc.uri, languageId: 'typescript', prefix: doc.prefix, suffix: doc.suffix };
      const members = checker.querySync(queryOf(doc, 'typescript', tsProject)) ?? [];
      const first = await once.service.complete(request);
      assert.equal(first.kind, 'ok', `${JSON.stringify(first)}\n${once.logs.join('\n')}`);
      if (first.kind !== 'ok') continue;
      const firstName = /^[\w$]*/.exec(first.texts[0] ?? '')?.[0] ?? '';
      // The fixture exercises a retry only while the model's first pick is a type error here.
      assert.equal(first.stats.typeCheck, 'errors', `${insert}${first.texts[0] ?? ''}`);
      assert.equal(first.stats.typeRetries, undefined);
      assert.ok(errorsOnLines(checker, doc, first.texts[0] ?? '').length > 0, `${insert}${first.texts[0] ?? ''} is shown with its error (the floor)`);

      const r = await retrying.service.complete(request);
      assert.equal(r.kind, 'ok', `${JSON.stringify(r)}\n${retrying.logs.join('\n')}`);
      if (r.kind !== 'ok') continue;
      const text = r.texts[0] ?? '';
      const name = /^[\w$]*/.exec(text)?.[0] ?? '';
      assert.ok((r.stats.typeRetries ?? 0) >= 1, `${insert}${text}: decoded again`);
      assert.equal(r.stats.typeCheck, 'clean', `${insert}${text}`);
      assert.notEqual(name, firstName, 'the rejected member is left out');
      assert.ok(members.includes(name), `${name} is a member of c`);
      assert.deepEqual(errorsOnLines(checker, doc, text), [], `${insert}${text}`);
      console.log(`# ${insert}${first.texts[0] ?? ''} → ${insert}${text} after ${r.stats.typeRetries} retr${r.stats.typeRetries === 1 ? 'y' : 'ies'}`);
    }
  });
});
