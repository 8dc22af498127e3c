// The check-first-then-mask protocol (apply.ts) as the decode loop uses it: a scripted model
// whose greedy output is already valid comes out token-identical under the constraint; an invalid
// token is replaced by the best allowed one; closing what the suffix closes ends the completion;
// a speculative draft is checked token by token and the constraint rolls back with the KV cache.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Constraint } from '../../server/engine/constraint';
import { checkDraft, constrainToken, maskLogits, MaskBuffer } from '../../server/engine/constraints/apply';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { FakeByteTokenizer } from '../fixtures/constraints/tokenizers';

const tok = new FakeByteTokenizer();
const width = tok.vocabSize + 3; // padded logits

/** A logits row preferring `ranked[0]`, then `ranked[1]`, … */
function row(...ranked: number[]): Float32Array {
  const r = new Float32Array(width).fill(-10);
  ranked.forEach((id, i) => (r[id] = 10 - i));
  return r;
}

function argmax(r: Float32Array): number {
  let best = 0;
  for (let i = 1; i < r.length; i++) if ((r[i] as number) > (r[best] as number)) best = i;
  return best;
}

/** Greedy decoding over scripted rows with the constraint; returns the emitted ids and whether it stopped early. */
function run(c: Constraint | undefined, rows: Float32Array[]): { ids: number[]; stopped: boolean; nResampled: number } {
  const buffer = new MaskBuffer();
  const ids: number[] = [];
  let nResampled = 0;
  for (const r of rows) {
    let token = argmax(r);
    if (c !== undefined) {
      const step = constrainToken(c, token, width, buffer, (allowed) => argmax(maskLogits(Float32Array.from(r), allowed)));
      if (step.stop) return { ids, stopped: true, nResampled };
      if (step.resampled) nResampled++;
      token = step.token;
      c.advance(token);
    }
    if (tok.stopIds.has(token)) break;
    ids.push(token);
  }
  return { ids, stopped: false, nResampled };
}

describe('constrainToken (check first, mask on rejection)', () => {
  it('leaves an already valid greedy completion token-identical', () => {
    const text = 'if (a) {\n    b("x)");\n  }';
    const rows = [...tok.encode(text).map((id) => row(id, tok.id(')'))), row(tok.eos)];
    const plain = run(undefined, rows);
    const c = createSyntaxConstraint({ languageId: 'typescript', prefix: 'function f() {\n  ', suffix: '\n}\n', tokenizer: tok });
    const constrained = run(c, rows);
    assert.deepEqual(constrained.ids, plain.ids);
    assert.equal(constrained.nResampled, 0);
    assert.equal(tok.decode(constrained.ids), text);
  });

  it('replaces a rejected token by the best allowed one', () => {
    const c = createSyntaxConstraint({ languageId: 'typescript', prefix: 'x = [1, ', suffix: '\n', tokenizer: tok });
    assert.ok(c);
    // The model prefers ")" (closes nothing) over "]".
    const out = run(c, [row(tok.id('2')), row(tok.id(')'), tok.id(']')), row(tok.id(';')), row(tok.eos)]);
    assert.equal(tok.decode(out.ids), '2];');
    assert.equal(out.nResampled, 1);
  });

  it('ends the completion when the model closes what the suffix closes', () => {
    const c = createSyntaxConstraint({ languageId: 'typescript', prefix: 'foo(a, ', suffix: ');\n', tokenizer: tok });
    assert.ok(c);
    const out = run(c, [row(tok.id('b')), row(tok.id(')')), row(tok.id(';'))]);
    assert.equal(out.stopped, true);
    assert.equal(tok.decode(out.ids), 'b');
  });

  it('keeps the stop token out until the completion may end', () => {
    const c = createSyntaxConstraint({ languageId: 'python', prefix: 'x = ', suffix: '\n', tokenizer: tok });
    assert.ok(c);
    const out = run(c, [row(tok.id('"')), row(tok.id('a')), row(tok.eos, tok.id('"')), row(tok.eos)]);
    assert.equal(tok.decode(out.ids), '"a"');
  });
});

describe('checkDraft + rollback (speculative drafts)', () => {
  it('advances over the allowed prefix of a draft and rolls back what verification rejects', () => {
    const c = createSyntaxConstraint({ languageId: 'typescript', prefix: 'foo(', suffix: ')\n', tokenizer: tok });
    assert.ok(c);
    const draft = tok.encode('a, b) + c');
    const n = checkDraft(c, draft);
    assert.equal(tok.decode(draft.slice(0, n)), 'a, b', 'the draft is cut before the ")" the suffix closes');
    assert.equal(c.nAdvanced, n);
    // Verification accepted 2 draft tokens ("a", ","): roll back the rest, then the bonus token.
    c.rollback(n - 2);
    assert.equal(c.nAdvanced, 2);
    assert.equal(c.check(tok.id('x')), true);
    c.advance(tok.id('x'));
    assert.equal(tok.decode(draft.slice(0, 2)) + 'x', 'a,x');
    assert.equal(c.canStop(), true);
  });
});
