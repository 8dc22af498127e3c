// The decode loop's constraint hook on the scripted fake model: check first, mask on rejection,
// drafts filtered before verification, and speculative + constrained == plain + constrained.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intersect, type Constraint } from '../../server/engine/constraint';
import { BanConstraint } from '../../server/engine/constraints/ban';
import { CopySpecDrafter } from '../../server/engine/copyspec';
import { decode, type DecodeOutcome, type DecodeRequest } from '../../server/engine/decode';
import { PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { createRng } from '../../server/engine/rng';
import { FakeLM, FakeTokenizer, inductionScore } from './fakes';

const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'] });
const V = tok.vocabSize;

/** Forbids a set of ids; counts how often the loop asked for a full mask; tracks its own state. */
class Forbid implements Constraint {
  readonly name = 'forbid';
  nMask = 0;
  readonly advanced: number[] = [];
  constructor(private readonly banned: ReadonlySet<number>) {}
  check(token: number): boolean {
    return !this.banned.has(token);
  }
  mask(allowed: Uint8Array): boolean {
    this.nMask++;
    for (let i = 0; i < allowed.length; i++) allowed[i] = this.banned.has(i) ? 0 : 1;
    return true;
  }
  advance(token: number): void {
    this.advanced.push(token);
  }
  rollback(n: number): void {
    this.advanced.splice(this.advanced.length - n, n);
  }
  canStop(): boolean {
    return true;
  }
}

function request(prompt: number[], extra: Partial<DecodeRequest>): DecodeRequest {
  return { prompt, maxTokens: 40, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], ...extra };
}

function tokensOf(outcome: DecodeOutcome): number[] {
  assert.equal(outcome.kind, 'done');
  return outcome.kind === 'done' ? outcome.tokens : [];
}

const prompts = ['abcabcabcabc', 'function f() { return g(1); }\nfunction h() { return ', 'the cat sat on the mat, the cat sat on the '];

describe('decode loop with a constraint', () => {
  it('an allow-all constraint never changes the output and never builds a mask', async () => {
    for (const text of prompts) {
      const prompt = tok.encode(text);
      const plain = tokensOf(await decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, {})));
      const none = new Forbid(new Set());
      const constrained = tokensOf(await decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, { constraint: none })));
      assert.deepEqual(constrained, plain);
      assert.equal(none.nMask, 0);
      assert.deepEqual(none.advanced, plain);
    }
  });

  it('checkDraft only shortens drafts: a constraint that rejects every draft position changes nothing', async () => {
    for (const text of prompts) {
      const prompt = tok.encode(text);
      const plain = tokensOf(await decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, {})));
      let nDraftChecks = 0;
      const noDrafts = Object.assign(new Forbid(new Set()), {
        checkDraft: (): boolean => {
          nDraftChecks++;
          return false;
        },
      });
      const lm = new FakeLM({ vocabSize: V, score: inductionScore(V) });
      const spec = tokensOf(await decode(lm, tok, request(prompt, { constraint: intersect([noDrafts, new Forbid(new Set())]), drafters: [new PromptLookupDrafter({ minN: 1, maxN: 3 })] })));
      assert.deepEqual(spec, plain);
      assert.ok(nDraftChecks > 0, 'the loop judged draft positions with checkDraft, through intersect');
    }
  });

  it('a forbidden token never appears; the loop masked and took the best allowed one', async () => {
    for (const text of prompts) {
      const prompt = tok.encode(text);
      const plain = tokensOf(await decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, {})));
      const banned = new Set(plain.slice(0, 3));
      const forbid = new Forbid(banned);
      const out = tokensOf(await decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, { constraint: forbid })));
      assert.ok(out.every((t) => !banned.has(t)), `banned ids ${[...banned].join(',')} in ${out.join(',')}`);
      assert.ok(forbid.nMask > 0);
      assert.deepEqual(forbid.advanced, out, 'the constraint advanced on exactly the committed tokens');
    }
  });

  it('speculative + constrained equals plain + constrained, greedy and sampled', async () => {
    for (const temperature of [0, 0.8]) {
      for (const text of prompts) {
        const prompt = tok.encode(text);
        const banned = new Set([tok.encode('c')[0] ?? 0, tok.encode(' ')[0] ?? 0]);
        const run = (drafters: boolean): Promise<DecodeOutcome> =>
          decode(new FakeLM({ vocabSize: V, score: inductionScore(V) }), tok, request(prompt, {
            sampling: { temperature, topP: 1 },
            rng: createRng(7),
            constraint: new Forbid(banned),
            ...(drafters ? { drafters: [new CopySpecDrafter({ gamma: 2 }), new PromptLookupDrafter({ minN: 1, maxN: 3 })] } : {}),
          }));
        const plain = tokensOf(await run(false));
        const spec = tokensOf(await run(true));
        assert.ok(spec.every((t) => !banned.has(t)));
        if (temperature === 0) assert.deepEqual(spec, plain);
      }
    }
  });

  it('a constraint bias changes the greedy choice at the positions it names, and speculation keeps it exact', async () => {
    /** Allows everything; after the prompt's last token, favours `favoured` by `amount`. */
    class Favour extends Forbid {
      constructor(private readonly favoured: number, private readonly amount: number, private readonly at: (n: number) => boolean) {
        super(new Set());
      }
      bias(): ReadonlyMap<number, number> | undefined {
        return this.at(this.advanced.length) ? new Map([[this.favoured, this.amount]]) : undefined;
      }
    }
    for (const text of prompts) {
      const prompt = tok.encode(text);
      const lm = (): FakeLM => new FakeLM({ vocabSize: V, score: inductionScore(V) });
      const plain = tokensOf(await decode(lm(), tok, request(prompt, {})));
      const z = tok.encode('z')[0] ?? 0;
      // Positions 2 and 5 of the completion: a large bias makes `z` win there, nowhere else.
      const at = (n: number): boolean => n === 2 || n === 5;
      const run = (drafters: boolean): Promise<DecodeOutcome> =>
        decode(lm(), tok, request(prompt, {
          constraint: new Favour(z, 1e6, at),
          ...(drafters ? { drafters: [new CopySpecDrafter({ gamma: 2 }), new PromptLookupDrafter({ minN: 1, maxN: 3 })] } : {}),
        }));
      const out = tokensOf(await run(false));
      assert.equal(out[2], z, `${text}: ${out.join(',')}`);
      assert.equal(out[5], z);
      assert.deepEqual(out.slice(0, 2), plain.slice(0, 2), 'before the first biased position nothing changes');
      assert.deepEqual(tokensOf(await run(true)), out, 'speculative decoding under the bias gives the same tokens');
      // A bias of zero changes nothing.
      assert.deepEqual(tokensOf(await decode(lm(), tok, request(prompt, { constraint: new Favour(z, 0, at) }))), plain);
    }
  });

  it('intersect sums the members\' biases', () => {
    const a: Constraint = { ...new Forbid(new Set()), name: 'a', check: () => true, mask: () => true, advance: () => {}, rollback: () => {}, canStop: () => true, bias: () => new Map([[1, 2], [3, 1]]) };
    const b: Constraint = { ...a, name: 'b', bias: () => new Map([[1, 0.5]]) };
    const c: Constraint = { ...a, name: 'c', bias: () => undefined };
    assert.deepEqual([...(intersect([a, b, c]).bias?.() ?? new Map())].sort((x, y) => x[0] - y[0]), [[1, 2.5], [3, 1]]);
    assert.equal(intersect([c]).bias?.(), undefined);
  });
});

describe('BanConstraint: given tokens ruled out at given positions', () => {
  it('rejects a banned token only at its position, masks it there, follows advance and rollback', () => {
    const c = new BanConstraint([
      { at: 1, token: 7 },
      { at: 2, token: 3 },
    ]);
    assert.equal(c.check(7), true, 'position 0: nothing banned');
    c.advance(7);
    assert.equal(c.check(7), false, 'position 1: 7 banned');
    assert.equal(c.check(3), true);
    const allowed = new Uint8Array(10);
    assert.equal(c.mask(allowed), true);
    assert.deepEqual([...allowed], [1, 1, 1, 1, 1, 1, 1, 0, 1, 1]);
    c.advance(5);
    assert.equal(c.check(3), false, 'position 2: 3 banned');
    assert.equal(c.check(7), true);
    c.rollback(1);
    assert.equal(c.check(7), false, 'back at position 1');
    assert.equal(c.canStop(), true);
  });
});
