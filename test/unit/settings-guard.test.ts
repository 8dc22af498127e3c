import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guardInput } from '../../server/input-guard';
import { defaultSettings } from '../../server/protocol';
import { parseSettings } from '../../server/settings';

describe('parseSettings', () => {
  const cases: { name: string; raw: unknown; check: (s: ReturnType<typeof parseSettings>) => void }[] = [
    { name: 'undefined gives the defaults', raw: undefined, check: (s) => assert.deepEqual(s, defaultSettings) },
    { name: 'wrong types are ignored', raw: { enabled: 'yes', threads: 'four', model: 3 }, check: (s) => assert.deepEqual(s, defaultSettings) },
    { name: 'unknown provider falls back to auto', raw: { executionProvider: 'tpu' }, check: (s) => assert.equal(s.executionProvider, 'auto') },
    { name: 'known provider is kept', raw: { executionProvider: 'cuda' }, check: (s) => assert.equal(s.executionProvider, 'cuda') },
    { name: 'numbers are clamped', raw: { threads: 9999, completion: { maxTokens: 0, temperature: 7 } }, check: (s) => {
      assert.equal(s.threads, 256);
      assert.equal(s.completion.maxTokens, 1);
      assert.equal(s.completion.temperature, 2);
    } },
    { name: 'partial completion section keeps other defaults', raw: { completion: { maxLines: 3 } }, check: (s) => {
      assert.equal(s.completion.maxLines, 3);
      assert.equal(s.completion.maxTokens, defaultSettings.completion.maxTokens);
    } },
    { name: 'empty variant falls back to model', raw: { modelVariant: '' }, check: (s) => assert.equal(s.modelVariant, 'model') },
    { name: 'multiline, parse check and thread spinning: known values kept, others default', raw: { completion: { multiline: 'never' }, constraints: { parseCheck: 'strict' }, threadSpinning: true }, check: (s) => {
      assert.equal(s.completion.multiline, 'never');
      assert.equal(s.constraints.parseCheck, 'strict');
      assert.equal(s.threadSpinning, true);
      const bad = parseSettings({ completion: { multiline: 'sometimes' }, constraints: { parseCheck: true }, threadSpinning: 'yes' });
      assert.equal(bad.completion.multiline, 'auto');
      assert.equal(bad.constraints.parseCheck, 'relative');
      assert.equal(bad.threadSpinning, false);
    } },
    { name: 'context cache: auto by default, on/off kept, anything else auto', raw: { completion: { contextCache: 'off' } }, check: (s) => {
      assert.equal(defaultSettings.completion.contextCache, 'auto');
      assert.equal(s.completion.contextCache, 'off');
      assert.equal(parseSettings({ completion: { contextCache: 'on' } }).completion.contextCache, 'on');
      assert.equal(parseSettings({ completion: { contextCache: true } }).completion.contextCache, 'auto');
    } },
    { name: 'parse retries: a count of 0–8 and a time budget of 0–60000 ms, clamped; wrong types give the defaults', raw: { constraints: { parseRetries: 3.4, parseRetryBudgetMs: 250 } }, check: (s) => {
      assert.equal(s.constraints.parseRetries, 3);
      assert.equal(s.constraints.parseRetryBudgetMs, 250);
      const clamped = parseSettings({ constraints: { parseRetries: 99, parseRetryBudgetMs: -5 } }).constraints;
      assert.deepEqual([clamped.parseRetries, clamped.parseRetryBudgetMs], [8, 0]);
      const bad = parseSettings({ constraints: { parseRetries: 'many', parseRetryBudgetMs: '1s' } }).constraints;
      assert.deepEqual([bad.parseRetries, bad.parseRetryBudgetMs], [defaultSettings.constraints.parseRetries, defaultSettings.constraints.parseRetryBudgetMs]);
    } },
  ];
  for (const c of cases) it(c.name, () => c.check(parseSettings(c.raw)));

  it("package.json's setting defaults are the server's defaults", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default?: unknown }> } | { properties: Record<string, { default?: unknown }> }[] } };
    // Read by the extension, or mapped to another place in SpecterSettings (specter.grammars).
    const elsewhere = /^specter\.(modelDirectories|disabledLanguages|debounceMs|debounceMode|grammars|idleUnloadMinutes|typing\..*|advanced\.hubEndpoint)$/;
    let nCompared = 0;
    for (const section of [pkg.contributes.configuration].flat()) {
      for (const [key, spec] of Object.entries(section.properties)) {
        let value: unknown = defaultSettings;
        for (const part of key.replace(/^specter\./, '').split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
        if (value === undefined) {
          assert.match(key, elsewhere, `${key} is neither a server setting nor known to be read elsewhere`);
          continue;
        }
        assert.deepEqual(spec.default, value, key);
        nCompared++;
      }
    }
    assert.ok(nCompared > 30, `only ${nCompared} settings compared`);
  });
});

describe('guardInput', () => {
  it('keeps ordinary code intact', () => {
    const out = guardInput('def f():\n    return ', '\n', 512, 128);
    assert.deepEqual(out, { ok: true, text: { prefix: 'def f():\n    return ', suffix: '\n' } });
  });
  it('cuts a huge single line to a window on each side of the cursor', () => {
    const line = 'x'.repeat(5_000_000);
    const out = guardInput(line, line, 100, 50);
    assert.ok(out.ok);
    assert.equal(out.text.prefix.length, 800);
    assert.equal(out.text.suffix.length, 400);
  });
  it('refuses NUL bytes near the cursor', () => {
    const out = guardInput('abc\u0000def', '', 512, 128);
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /binary/);
  });
  it('refuses text dominated by control characters', () => {
    const out = guardInput('\u0001\u0002\u0003\u0004ab', '', 512, 128);
    assert.equal(out.ok, false);
  });
  it('accepts tabs, CRLF and form feeds', () => {
    assert.ok(guardInput('\tif x:\r\n\t\tpass\f', '\r\n', 512, 128).ok);
  });
});
