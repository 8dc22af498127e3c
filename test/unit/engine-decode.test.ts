import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, type DecodeOutcome, type DecodeRequest } from '../../server/engine/decode';
import { suppressIds } from '../../server/engine/processors';
import { createRng } from '../../server/engine/rng';
import { maxLines } from '../../server/engine/stopping';
import { FakeLM, FakeTokenizer, inductionScore, referenceGreedy, scriptedScore } from './fakes';

const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'] });
const eos = tok.id('<eos>');
const V = tok.vocabSize;

function request(prompt: readonly number[], extra: Partial<DecodeRequest> = {}): DecodeRequest {
  return { prompt, maxTokens: 32, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], ...extra };
}

function done(outcome: DecodeOutcome): Extract<DecodeOutcome, { kind: 'done' }> {
  assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  return outcome as Extract<DecodeOutcome, { kind: 'done' }>;
}

const prompts = ['function add(a, b) {\n  return a + b;\n}\n', 'abcabcabc', 'x', 'const list = [1, 2, 3, 4];\nfor (const'];

describe('decode: greedy', () => {
  for (const text of prompts) {
    it(`equals the reference greedy continuation: ${JSON.stringify(text.slice(0, 20))}`, async () => {
      const score = inductionScore(V);
      const lm = new FakeLM({ vocabSize: V, score });
      const prompt = tok.encode(text);
      const out = done(await decode(lm, tok, request(prompt, { maxTokens: 40 })));
      assert.deepEqual(out.tokens, referenceGreedy(score, prompt, 40, V, tok.stopIds));
      assert.equal(out.stopReason, 'max-tokens');
      assert.equal(out.text, tok.decode(out.tokens));
      // One prefill pass (prompt < chunk) and one pass per generated token after the first.
      assert.equal(out.nForward, 1 + 39);
      assert.deepEqual(lm.cached, [...prompt, ...out.tokens.slice(0, -1)]);
    });
  }

  it('stops on the stop token and returns its text', async () => {
    const prompt = tok.encode('say: ');
    const lm = new FakeLM({ vocabSize: V, score: scriptedScore(V, prompt.length, tok.encode('hello'), eos) });
    const out = done(await decode(lm, tok, request(prompt)));
    assert.equal(out.text, 'hello');
    assert.equal(out.stopReason, 'stop-token');
    assert.deepEqual(out.tokens, [...tok.encode('hello'), eos]);
  });

  it('never returns half a UTF-8 character', async () => {
    const prompt = tok.encode('> ');
    const bytes = tok.encode('añb'); // ñ is two bytes
    const lm = new FakeLM({ vocabSize: V, score: scriptedScore(V, prompt.length, bytes, eos) });
    for (const [nMax, expected] of [[1, 'a'], [2, 'a'], [3, 'añ'], [4, 'añb']] as const) {
      lm.truncate(0);
      assert.equal(done(await decode(lm, tok, request(prompt, { maxTokens: nMax }))).text, expected);
    }
  });

  it('never picks padded logits columns beyond the tokenizer vocabulary', async () => {
    const width = V + 16;
    const lm = new FakeLM({
      vocabSize: width,
      score: () => {
        const row = new Float32Array(width);
        row[width - 1] = 100;
        row[65] = 1;
        return row;
      },
    });
    assert.deepEqual(done(await decode(lm, tok, request([1], { maxTokens: 3 }))).tokens, [65, 65, 65]);
  });

  it('applies logits processors', async () => {
    const prompt = tok.encode('q');
    const lm = new FakeLM({ vocabSize: V, score: scriptedScore(V, prompt.length, tok.encode('ab'), eos) });
    const out = done(await decode(lm, tok, request(prompt, { maxTokens: 2, processors: [suppressIds([97])] })));
    assert.notEqual(out.tokens[0], 97);
  });

  it('trims through the stopping criteria', async () => {
    const prompt = tok.encode('> ');
    const lm = new FakeLM({ vocabSize: V, score: scriptedScore(V, prompt.length, tok.encode('one\ntwo\nthree'), eos) });
    const out = done(await decode(lm, tok, request(prompt, { stops: [maxLines(2)] })));
    assert.equal(out.text, 'one\ntwo');
    assert.equal(out.stopReason, 'max-lines');
  });

  it('stops when the context is full', async () => {
    const lm = new FakeLM({ vocabSize: V, contextLength: 10, score: inductionScore(V) });
    const out = done(await decode(lm, tok, request(tok.encode('abcdef'), { maxTokens: 50 })));
    assert.equal(out.stopReason, 'context-full');
    assert.equal(out.tokens.length, 4);
  });
});

describe('decode: sampling', () => {
  it('is reproducible from the seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
      const req = request(tok.encode('let x = '), { sampling: { temperature: 0.8, topP: 0.95 }, rng: createRng(seed) });
      return done(await decode(lm, tok, req)).tokens;
    };
    assert.deepEqual(await run(5), await run(5));
    assert.notDeepEqual(await run(5), await run(6));
  });
});

describe('decode: KV reuse', () => {
  it('typing one more character runs only the new tokens and matches a cold start', async () => {
    const score = inductionScore(V);
    const lm = new FakeLM({ vocabSize: V, score });
    const before = tok.encode('function add(a, b) {\n  return a');
    done(await decode(lm, tok, request(before, { maxTokens: 8 })));
    const after = tok.encode('function add(a, b) {\n  return a ');
    const nTokensBefore = lm.counters.nTokens;
    const warm = done(await decode(lm, tok, request(after, { maxTokens: 8 })));
    assert.equal(warm.reusedTokens, before.length);
    assert.equal(lm.calls[lm.calls.length - warm.nForward]!.length, after.length - before.length);
    assert.equal(lm.counters.nTokens - nTokensBefore, 1 + 7);
    const cold = done(await decode(new FakeLM({ vocabSize: V, score }), tok, request(after, { maxTokens: 8 })));
    assert.deepEqual(warm.tokens, cold.tokens);
    assert.equal(cold.reusedTokens, 0);
  });

  it('the same prompt again reuses all but the last token', async () => {
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    const prompt = tok.encode('abcdefgh');
    done(await decode(lm, tok, request(prompt, { maxTokens: 1 })));
    assert.equal(done(await decode(lm, tok, request(prompt, { maxTokens: 1 }))).reusedTokens, prompt.length - 1);
  });

  it('maxTokens 0 only prefills (prefetch): the next request reuses it', async () => {
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    const prompt = tok.encode('warm me up');
    const out = done(await decode(lm, tok, request(prompt, { maxTokens: 0 })));
    assert.deepEqual([out.text, out.tokens, lm.cached], ['', [], prompt]);
    assert.equal(done(await decode(lm, tok, request([...prompt, 33], { maxTokens: 1 }))).reusedTokens, prompt.length);
  });

  it('prefills in chunks', async () => {
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    const out = done(await decode(lm, tok, request(tok.encode('0123456789'), { maxTokens: 1, prefillChunk: 4 })));
    assert.deepEqual(lm.calls.map((c) => c.length), [4, 4, 2]);
    assert.equal(out.nForward, 3);
  });
});

describe('decode: cancellation and errors', () => {
  it('cancelled mid-decode: partial text, cache consistent, next request still correct', async () => {
    const score = inductionScore(V);
    const controller = new AbortController();
    const lm = new FakeLM({ vocabSize: V, score, beforeForward: (_t, self) => (self.counters.nForward === 5 ? controller.abort() : undefined) });
    const prompt = tok.encode('hello world, hello');
    const out = await decode(lm, tok, request(prompt, { signal: controller.signal }));
    assert.equal(out.kind, 'cancelled');
    if (out.kind !== 'cancelled') return;
    assert.ok(out.tokens.length > 0 && out.tokens.length < 32);
    assert.deepEqual(lm.cached, [...prompt, ...out.tokens].slice(0, lm.cached.length));
    assert.ok(lm.cached.length >= prompt.length);
    const again = done(await decode(lm, tok, request(prompt)));
    assert.deepEqual(again.tokens, referenceGreedy(score, prompt, 32, V, tok.stopIds));
  });

  it('cancelled during prefill keeps the chunks that ran', async () => {
    const controller = new AbortController();
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V), beforeForward: (_t, self) => (self.counters.nForward === 1 ? controller.abort() : undefined) });
    const prompt = tok.encode('0123456789');
    const out = await decode(lm, tok, request(prompt, { signal: controller.signal, prefillChunk: 4 }));
    assert.equal(out.kind, 'cancelled');
    assert.deepEqual(lm.cached, prompt.slice(0, 8));
  });

  it('an aborted signal before start returns cancelled without running the model', async () => {
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    const out = await decode(lm, tok, request(tok.encode('abc'), { signal: AbortSignal.abort() }));
    assert.equal(out.kind, 'cancelled');
    assert.equal(lm.counters.nForward, 0);
  });

  const errorCases: [string, () => FakeLM, number[]][] = [
    ['empty prompt', () => new FakeLM({ vocabSize: V, score: inductionScore(V) }), []],
    ['prompt longer than the context', () => new FakeLM({ vocabSize: V, contextLength: 4, score: inductionScore(V) }), [1, 2, 3, 4, 5]],
    ['forward throws', () => new FakeLM({ vocabSize: V, score: inductionScore(V), beforeForward: () => { throw new Error('boom'); } }), [1, 2]],
  ];
  for (const [name, make, prompt] of errorCases) {
    it(`typed error: ${name}`, async () => {
      const out = await decode(make(), tok, request(prompt));
      assert.equal(out.kind, 'error');
    });
  }

  it('reports timings from the injected clock', async () => {
    let t = 0;
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V), beforeForward: () => void (t += 10) });
    const out = done(await decode(lm, tok, request(tok.encode('ab'), { maxTokens: 3, clock: () => t })));
    assert.equal(out.tPrefillMs, 10);
    assert.equal(out.tDecodeMs, 20);
    assert.equal(out.tTotalMs, 30);
  });
});
