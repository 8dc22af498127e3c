// `specter.completion.multiline` on the real model: typing inside a statement gets the rest of
// that line (the first line of what `always` would suggest, from fewer generated tokens); a
// blank line or a block opener still gets several lines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SpecterSettings } from '../../server/protocol';
import { firstText as text, goldenSettings, startService, type ServiceUnderTest } from './service-helpers';

const midStatement = [
  { uri: 'file:///w/a.py', languageId: 'python', prefix: 'import os\n\n\ndef walk(root):\n    for name in os.list', suffix: '\n' },
  { uri: 'file:///w/b.ts', languageId: 'typescript', prefix: 'export function sum(xs: number[]): number {\n  let total = 0;\n  for (const x of x', suffix: '\n}\n' },
  { uri: 'file:///w/c.js', languageId: 'javascript', prefix: "const fs = require('fs');\nconst path = require('pa", suffix: '\n' },
  { uri: 'file:///w/d.py', languageId: 'python', prefix: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.app', suffix: '\n' },
];

describe('multiline policy with the real model', () => {
  let sut: ServiceUnderTest;
  let base: SpecterSettings;
  const withPolicy = (multiline: SpecterSettings['completion']['multiline']): void => {
    sut.service.settings = { ...base, completion: { ...base.completion, multiline, maxTokens: 48 } };
  };
  before(async () => {
    sut = await startService(goldenSettings);
    base = sut.service.settings;
  });
  after(async () => sut.service.shutdown());

  it('auto is the default', () => {
    assert.equal(base.completion.multiline, 'auto');
  });

  it('inside a statement, auto gives the first line of what always gives', async () => {
    let multiLineSeen = 0;
    for (const request of midStatement) {
      withPolicy('always');
      const always = await sut.service.complete(request);
      withPolicy('auto');
      const auto = await sut.service.complete(request);
      const full = text(always);
      if (full.includes('\n')) multiLineSeen++;
      assert.equal(text(auto), full.split('\n')[0], `${request.uri}: auto is not the first line of always`);
      if (auto.kind === 'ok' && always.kind === 'ok' && full.includes('\n')) {
        assert.ok(auto.stats.generatedTokens < always.stats.generatedTokens, `${request.uri}: auto generated as many tokens`);
      }
    }
    // Otherwise this test would show nothing: the model must have wanted more than one line somewhere.
    assert.ok(multiLineSeen > 0, 'no prompt made the model write several lines');
  });

  it('on a blank line auto may write several lines, never may not', async () => {
    const request = { uri: 'file:///w/e.py', languageId: 'python', prefix: 'def area(w, h):\n    """Area of a rectangle."""\n    ', suffix: '\n' };
    withPolicy('always');
    const always = text(await sut.service.complete(request));
    withPolicy('auto');
    assert.equal(text(await sut.service.complete(request)), always);
    withPolicy('never');
    const never = text(await sut.service.complete(request));
    assert.ok(!never.includes('\n'), `never gave several lines: ${JSON.stringify(never)}`);
    assert.equal(never, always.split('\n')[0]);
  });
});
