// The decode loop's end rule: a constrained completion ends only where the constraint allows it.
// When the token budget, a line limit or another stopping criterion ends decoding elsewhere (or
// trims the text inside a token), or a step ran unconstrained, the model first gets a few tokens
// that only close what is open (the finishing step, Constraint.finishMask); without them, or when
// that does not reach a place to stop, the text is cut back to the last place the constraint may
// stop, '' if there is none; a completion that already ends validly is never touched. Scripted
// fake models over the real syntax constraint.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Constraint } from '../../server/engine/constraint';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { endWhereAllowed } from '../../server/engine/constraint-end';
import { decode, type DecodeOutcome } from '../../server/engine/decode';
import type { TokenizerLike } from '../../server/engine/model';
import { PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { createRng } from '../../server/engine/rng';
import { makeStopCriteria, maxLines, type StopCriterion } from '../../server/engine/stopping';
import { FakeByteTokenizer } from '../fixtures/constraints/tokenizers';
import { FakeLM, FakeTokenizer, scriptedScore } from './fakes';

/** Byte tokens plus a few pieces that straddle what the criteria cut (`)\n`: a newline inside a token). */
const tok = new FakeTokenizer({ specials: ['<eos>'], stops: ['<eos>'], pieces: [')\n', '{\n', '  '] });

interface Run {
  lang?: string;
  prefix: string;
  suffix: string;
  /** The model's greedy output, then <eos>. */
  script: string;
  maxTokens?: number;
  stops?: StopCriterion[];
  /** 'syntax' (default), a constraint of the test's own, or none. */
  constraint?: 'syntax' | Constraint | null;
  drafts?: boolean;
  tokenizer?: TokenizerLike;
  /** false: the constraint without its finishing step (only the cut back). */
  finish?: boolean;
}

async function run(r: Run): Promise<Extract<DecodeOutcome, { kind: 'done' }>> {
  const t = r.tokenizer ?? tok;
  const [stop] = [...t.stopIds];
  assert.ok(stop !== undefined);
  const prompt = t.encode(`<prefix>${r.prefix}<suffix>${r.suffix}<middle>`);
  const chosen =
    r.constraint === null ? undefined : r.constraint === undefined || r.constraint === 'syntax' ? createSyntaxConstraint({ languageId: r.lang ?? 'typescript', prefix: r.prefix, suffix: r.suffix, tokenizer: t }) : r.constraint;
  const constraint = chosen !== undefined && r.finish === false ? withoutFinishing(chosen) : chosen;
  const outcome = await decode(new FakeLM({ vocabSize: t.vocabSize, score: scriptedScore(t.vocabSize, prompt.length, t.encode(r.script), stop) }), t, {
    prompt,
    maxTokens: r.maxTokens ?? 64,
    sampling: { temperature: 0, topP: 1 },
    rng: createRng(0),
    stops: r.stops ?? [],
    ...(constraint !== undefined ? { constraint } : {}),
    ...(r.drafts === true ? { drafters: [new PromptLookupDrafter({ minN: 1, maxN: 3 })] } : {}),
  });
  assert.equal(outcome.kind, 'done', outcome.kind === 'error' ? outcome.message : '');
  return outcome as Extract<DecodeOutcome, { kind: 'done' }>;
}

/** The constraint without its finishing step: a completion that ends where it may not is only cut back. */
function withoutFinishing(c: Constraint): Constraint {
  return { name: c.name, check: (t) => c.check(t), mask: (a) => c.mask(a), advance: (t) => c.advance(t), rollback: (n) => c.rollback(n), canStop: () => c.canStop(), shouldStop: () => c.shouldStop?.() === true };
}

/** Rejects nothing, never lets the completion end. */
const neverStops: Constraint = { name: 'never', check: () => true, mask: () => false, advance: () => undefined, rollback: () => undefined, canStop: () => false };

/** The syntax constraint with masks that always give up: every rejection becomes an unconstrained step. */
function giveUpMasks(c: Constraint): Constraint {
  return { name: c.name, check: (t) => c.check(t), mask: () => false, advance: (t) => c.advance(t), rollback: (n) => c.rollback(n), canStop: () => c.canStop() };
}

describe('end rule: a constrained completion ends only where the constraint allows', () => {
  // want: the cut back alone (no finishing step); finished: with it (default: want).
  const cases: { name: string; run: Run; unconstrained: string; want: string; finished?: string }[] = [
    {
      name: 'token budget inside an open call: back to before the call, or the call closed',
      run: { prefix: 'const v = ', suffix: ';\n', script: 'f(a, b, c)', maxTokens: 5 },
      unconstrained: 'f(a, ',
      want: 'f',
      finished: 'f(a, )',
    },
    {
      name: 'line limit inside a template string: nothing is left, or the string closed',
      run: { prefix: 'const s = ', suffix: ';\n', script: '`one\ntwo\nthree`', stops: [maxLines(2)] },
      unconstrained: '`one\ntwo',
      want: '',
      finished: '`one\ntwo`',
    },
    {
      name: 'a criterion drops the newline of `)\\n`: the kept `)` inside that token counts',
      run: { prefix: 'x = ', suffix: '\n', script: 'f(a)\ng()', stops: [maxLines(1)] },
      unconstrained: 'f(a)',
      want: 'f(a)',
    },
    {
      name: 'a block cut by the line limit: back to before the brace it opened, or the block closed',
      run: { prefix: 'function f() {\n  ', suffix: '\n}\n', script: 'if (a) {\n    b();\n  }\n  if (c) {\n    d();\n  }', stops: [maxLines(4)] },
      unconstrained: 'if (a) {\n    b();\n  }\n  if (c) {',
      want: 'if (a) {\n    b();\n  }\n  if (c) ',
      finished: 'if (a) {\n    b();\n  }\n  if (c) {}',
    },
    {
      name: 'an unconstrained step (mask gave up) is judged again: cut before the token it let through',
      run: { prefix: 'f(', suffix: ')\n', script: 'a]', constraint: giveUpMasks(createSyntaxConstraint({ languageId: 'typescript', prefix: 'f(', suffix: ')\n', tokenizer: tok }) as Constraint) },
      unconstrained: 'a]',
      want: 'a',
    },
    {
      name: 'no place to stop at all: empty',
      run: { prefix: 'x = ', suffix: '\n', script: 'abc', maxTokens: 3, constraint: neverStops },
      unconstrained: 'abc',
      want: '',
    },
    {
      name: 'the model closes what the suffix closes: the completion ends before it',
      run: { prefix: 'foo(', suffix: ')\n', script: 'a, b);\nbar(' },
      unconstrained: 'a, b);\nbar(',
      want: 'a, b',
    },
    {
      name: 'a completion that ends validly is left alone',
      run: { prefix: 'const v = ', suffix: ';\n', script: 'f(a, [1, 2])' },
      unconstrained: 'f(a, [1, 2])',
      want: 'f(a, [1, 2])',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const plain = await run({ ...c.run, constraint: null });
      assert.equal(plain.text, c.unconstrained, 'unconstrained');
      const cut = await run({ ...c.run, finish: false });
      assert.equal(cut.text, c.want, 'cut back');
      if (cut.stopReason !== 'constraint') assert.equal(cut.nCutChars, c.want === c.unconstrained ? undefined : c.unconstrained.length - c.want.length);
      assert.equal(cut.nFinishTokens, undefined);
      const finished = await run(c.run);
      assert.equal(finished.text, c.finished ?? c.want, 'finished');
      if (c.finished !== undefined) {
        assert.ok(c.finished.startsWith(c.unconstrained), 'finishing only appends');
        assert.ok((finished.nFinishTokens ?? 0) > 0);
        assert.equal(finished.nCutChars, undefined);
      }
    });
  }

  it('finishing from an earlier place: the last token end where one token ends the completion at once', async () => {
    // A constraint under which the completion may end only right after `:{`, and finishing offers
    // `{` only right after `:`. The model writes `a:bcd` and stops: nothing finishes at its end,
    // so finishing goes back to `a:` and the model's `{` ends it there.
    const [eos] = [...tok.stopIds] as [number];
    const colonBrace = (): Constraint => {
      const ids: number[] = [];
      const last = (k: number): number | undefined => ids[ids.length - k];
      const canStop = (): boolean => last(1) === 0x7b && last(2) === 0x3a;
      return {
        name: 'colon-brace',
        check: (t) => (t === eos ? canStop() : true),
        mask: (allowed) => {
          allowed.fill(1);
          allowed[eos] = canStop() ? 1 : 0;
          return true;
        },
        advance: (t) => void ids.push(t),
        rollback: (n) => void (ids.length -= n),
        canStop,
        finishMask: (allowed) => {
          if (last(1) !== 0x3a) return false;
          allowed[0x7b] = 1;
          return true;
        },
      };
    };
    const base: Run = { prefix: 'x = ', suffix: '\n', script: 'a:bcd' };
    const plain = await run({ ...base, constraint: null });
    assert.equal(plain.text, 'a:bcd');
    for (const drafts of [false, true]) {
      const finished = await run({ ...base, constraint: colonBrace(), drafts });
      assert.equal(finished.text, 'a:{', `drafts ${drafts}`);
      assert.equal(finished.nFinishTokens, 1);
      assert.deepEqual(finished.tokens, tok.encode('a:{'));
    }
    // Without finishing the end rule cuts it all: there is no place it may end.
    assert.equal((await run({ ...base, constraint: colonBrace(), finish: false })).text, '');
  });

  it('speculative decoding gives the same cut completion as plain decoding', async () => {
    for (const r of cases.map((c) => c.run).filter((x) => x.constraint === undefined)) {
      const plain = await run(r);
      const spec = await run({ ...r, drafts: true });
      assert.equal(spec.text, plain.text);
      assert.deepEqual(spec.tokens, plain.tokens);
    }
  });
});

describe('a completion that is already valid comes out unchanged (end rule included)', () => {
  const byteTok = new FakeByteTokenizer();
  const samples = join(__dirname, '..', 'fixtures', 'constraints', 'samples');
  for (const [file, lang] of [['sample.ts', 'typescript'], ['sample.py', 'python'], ['sample.go', 'go'], ['sample.json', 'json']] as const) {
    it(`${file}: the original text after a cut as the model's output, with the standard stopping criteria`, async () => {
      const text = readFileSync(join(samples, file), 'utf8');
      const fresh = (prefix: string, suffix: string): Constraint => {
        const c = createSyntaxConstraint({ languageId: lang, prefix, suffix, tokenizer: byteTok });
        assert.ok(c);
        return c;
      };
      let seed = 7;
      let nValid = 0;
      let nCut = 0;
      for (let k = 0; k < 40; k++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const at = seed % text.length;
        for (const nLines of [0, 2]) {
          let end = at;
          for (let l = 0; l <= nLines && end < text.length; l++) {
            const nl = text.indexOf('\n', end + (l === 0 ? 0 : 1));
            end = nl < 0 ? text.length : nl;
          }
          const prefix = text.slice(0, at);
          const suffix = text.slice(end);
          const script = text.slice(at, end);
          const stops = (): StopCriterion[] => makeStopCriteria({ prefix, suffix, maxLines: 8, timeCapAfterNewlineMs: 60_000 });
          const plain = await run({ lang, prefix, suffix, script, stops: stops(), constraint: null, tokenizer: byteTok });
          const constrained = await run({ lang, prefix, suffix, script, stops: stops(), tokenizer: byteTok });
          // Valid: the constraint accepts every generated token (<eos> included: it may end there)
          // and the text the criteria kept ends where it may stop.
          const probe = fresh(prefix, suffix);
          const accepted = plain.tokens.every((id) => probe.check(id) && (probe.advance(id), true));
          const valid = accepted && endWhereAllowed(fresh(prefix, suffix), byteTok, [], plain.text) === plain.text;
          const where = `${file}@${at}+${nLines}: ${JSON.stringify(script)} → ${JSON.stringify(plain.text)}`;
          if (valid) {
            nValid++;
            assert.equal(constrained.text, plain.text, where);
            assert.deepEqual(constrained.tokens, plain.tokens, where);
          } else if (accepted) {
            // The criteria trimmed it to an invalid end (indent-scope dropping the `}` of a block
            // the cut ran past): the end rule only cuts; the finishing step keeps a prefix of it
            // and adds at most 8 tokens; either way the completion ends where the constraint
            // allows it.
            nCut++;
            const finished = constrained.nFinishTokens ?? 0;
            if (finished > 0) {
              let common = 0;
              while (common < constrained.text.length && constrained.text[common] === plain.text[common]) common++;
              assert.ok(finished <= 8 && constrained.text.length - common <= 4 * finished, `${where} → ${JSON.stringify(constrained.text)} (${finished} finishing tokens)`);
            } else assert.ok(plain.text.startsWith(constrained.text), where);
            assert.equal(endWhereAllowed(fresh(prefix, suffix), byteTok, [], constrained.text), constrained.text, where);
          }
        }
      }
      assert.ok(nValid >= 40, `only ${nValid} valid cases (${nCut} cut)`);
    });
  }
});
