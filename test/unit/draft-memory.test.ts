import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, type DecodeOutcome } from '../../server/engine/decode';
import { SpeculationMemory } from '../../server/engine/draft-memory';
import { emptyDrafterStats, type Drafter } from '../../server/engine/drafter';
import { PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { createRng } from '../../server/engine/rng';
import { DraftScheduler } from '../../server/engine/speculation';
import { FakeLM, FakeTokenizer, inductionScore } from './fakes';

/** `n` drafts of `len` tokens by `name`, each with `accepted(i)` tokens accepted. */
function feed(memory: SpeculationMemory, name: string, n: number, len: number, accepted: (i: number) => number): void {
  for (let i = 0; i < n; i++) memory.recordDraft(name, len, accepted(i));
}

/** Every width timed `n` times at ms(width). */
function time(memory: SpeculationMemory, ms: (width: number) => number, maxWidth = 17, n = 20): void {
  for (let r = 0; r < n; r++) for (let w = 1; w <= maxWidth; w++) memory.recordPass(w, ms(w));
}

describe('speculation memory: how long a request’s first draft is', () => {
  // [name, setup, drafter, expected start length (nMax 16)]
  const cases: [string, (m: SpeculationMemory) => void, number | [number, number]][] = [
    // Prior only: survival 0.5^(i+1), cost 1.15 + 0.035k → (1 + Σ) / cost peaks at 4.
    ['no history: the priors', () => undefined, 4],
    ['always fully accepted: the longest draft', (m) => feed(m, 'd', 200, 16, () => 16), 16],
    ['always rejected at once: one token', (m) => feed(m, 'd', 200, 16, () => 0), 1],
    ['accepted about 2 tokens: a short draft', (m) => feed(m, 'd', 200, 8, (i) => (i % 2 === 0 ? 2 : 1)), [2, 3]],
    // With the prior's survival (0.5^(i+1)) a draft token past the sixth adds < 1% of a token.
    ['wide passes cost no more than narrow ones: longer drafts', (m) => time(m, () => 5), [6, 16]],
    ['wide passes cost no more, drafts always accepted: the longest', (m) => (time(m, () => 5), feed(m, 'd', 200, 16, () => 16)), 16],
    ['every draft token costs a whole pass: one token', (m) => time(m, (w) => 5 * w), 1],
    ['another drafter’s record does not count', (m) => feed(m, 'other', 200, 16, () => 16), 4],
  ];
  for (const [name, setup, expected] of cases) {
    it(name, () => {
      const m = new SpeculationMemory();
      setup(m);
      const got = m.startLength('d', 16);
      if (typeof expected === 'number') assert.equal(got, expected);
      else assert.ok(got >= expected[0] && got <= expected[1], `start ${got}, expected ${expected.join('–')}`);
    });
  }

  it('survival never rises with the position and follows the record', () => {
    const m = new SpeculationMemory();
    feed(m, 'd', 100, 4, (i) => (i < 50 ? 4 : 1));
    const s = m.survival('d', 6);
    for (let i = 1; i < s.length; i++) assert.ok((s[i] as number) <= (s[i - 1] as number), JSON.stringify(s));
    assert.ok(Math.abs((s[0] as number) - 1) < 0.05, `position 0 always accepted: ${s[0]}`);
    assert.ok(Math.abs((s[1] as number) - 0.5) < 0.05, `position 1 half the time: ${s[1]}`);
  });

  it('forgets old records, so it follows a change of workload', () => {
    const m = new SpeculationMemory({ halfLife: 100 });
    feed(m, 'd', 300, 16, () => 16);
    assert.equal(m.startLength('d', 16), 16);
    // A few full acceptances linger in the halved counts; long drafts stop paying once they are rare.
    feed(m, 'd', 400, 16, () => 0);
    assert.ok(m.startLength('d', 16) <= 2, `start ${m.startLength('d', 16)} after the drafts stopped being accepted`);
  });

  it('widths never timed follow the prior’s shape, scaled to the ones that were', () => {
    const m = new SpeculationMemory();
    for (let r = 0; r < 50; r++) {
      m.recordPass(2, 2 * 1.185);
      m.recordPass(3, 2 * 1.22);
    }
    // Timed widths agree with the prior's shape at twice its scale: every cost stays the prior's.
    for (const k of [1, 2, 8, 16]) assert.ok(Math.abs(m.passCost(k) - (1.15 + 0.035 * k)) < 1e-6, `cost(${k}) = ${m.passCost(k)}`);
    m.recordPass(1, -1);
    m.recordPass(0, 3);
    m.recordPass(4, Number.NaN);
    assert.ok(Math.abs(m.passCost(3) - 1.255) < 1e-6, 'nonsense timings are ignored');
  });
});

describe('speculation memory in the scheduler and the decode loop', () => {
  function asking(asked: number[]): Drafter {
    return { name: 'd', stats: emptyDrafterStats(), begin: () => undefined, draft: (_s, nMax) => (asked.push(nMax), new Array<number>(nMax).fill(0)), accept: () => undefined };
  }

  it('a request starts each drafter at the memory’s length, and feeds back what was accepted', () => {
    const memory = new SpeculationMemory();
    feed(memory, 'd', 200, 16, () => 0);
    const asked: number[] = [];
    const scheduler = new DraftScheduler([asking(asked)], () => 0, { maxDraftTokens: 16, memory });
    scheduler.begin([]);
    const p = scheduler.propose([0], 100);
    assert.deepEqual(asked, [1]);
    assert.ok(p !== undefined);
    // Accepted in full from now on: the memory's record moves towards longer drafts.
    for (let i = 0; i < 400; i++) scheduler.feedback({ drafter: p.drafter, tokens: new Array<number>(16).fill(0) }, 16, 10);
    assert.equal(memory.startLength('d', 16), 16);
  });

  it('without a memory the first draft is the largest allowed (as before)', () => {
    const asked: number[] = [];
    const scheduler = new DraftScheduler([asking(asked)], () => 0, { maxDraftTokens: 16 });
    scheduler.begin([]);
    scheduler.propose([0], 100);
    assert.deepEqual(asked, [16]);
  });

  it('the decode loop times every decode pass with its width, and the output does not depend on the memory', async () => {
    const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'] });
    const V = tok.vocabSize;
    const prompt = tok.encode('abc abd abc abd abc abd abc abd abc ab');
    class Spy extends SpeculationMemory {
      readonly passes: [number, number][] = [];
      override recordPass(nTokens: number, ms: number): void {
        this.passes.push([nTokens, ms]);
        super.recordPass(nTokens, ms);
      }
    }
    const run = async (memory?: Spy): Promise<{ tokens: number[]; widths: number[] }> => {
      let now = 0;
      const widths: number[] = [];
      // Each pass takes 3 ms per input token on the fake clock.
      const lm = new FakeLM({ vocabSize: V, score: inductionScore(V), beforeForward: (tokens) => void (widths.push(tokens.length), (now += 3 * tokens.length)) });
      const out = await decode(lm, tok, {
        prompt,
        maxTokens: 40,
        sampling: { temperature: 0, topP: 1 },
        rng: createRng(0),
        stops: [],
        clock: () => now,
        drafters: [new PromptLookupDrafter({ minN: 1, maxN: 3 })],
        speculation: { maxDraftTokens: 12, ...(memory ? { memory } : {}) },
      });
      assert.equal(out.kind, 'done');
      return { tokens: (out as Extract<DecodeOutcome, { kind: 'done' }>).tokens, widths };
    };
    const without = await run();
    // A memory that learned drafts fail at once starts with one-token drafts; one that learned they
    // all pass, with the longest. Different passes, the same tokens.
    const short = new Spy();
    feed(short, 'prompt-lookup', 200, 12, () => 0);
    const long = new Spy();
    feed(long, 'prompt-lookup', 200, 12, () => 12);
    const a = await run(short);
    const b = await run(long);
    assert.deepEqual(a.tokens, without.tokens);
    assert.deepEqual(b.tokens, without.tokens);
    assert.notDeepEqual(a.widths, b.widths);
    assert.equal(a.widths[1], 2, `first decode pass with a one-token draft: ${a.widths.join(',')}`);
    // Every decode pass (not the prefill) is recorded with its width and its time on the clock.
    for (const [spy, r] of [[short, a], [long, b]] as const) assert.deepEqual(spy.passes, r.widths.slice(1).map((w) => [w, 3 * w]));
  });
});
