import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../server/engine/decode';
import { NGramIndex } from '../../server/engine/ngram';
import { suppressIds } from '../../server/engine/processors';
import { createRng } from '../../server/engine/rng';
import { cancellation, maxLines, timeCapAfterNewline } from '../../server/engine/stopping';
import { draftKey, superposedDecode, type SuperposedOutcome, type SuperposedRequest } from '../../server/engine/superposed';
import { FakeLM, FakeTokenizer, inductionScore, referenceGreedy } from './fakes';
import { FakeEmbeddingLM } from './superposed-fakes';

const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'] });
const V = tok.vocabSize;
const prompts = ['function add(a, b) {\n  return a + b;\n}\n', 'abcabcabc', 'x', 'const list = [1, 2, 3, 4];\nfor (const', 'if (a) {\n  b();\n} else {\n'];

function request(prompt: readonly number[], extra: Partial<SuperposedRequest> = {}): SuperposedRequest {
  return { prompt, maxTokens: 24, k: 3, stops: () => [], ...extra };
}

function done(outcome: SuperposedOutcome): Extract<SuperposedOutcome, { kind: 'done' }> {
  assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  return outcome as Extract<SuperposedOutcome, { kind: 'done' }>;
}

describe('superposedDecode', () => {
  for (const text of prompts) {
    it(`k = 1 reproduces greedy decode() (and through the embeds path): ${JSON.stringify(text.slice(0, 16))}`, async () => {
      const score = inductionScore(V);
      const prompt = tok.encode(text);
      const greedy = await decode(new FakeLM({ vocabSize: V, score }), tok, { prompt, maxTokens: 30, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [maxLines(2)] });
      assert.equal(greedy.kind, 'done');
      if (greedy.kind !== 'done') return;
      assert.deepEqual(greedy.tokens.slice(0, 3), referenceGreedy(score, prompt, 3, V, tok.stopIds));
      const ngram = new NGramIndex();
      ngram.setDocument('other', tok.encode('abc xyz abd xyz'));
      for (const alwaysEmbeds of [false, true]) {
        const lm = new FakeEmbeddingLM({ vocabSize: V, score });
        const out = done(await superposedDecode(lm, tok, request(prompt, { k: 1, maxTokens: 30, ngram, alpha: 0.54, alwaysEmbeds, stops: () => [maxLines(2)] })));
        assert.equal(out.drafts.length, 1);
        assert.deepEqual(out.drafts[0]?.tokens, greedy.tokens);
        assert.equal(out.drafts[0]?.text, greedy.text);
        assert.equal(out.drafts[0]?.stopReason, greedy.stopReason);
        assert.equal(lm.embedCalls.length, alwaysEmbeds ? greedy.tokens.length - 1 : 0);
        assert.deepEqual(lm.cached, prompt, 'the cache is cut back to the prompt');
      }
    });
  }

  for (const text of prompts) {
    it(`k = 3 gives 3 distinct drafts from one pass per step: ${JSON.stringify(text.slice(0, 16))}`, async () => {
      const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V) });
      const prompt = tok.encode(text);
      const ngram = new NGramIndex();
      const out = done(await superposedDecode(lm, tok, request(prompt, { ngram })));
      assert.equal(out.drafts.length, 3);
      assert.equal(new Set(out.drafts.map((d) => d.text)).size, 3);
      assert.ok(out.drafts.every((d) => d.text !== '' && d.tokens.length === 24 && d.stopReason === 'max-tokens'));
      // One prefill, then one forward per step after the first token: the cost of one draft.
      assert.equal(out.stats.nForwardDecode, 23);
      assert.equal(lm.calls.length, 1 + 23);
      assert.ok(lm.calls.slice(1).every((c) => c.length === 1));
      assert.equal(lm.embedCalls.length, 23);
      for (const e of lm.embedCalls) assert.ok(Math.abs(e.reduce((s, x) => s + x, 0) - 1) < 1e-5, 'weights sum to 1');
      assert.deepEqual(lm.cached, prompt);
      assert.equal(out.stats.mode, 'superposed');
    });
  }

  it('reuses the prompt KV across requests (LCP) and never leaves mixed positions behind', async () => {
    const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V) });
    const first = tok.encode('const a = 1;\nconst b = ');
    const second = tok.encode('const a = 1;\nconst b = 2');
    done(await superposedDecode(lm, tok, request(first)));
    const out = done(await superposedDecode(lm, tok, request(second)));
    assert.equal(out.stats.reusedTokens, first.length);
    assert.deepEqual(lm.cached, second);
  });

  it('gives each draft its own stopping criteria (forks replay the parent state)', async () => {
    let t = 0;
    const clock = (): number => (t += 10);
    const prompt = tok.encode('a\nb\nc\n');
    const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V, { lo: 10, hi: 12 }) }); // "\n" (10) or 11
    const out = done(await superposedDecode(lm, tok, request(prompt, { clock, maxTokens: 12, stops: () => [maxLines(2), timeCapAfterNewline(1e9)] })));
    for (const d of out.drafts) {
      assert.ok(!d.text.includes('\n') || d.text.split('\n').length <= 2, JSON.stringify(d.text));
    }
  });

  it('dedupes drafts that end with the same text and drops empty ones', async () => {
    // Every path says "ok" then <eos>: drafts differ only in dropped tokens after a maxLines cut.
    const prompt = tok.encode('> ');
    const eos = tok.id('<eos>');
    const score = (seq: readonly number[]): Float32Array => {
      const row = new Float32Array(V).fill(-30);
      const gen = seq.length - prompt.length;
      if (gen === 0) {
        row[eos] = 3; // an empty draft
        row[10] = 2.9; // "\n": cut by maxLines(1) to ""
        row[111] = 2.8; // "o"
        row[112] = 2.7; // "p"
        row[113] = 2.6; // "q"
      } else {
        row[107] = 3; // "k"
        row[eos] = 2;
        row[10] = 1;
      }
      return row;
    };
    const lm = new FakeEmbeddingLM({ vocabSize: V, score });
    const out = done(await superposedDecode(lm, tok, request(prompt, { maxTokens: 4, stops: () => [maxLines(1)] })));
    const texts = out.drafts.map((d) => d.text);
    assert.equal(new Set(texts).size, texts.length);
    assert.ok(texts.every((x) => x !== ''));
    // Empty candidates give their slot away: still k drafts ("o…" plus two spares).
    assert.equal(texts.length, 3, JSON.stringify(texts));
  });

  it('drafts that differ only in white space count as one', async () => {
    const prompt = tok.encode('> ');
    const eos = tok.id('<eos>');
    // First token: " " (then "k"), "k", "  " (then end: blank), "o", "p"; after that "k" then <eos>.
    const score = (seq: readonly number[]): Float32Array => {
      const row = new Float32Array(V).fill(-30);
      const gen = seq.length - prompt.length;
      if (gen === 0) {
        row[32] = 3; // " "
        row[107] = 2.9; // "k"
        row[111] = 2.7; // "o"
        row[112] = 2.6; // "p"
      } else if (seq[seq.length - 1] === 32 && gen === 1) {
        row[107] = 3;
      } else {
        row[eos] = 3;
      }
      return row;
    };
    const lm = new FakeEmbeddingLM({ vocabSize: V, score });
    const out = done(await superposedDecode(lm, tok, request(prompt, { maxTokens: 4 })));
    const keys = out.drafts.map((d) => draftKey(d.text));
    assert.equal(new Set(keys).size, keys.length, JSON.stringify(out.drafts.map((d) => d.text)));
    assert.ok(out.drafts.every((d) => d.text !== ''));
    assert.deepEqual(draftKey('  foo(a,\n   b) '), 'foo(a, b)');
    assert.deepEqual(draftKey('  '), '  ', 'a blank draft is its own key');
  });

  it('falls back to branch mode without an embeds path: k distinct greedy continuations', async () => {
    const score = inductionScore(V);
    const lm = new FakeLM({ vocabSize: V, score });
    const prompt = tok.encode('function add(a, b) {\n');
    const out = done(await superposedDecode(lm, tok, request(prompt, { maxTokens: 10 })));
    assert.equal(out.stats.mode, 'branch');
    assert.equal(out.drafts.length, 3);
    assert.equal(new Set(out.drafts.map((d) => d.text)).size, 3);
    // One draft is exactly the greedy continuation.
    const greedy = referenceGreedy(score, prompt, 10, V, tok.stopIds);
    assert.ok(out.drafts.some((d) => JSON.stringify(d.tokens) === JSON.stringify(greedy)));
    assert.equal(out.stats.nForwardDecode, 3 * 9);
    assert.deepEqual(lm.cached, prompt);
  });

  it('falls back to branch mode when the embedding table cannot be read (no model.safetensors), unless superposed is forced', async () => {
    const score = inductionScore(V);
    const prompt = tok.encode('function add(a, b) {\n');
    const lm = new FakeEmbeddingLM({ vocabSize: V, score, embeddingTableError: 'The model directory has no model.safetensors' });
    assert.ok(lm.hasEmbedsPath);
    const out = done(await superposedDecode(lm, tok, request(prompt, { maxTokens: 10 })));
    assert.equal(out.stats.mode, 'branch');
    assert.match(out.stats.fallbackReason ?? '', /no model\.safetensors/);
    assert.equal(lm.embedCalls.length, 0, 'the embeds path is not used');
    assert.deepEqual(lm.cached, prompt);
    // Exactly what branch mode gives on a model without an embeds path.
    const plain = done(await superposedDecode(new FakeLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 10 })));
    assert.deepEqual(out.drafts, plain.drafts);
    assert.equal(plain.stats.fallbackReason, undefined, 'no fallback reason when branch mode is the natural choice');
    assert.equal(out.drafts.length, 3);

    const forced = await superposedDecode(lm, tok, request(prompt, { maxTokens: 10, mode: 'superposed' }));
    assert.equal(forced.kind, 'error');
    assert.match(forced.kind === 'error' ? forced.message : '', /no model\.safetensors/);
    const ok = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 10 })));
    assert.equal(ok.stats.mode, 'superposed');
    assert.equal(ok.stats.fallbackReason, undefined);
  });

  it('n-gram interpolation steers the drafts towards the user\'s code', async () => {
    const prompt = tok.encode('x = ');
    // The model slightly prefers "b" (98) over "q" (113) after the prompt, otherwise spaces.
    const score = (seq: readonly number[]): Float32Array => {
      const row = new Float32Array(V).fill(-30);
      if (seq.length === prompt.length) {
        row[98] = 2;
        row[113] = 1.9;
        row[122] = 1.8;
      } else row[32] = 1;
      return row;
    };
    const ngram = new NGramIndex();
    ngram.setDocument('ws', tok.encode('x = q x = q x = q'));
    const withQ = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 2, ngram, alpha: 0.54 })));
    assert.equal(withQ.drafts[0]?.text[0], 'q');
    const modelOnly = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 2, ngram, alpha: 0 })));
    assert.equal(modelOnly.drafts[0]?.text[0], 'b');
  });

  it('applies sequence-independent processors to the shared row', async () => {
    const prompt = tok.encode('abcabc');
    const banned = [97, 98, 99];
    const out = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, { processors: [suppressIds(banned)] })));
    for (const d of out.drafts) assert.ok(d.tokens.every((t) => !banned.includes(t)), JSON.stringify(d.tokens));
  });

  for (const mode of ['superposed', 'branch'] as const) {
    it(`draft processors see the prompt and that draft's own tokens (${mode})`, async () => {
      const prompt = tok.encode('abcabc');
      const seen: number[][] = [];
      // Pushes each draft one letter on from its own last token: a, b, c → d, e, f, … A processor
      // that saw only the prompt (the shared row's sequence) would push every step to 'd'.
      const next = {
        process: (row: Float32Array, sequence: readonly number[]): void => {
          seen.push([...sequence]);
          row[(sequence[sequence.length - 1] as number) + 1] = 1e6;
        },
      };
      const out = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, { mode, maxTokens: 4, draftProcessors: [next] })));
      assert.ok(out.drafts.length >= 1);
      assert.equal(out.drafts[0]?.text, 'defg');
      // Every call saw the prompt first; the first draft's row was edited at every step given
      // exactly the tokens it had so far.
      for (const s of seen) assert.deepEqual(s.slice(0, prompt.length), prompt);
      const keys = new Set(seen.map((s) => s.join(',')));
      const tokens = out.drafts[0]?.tokens ?? [];
      for (let i = 0; i < tokens.length; i++) assert.ok(keys.has([...prompt, ...tokens.slice(0, i)].join(',')), `step ${i}`);
    });

    it(`first-step processors choose every draft's first token only (${mode})`, async () => {
      const prompt = tok.encode('abcabc');
      const only = [120, 121]; // 'x', 'y'
      const firstOnly = { process: (row: Float32Array): void => row.forEach((_, id) => { if (!only.includes(id)) row[id] = -Infinity; }) };
      const out = done(await superposedDecode(new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, { mode, firstStep: [firstOnly] })));
      assert.ok(out.drafts.length >= 1 && out.drafts.every((d) => only.includes(d.tokens[0] as number)), JSON.stringify(out.drafts.map((d) => d.text)));
      // Branch mode branches only at the first token: as many drafts as allowed first tokens.
      if (mode === 'branch') assert.deepEqual(out.drafts.map((d) => d.tokens[0]).sort(), only);
      // Later steps are free: the unconstrained run continues with other tokens after the first.
      assert.ok(out.drafts.some((d) => d.tokens.slice(1).some((t) => !only.includes(t))));
    });
  }

  it('cancels between steps and returns the partial drafts', async () => {
    const controller = new AbortController();
    let n = 0;
    const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V), beforeForward: () => { if (++n === 5) controller.abort(); } });
    const prompt = tok.encode('abc');
    const out = await superposedDecode(lm, tok, request(prompt, { signal: controller.signal }));
    assert.equal(out.kind, 'cancelled');
    assert.deepEqual(lm.cached, prompt);
  });

  for (const mode of ['superposed', 'branch'] as const) {
    it(`a cancellation seen by the stop criteria first is a cancelled outcome, not short drafts (${mode})`, async () => {
      // As the completion service asks: the signal both in the request and in every draft's criteria.
      for (const abortAt of mode === 'superposed' ? [2, 4, 8] : [2, 8, 15, 22]) {
        const controller = new AbortController();
        let n = 0;
        const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V), beforeForward: () => { if (++n === abortAt) controller.abort(); } });
        const prompt = tok.encode('function add(a, b) {\n');
        const out = await superposedDecode(lm, tok, request(prompt, { mode, maxTokens: 8, signal: controller.signal, stops: () => [cancellation(controller.signal)] }));
        assert.equal(out.kind, 'cancelled', `${mode}, aborted at forward ${abortAt}: ${JSON.stringify(out)}`);
        assert.deepEqual(lm.cached, prompt);
      }
    });
  }

  it('rejects bad prompts as error outcomes', async () => {
    const lm = new FakeEmbeddingLM({ vocabSize: V, score: inductionScore(V), contextLength: 8 });
    assert.equal((await superposedDecode(lm, tok, request([]))).kind, 'error');
    assert.equal((await superposedDecode(lm, tok, request(tok.encode('0123456789')))).kind, 'error');
    const plain = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    assert.equal((await superposedDecode(plain, tok, request(tok.encode('ab'), { mode: 'superposed' }))).kind, 'error');
  });
});
