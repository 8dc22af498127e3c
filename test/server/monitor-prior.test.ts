// The monitor's document prior and canonical spelling on the real path: the real model, the real
// TypeScript service over the fixture project, the completion service with its defaults. After
// `c.`, the member the model writes is one static analysis gives; with the document prior on (the
// default), it is one the document already uses after `c.` (`c.increment()`, `c.double` further down).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cut, tsProject } from '../fixtures/monitor/docs';
import { openTsProject, startService, type ServiceUnderTest } from './service-helpers';

const main = path.join(tsProject, 'src', 'main.ts');
const members = ['count', 'double', 'increment', 'label', 'total'];
/** What the fixture's text after the cursor uses after `c.`. */
const usedAfterC = ['increment', 'double'];

function ready(sut: ServiceUnderTest): Promise<void> {
  return openTsProject(sut, cut(main, 'c.increment();', ''));
}

async function memberAfterC(sut: ServiceUnderTest): Promise<string> {
  const doc = cut(main, 'c.increment();', 'c.');
  const r = await sut.service.complete({ uri: doc.uri, languageId: 'typescript', prefix: doc.prefix, suffix: doc.suffix });
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  return r.kind === 'ok' ? (/^[\w$]*/.exec(r.texts[0] ?? '')?.[0] ?? '') : '';
}

void describe('monitor document prior, through the completion service (real model)', () => {
  let on: ServiceUnderTest;
  let off: ServiceUnderTest;
  before(async () => {
    // startService turns the monitor off unless asked; its other settings stay the defaults.
    on = await startService((s) => ({ ...s, monitor: { ...s.monitor, enabled: true } }));
    off = await startService((s) => ({ ...s, monitor: { ...s.monitor, enabled: true, documentPrior: 0 } }));
    await ready(on);
    await ready(off);
  });
  after(async () => {
    await on.service.shutdown();
    await off.service.shutdown();
  });

  void it('is on by default and favours a member the document uses after the same receiver', async () => {
    assert.ok(on.service.settings.monitor.documentPrior > 0);
    assert.equal(on.service.settings.monitor.canonicalSpelling, true);
    const name = await memberAfterC(on);
    assert.ok(usedAfterC.includes(name), `c.${name}`);
    // Without the prior the member still exists (the monitor), whichever the model prefers.
    const plain = await memberAfterC(off);
    assert.ok(members.includes(plain), `c.${plain}`);
    console.log(`# c.${name} with the document prior, c.${plain} without`);
  });
});
