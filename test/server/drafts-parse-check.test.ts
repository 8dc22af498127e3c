// Multi-draft completions (specter.drafts.count > 1, and the panel) go through the parse check like
// a single completion: with the real model on held-out block tasks, every draft shown adds no
// parse errors to the code around the cursor, although some drafts the model wrote did.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCompletion } from '../../server/grammar/parse-check';
import { startService, type ServiceUnderTest } from './service-helpers';
import { repoRoot } from './runtime-helpers';

interface Task { id: string; language: string; path: string; prefix: string; suffix: string }

const tasks = fs
  .readFileSync(path.join(repoRoot, 'bench', 'tasks', 'block-completion.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Task)
  .filter((_, i) => i % 5 === 0);

void describe('multi-draft completions are parse-checked (real model)', () => {
  let checked: ServiceUnderTest;
  let raw: ServiceUnderTest;
  before(async () => {
    const drafts = (s: ServiceUnderTest['service']['settings']): ServiceUnderTest['service']['settings'] => ({
      ...s,
      drafts: { ...s.drafts, count: 3 },
      completion: { ...s.completion, maxTokens: 32, maxLines: 4 },
    });
    checked = await startService(drafts);
    raw = await startService((s) => {
      const d = drafts(s);
      return { ...d, constraints: { ...d.constraints, parseCheck: 'off' } };
    });
  });
  after(async () => {
    await checked.service.shutdown();
    await raw.service.shutdown();
  });

  void it(`${tasks.length} block tasks, 3 drafts each: no draft shown adds parse errors; some written ones did`, async () => {
    const checker = checked.service.parseChecker;
    const tok = (await checked.host.acquire())?.tokenizer;
    assert.ok(tok);
    /** Whether `text` at the cursor adds parse errors: the relative check then cuts it, however short its time budget. */
    const addsErrors = async (t: Task, text: string): Promise<boolean> => {
      const parser = await checker.load(t.language);
      assert.ok(parser, t.language);
      return checkCompletion(checker, parser, tok, t, text, tok.encode(text), 'relative').text.length < text.length;
    };
    let nShown = 0;
    let nRawBad = 0;
    for (const t of tasks) {
      const request = { uri: t.path, languageId: t.language, prefix: t.prefix, suffix: t.suffix };
      const r = await checked.service.complete(request);
      if (r.kind === 'ok') {
        assert.equal(new Set(r.texts).size, r.texts.length, 'no draft repeats another');
        for (const text of r.texts) {
          nShown++;
          assert.equal(await addsErrors(t, text), false, `${t.id}: ${JSON.stringify(text)}`);
        }
      }
      const r0 = await raw.service.complete(request);
      if (r0.kind === 'ok') for (const text of r0.texts) nRawBad += (await addsErrors(t, text)) ? 1 : 0;
    }
    assert.ok(nShown >= tasks.length, `${nShown} drafts shown`);
    assert.ok(nRawBad > 0, 'some drafts the model wrote add parse errors, so the check had work to do');
  });
});

void describe('the parse check reads the document, not the text kept for the prompt (real model)', () => {
  // 300 small functions (9,000+ characters) before the cursor; the prompt keeps 32 tokens of it
  // (256 characters, guardInput). The check's windows must still come from the document.
  const prefix = Array.from({ length: 300 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join('') + '\n\ndef g(a, b):\n    return ';
  const suffix = '\n\n\ndef h(y):\n    return y\n';
  for (const count of [1, 3]) {
    void it(`${count === 1 ? 'a single completion' : '3 drafts'}: the check's windows reach past the prompt's 256 characters`, async () => {
      const sut = await startService((s) => ({
        ...s,
        drafts: { ...s.drafts, count },
        completion: { ...s.completion, maxPrefixTokens: 32, maxSuffixTokens: 32, maxTokens: 16 },
      }));
      try {
        const checker = sut.service.parseChecker;
        const seen: { before: number; wideBefore: number }[] = [];
        const check = checker.check.bind(checker);
        checker.check = (parser, input, mode) => {
          seen.push({ before: input.before.length, wideBefore: input.wide?.before.length ?? 0 });
          return check(parser, input, mode);
        };
        const r = await sut.service.complete({ uri: 'file:///doc.py', languageId: 'python', prefix, suffix });
        assert.equal(r.kind, 'ok', JSON.stringify(r));
        assert.ok(seen.length > 0, 'the check ran');
        for (const s of seen) {
          assert.ok(s.before > 3000, `narrow window before the cursor: ${s.before} characters`);
          // The whole prefix, less what token healing moved into the completion.
          assert.ok(s.wideBefore > prefix.length - 16 && s.wideBefore <= prefix.length, `wide window before the cursor: ${s.wideBefore} of ${prefix.length} characters`);
        }
      } finally {
        await sut.service.shutdown();
      }
    });
  }
});
