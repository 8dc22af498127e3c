import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopySpecDrafter } from '../../server/engine/copyspec';
import { decode, type DecodeOutcome, type DecodeRequest } from '../../server/engine/decode';
import type { Drafter } from '../../server/engine/drafter';
import { emptyDrafterStats } from '../../server/engine/drafter';
import { PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { createRng, type Rng } from '../../server/engine/rng';
import { distribution } from '../../server/engine/sampler';
import { makeStopCriteria } from '../../server/engine/stopping';
import { FakeLM, FakeTokenizer, hash, inductionScore, type ScoreFn } from './fakes';

const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'] });
const eos = tok.id('<eos>');
const V = tok.vocabSize;

/** The induction model, plus an end-of-sequence token that sometimes wins. */
function scoreWithEos(): ScoreFn {
  const base = inductionScore(V);
  return (seq) => {
    const row = base(seq);
    row[eos] = (hash(seq[seq.length - 1] ?? 0, seq[seq.length - 2] ?? 0, 7) % 1000) / 200 - 1;
    return row;
  };
}

/** Prompts of every kind: random text, repeated blocks with small edits, code-like lines. */
function randomPrompt(rng: Rng, i: number): string {
  const pick = (s: string): string => s[Math.floor(rng.next() * s.length)] as string;
  const randomText = (n: number): string => Array.from({ length: n }, () => pick('abcdefghij klmnop();{}=\n')).join('');
  switch (i % 4) {
    case 0:
      return randomText(5 + Math.floor(rng.next() * 200));
    case 1: {
      const block = randomText(20 + Math.floor(rng.next() * 60));
      return block + randomText(10) + block.replace(pick('abcde'), 'Z') + block.slice(0, Math.floor(rng.next() * block.length));
    }
    case 2: {
      const lines = Array.from({ length: 3 + Math.floor(rng.next() * 10) }, (_, k) => `  const v${k} = f(${k}, "${randomText(4)}");`);
      return `function g() {\n${lines.join('\n')}\n  const v`;
    }
    default:
      return randomText(3).repeat(1 + Math.floor(rng.next() * 30));
  }
}

function request(prompt: number[], extra: Partial<DecodeRequest>): DecodeRequest {
  return { prompt, maxTokens: 48, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], ...extra };
}

type Done = Extract<DecodeOutcome, { kind: 'done' }>;
function done(outcome: DecodeOutcome): Done {
  assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  return outcome as Done;
}

describe('speculative greedy decoding is lossless', () => {
  it('identical tokens, text and stop reason on 300 varied prompts, with fewer forward passes', async () => {
    const rng = createRng(2024);
    const score = scoreWithEos();
    const copySpec = new CopySpecDrafter({ gamma: 3 });
    copySpec.setDocument('other-file', tok.encode(randomPrompt(rng, 1)));
    let nForwardPlain = 0;
    let nForwardSpec = 0;
    let nAccepted = 0;
    for (let i = 0; i < 300; i++) {
      const text = randomPrompt(rng, i);
      const prompt = tok.encode(text);
      const stopsFor = (): ReturnType<typeof makeStopCriteria> =>
        i % 3 === 0 ? makeStopCriteria({ prefix: text, suffix: '\n}\n', maxLines: 3, timeCapAfterNewlineMs: 1e9 }) : [];
      const maxTokens = 8 + (i % 7) * 10;
      const plainLM = new FakeLM({ vocabSize: V, score });
      const plain = done(await decode(plainLM, tok, request(prompt, { stops: stopsFor(), maxTokens })));
      const specLM = new FakeLM({ vocabSize: V, score });
      const drafters: Drafter[] = [copySpec, new PromptLookupDrafter({ minN: 1, maxN: 4 })];
      const spec = done(await decode(specLM, tok, request(prompt, { stops: stopsFor(), maxTokens, drafters, speculation: { maxDraftTokens: 12 } })));
      assert.deepEqual(spec.tokens, plain.tokens, `prompt ${i}: ${JSON.stringify(text)}`);
      assert.equal(spec.text, plain.text);
      assert.equal(spec.stopReason, plain.stopReason);
      // The cache holds exactly a prefix of what was generated: rejected drafts were cut.
      assert.deepEqual(specLM.cached, [...prompt, ...spec.tokens].slice(0, specLM.cached.length));
      assert.ok(specLM.cached.length >= prompt.length + spec.tokens.length - 1);
      nForwardPlain += plain.nForwardDecode;
      nForwardSpec += spec.nForwardDecode;
      nAccepted += spec.speculation?.nAccepted ?? 0;
    }
    assert.ok(nAccepted > 0);
    assert.ok(nForwardSpec < nForwardPlain * 0.8, `forward passes: ${nForwardSpec} speculative vs ${nForwardPlain} plain`);
  });

  it('reports per-drafter statistics', async () => {
    const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
    const out = done(await decode(lm, tok, request(tok.encode('abcabcabcabcabc'), { drafters: [new PromptLookupDrafter()] })));
    const s = out.speculation;
    assert.ok(s !== undefined);
    const pl = s.byDrafter['prompt-lookup'];
    assert.ok(pl !== undefined && pl.nDrafts > 0);
    assert.equal(pl.nAccepted, s.nAccepted);
    assert.ok(pl.acceptanceAt.length > 0 && pl.acceptanceAt.every((a) => a >= 0 && a <= 1));
    assert.equal(s.meanAccepted, s.nAccepted / s.nDrafts);
  });

  it('a drafter that is always wrong gets rested: few wasted drafts, same output', async () => {
    const wrong: Drafter = {
      name: 'wrong',
      stats: emptyDrafterStats(),
      begin: () => undefined,
      draft: (_seq, nMax) => new Array<number>(nMax).fill(1),
      accept: () => undefined,
    };
    const score = inductionScore(V);
    const prompt = tok.encode('some text that is not repeated');
    const plain = done(await decode(new FakeLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 200 })));
    const spec = done(await decode(new FakeLM({ vocabSize: V, score }), tok, request(prompt, { maxTokens: 200, drafters: [wrong] })));
    assert.deepEqual(spec.tokens, plain.tokens);
    assert.ok((spec.speculation?.nDrafts ?? 0) < 40, `${spec.speculation?.nDrafts} drafts`);
    assert.equal(spec.nForwardDecode, plain.nForwardDecode);
  });
});

describe('speculative sampling keeps the output distribution', () => {
  // A 4-token Markov chain over 'A'..'D'; the next-token law depends on the previous token.
  const letters = [65, 66, 67, 68];
  const logitsAfter = (prev: number): number[] => letters.map((v) => ((hash(prev, v) % 1000) / 300) as number);
  const score: ScoreFn = (seq) => {
    const row = new Float32Array(V).fill(-Infinity);
    const l = logitsAfter(seq[seq.length - 1] as number);
    letters.forEach((v, i) => (row[v] = l[i] as number));
    return row;
  };
  // A deterministic drafter that proposes the same guess every time: q is one-hot.
  const stubborn: Drafter = {
    name: 'stubborn',
    stats: emptyDrafterStats(),
    begin: () => undefined,
    draft: (_seq, nMax) => [65, 66, 65].slice(0, nMax),
    accept: () => undefined,
  };

  for (const sampling of [{ temperature: 1, topP: 1 }, { temperature: 0.7, topP: 0.9 }]) {
    it(`3-token sequences follow the exact law (T=${sampling.temperature}, top-p=${sampling.topP})`, async () => {
      // Exact law of the 3-token continuation, from the same distribution the sampler uses.
      const exact = new Map<string, number>();
      const prompt = [68];
      const walk = (seq: number[], p: number): void => {
        if (seq.length === prompt.length + 3) {
          exact.set(String.fromCharCode(...seq.slice(prompt.length)), p);
          return;
        }
        const probs = distribution(score(seq), sampling, V);
        for (const v of letters) if ((probs[v] as number) > 0) walk([...seq, v], p * (probs[v] as number));
      };
      walk(prompt, 1);

      const nRuns = 6_000;
      const counts = { plain: new Map<string, number>(), spec: new Map<string, number>() };
      const rng = createRng(11);
      // One LM per mode: decode reuses the cache across runs, as the service does.
      const lms = { plain: new FakeLM({ vocabSize: V, score }), spec: new FakeLM({ vocabSize: V, score }) };
      for (let r = 0; r < nRuns; r++) {
        for (const mode of ['plain', 'spec'] as const) {
          const out = done(
            await decode(lms[mode], tok, {
              prompt,
              maxTokens: 3,
              sampling,
              rng,
              stops: [],
              ...(mode === 'spec' ? { drafters: [stubborn] } : {}),
            }),
          );
          const key = String.fromCharCode(...out.tokens);
          counts[mode].set(key, (counts[mode].get(key) ?? 0) + 1);
        }
      }
      for (const mode of ['plain', 'spec'] as const) {
        let tv = 0;
        for (const [key, p] of exact) {
          const freq = (counts[mode].get(key) ?? 0) / nRuns;
          const sigma = Math.sqrt((p * (1 - p)) / nRuns);
          assert.ok(Math.abs(freq - p) < 5 * sigma + 1e-9, `${mode} ${key}: ${freq} vs ${p}`);
          tv += Math.abs(freq - p) / 2;
        }
        for (const key of counts[mode].keys()) assert.ok(exact.has(key), `${mode}: impossible sequence ${key}`);
        assert.ok(tv < 0.06, `${mode}: total variation ${tv}`);
      }
    });
  }
});
