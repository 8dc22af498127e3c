// specter/panelCompletions cancelled while decoding answers with the drafts decoded so far
// (protocol.ts), marked not done — the panel keeps showing them instead of going blank.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PanelProgressParams } from '../../server/protocol';
import { startService, type ServiceUnderTest } from './service-helpers';

describe('panel request cancelled mid-decode', () => {
  let sut: ServiceUnderTest;
  before(async () => {
    sut = await startService((s) => ({ ...s, completion: { ...s.completion, maxTokens: 400, maxLines: 200 } }));
  });
  after(async () => sut.service.shutdown());

  it('returns the drafts so far with cancelled: true', async () => {
    const abort = new AbortController();
    const seen: PanelProgressParams[] = [];
    const request = { uri: 'file:///w/p.py', languageId: 'python', prefix: 'import os\n\n\ndef walk(root):\n    ', suffix: '\n' };
    const result = await sut.service.panelCompletions('p1', request, 3, (p) => {
      seen.push(p);
      // Cancel once some text exists: the answer must carry it.
      if (p.drafts.some((d) => d.text.length > 0)) abort.abort();
    }, abort.signal);
    assert.ok(seen.length > 0, 'no progress before the end');
    assert.equal(result.cancelled, true);
    assert.ok(result.drafts.length > 0, 'no drafts returned');
    assert.ok(result.drafts.every((d) => !d.done));
    assert.ok(result.drafts.some((d) => d.text.length > 0));
  });
});
