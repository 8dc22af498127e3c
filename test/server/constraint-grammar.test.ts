// XGrammar constraints: JSON Schema for package.json/tsconfig.json (schema selection, prefix
// feeding, check/mask agreement, rollback, canStop against the suffix), user EBNF grammars, and
// the failure paths (broken grammar, prefix outside the language, mask over budget).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Constraint } from '../../server/engine/constraint';
import { ConstraintFactory, defaultConstraintSettings, whitespaceCap, parseConstraintSettings, type ConstraintSettings, type CreateConstraintsOptions } from '../../server/grammar/index';
import { GrammarConstraint } from '../../server/grammar/grammar-constraint';
import { selectJsonSchema } from '../../server/grammar/schema-select';
import { blankJsonComments } from '../../server/grammar/json-text';
import { realTokenizer } from '../fixtures/constraints/tokenizers';

const dir = join(__dirname, '..', 'fixtures', 'constraints');
const tokenizer = realTokenizer();
const logs: string[] = [];
const factory = new ConstraintFactory((m) => logs.push(m));
const pkgPath = join(dir, 'json', 'package.json');
const pkg = readFileSync(pkgPath, 'utf8');
const tsconfigPath = join(dir, 'json', 'tsconfig.json');
const tsconfig = readFileSync(tsconfigPath, 'utf8');

function at(text: string, marker: string): { prefix: string; suffix: string } {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, marker);
  return { prefix: text.slice(0, i), suffix: text.slice(i) };
}

function opts(languageId: string, documentPath: string, prefix: string, suffix: string, settings: Partial<ConstraintSettings> = {}): CreateConstraintsOptions {
  return { languageId, documentPath, prefix, suffix, tokenizer, settings: { ...defaultConstraintSettings, maskBudgetMs: 60_000, ...settings } };
}

async function grammarFor(o: CreateConstraintsOptions): Promise<GrammarConstraint | undefined> {
  await factory.prepare({ ...o, text: o.prefix + o.suffix });
  return factory.grammarConstraint(o);
}

/** Feeds `text` token by token; returns the index of the first rejected token or -1. */
function feed(c: Constraint, text: string): number {
  const ids = tokenizer.encode(text);
  for (let i = 0; i < ids.length; i++) {
    if (!c.check(ids[i] as number)) return i;
    c.advance(ids[i] as number);
  }
  return -1;
}

describe('JSON schema selection', () => {
  it('prefers $schema, then json.schemas, then the built-in associations', () => {
    const builtin = selectJsonSchema({ documentPath: '/w/package.json', text: '{}', associations: [] });
    assert.equal(builtin.choice?.key, 'builtin:package.json');
    const tsc = selectJsonSchema({ documentPath: '/w/tsconfig.build.json', text: '{}', associations: [] });
    assert.equal(tsc.choice?.key, 'builtin:tsconfig.json');
    const own = selectJsonSchema({ documentPath: '/w/a.json', text: '{"$schema": "https://json.schemastore.org/tsconfig"}', associations: [] });
    assert.equal(own.choice?.key, 'builtin:tsconfig.json');
    const assoc = selectJsonSchema({ documentPath: '/w/conf/app.special.json', text: '{}', associations: [{ fileMatch: ['*.special.json'], schema: { type: 'object' } }] });
    assert.match(assoc.choice?.key ?? '', /^inline:/);
    const file = selectJsonSchema({ documentPath: '/w/x.json', text: '{}', associations: [{ fileMatch: ['/x.json'], url: './schemas/x.schema.json' }], workspaceFolder: '/w' });
    assert.equal(file.choice?.key, 'file:/w/schemas/x.schema.json');
    const remote = selectJsonSchema({ documentPath: '/w/a.json', text: '{"$schema": "https://example.com/s.json"}', associations: [] });
    assert.equal(remote.choice, undefined);
    assert.match(remote.choice === undefined ? remote.reason : '', /remote/);
  });

  it('blanks comments without moving offsets', () => {
    const out = blankJsonComments(tsconfig);
    assert.equal(out.length, tsconfig.length);
    assert.doesNotThrow(() => JSON.parse(out));
  });

  it('parses settings defensively', () => {
    const s = parseConstraintSettings({ mode: 'syntax', maskBudgetMs: -5 }, [{ fileMatch: ['a'] }, 3], { python: '/g.ebnf', go: 7 });
    assert.deepEqual(s, { mode: 'syntax', maskBudgetMs: 1, jsonSchemas: [{ fileMatch: ['a'] }], grammars: { python: '/g.ebnf' } });
  });
});

describe('JSON schema constraint (package.json, tsconfig.json)', () => {
  let pkgGrammar: GrammarConstraint | undefined;
  const { prefix, suffix } = at(pkg, '"keywords"');
  before(async () => {
    pkgGrammar = await grammarFor(opts('json', pkgPath, prefix, suffix));
  });

  it('accepts schema-valid continuations and rejects wrong types', async () => {
    assert.ok(pkgGrammar, logs.join('\n'));
    pkgGrammar.dispose();
    const cases: [string, boolean][] = [
      ['"license": "MIT",\n  ', true],
      ['"private": false,\n  ', true],
      ['"private": "yes"', false],
      ['"files": ["dist", 3]', false],
      ['"scripts": {"lint": "eslint ."},\n  ', true],
      ['"dependencies": {"a": 1}', false],
      ['"prettier": {"anything": [1, null]},\n  ', true],
      ['"not-a-known-field": [1],\n  ', true], // unknown keys stay allowed (schema-prepare.ts)
    ];
    for (const [text, ok] of cases) {
      const c = await grammarFor(opts('json', pkgPath, prefix, suffix));
      assert.ok(c);
      assert.equal(feed(c, text) === -1, ok, text);
      c.dispose();
    }
  });

  it("blank runs are capped at the document's own longest, rounded up to 16, and rollback restores the run", async () => {
    assert.equal(whitespaceCap('{"a": 1}'), 16);
    assert.equal(whitespaceCap('{\n' + ' '.repeat(20) + '"a": 1}'), 32);
    const cap = whitespaceCap(pkg);
    // The prefix ends with blanks ("\n  "): they count toward the first run.
    const lead = prefix.length - prefix.trimEnd().length;
    const cases: [string, boolean][] = [
      ['"private":' + ' '.repeat(cap) + 'true,\n  ', true],
      ['"private":' + ' '.repeat(cap + 1) + 'true,\n  ', false],
      [' '.repeat(cap - lead) + '"private": true,\n  ', true],
      [' '.repeat(cap - lead + 1) + '"private": true,\n  ', false],
      ['\n'.repeat(4 * cap), false],
    ];
    (await grammarFor(opts("json", pkgPath, prefix, suffix)))?.dispose(); // compiled once
    for (const [text, ok] of cases) {
      const c = await factory.create(opts('json', pkgPath, prefix, suffix));
      assert.ok(c && c.name.includes('blank-run'), c?.name);
      const rejectedAt = feed(c, text);
      assert.equal(rejectedAt === -1, ok, JSON.stringify(text));
      c.rollback(rejectedAt === -1 ? tokenizer.encode(text).length : rejectedAt);
      const first = cases[0]?.[0] ?? '';
      assert.equal(feed(c, first), -1, 'rollback did not restore the state');
      c.rollback(tokenizer.encode(first).length);
      c.dispose?.();
    }
    const other = await factory.create(opts('typescript', '/w/a.ts', 'const a = ', ';\n'));
    assert.ok(other === undefined || !other.name.includes('blank-run'), 'the cap is for JSON only');
  });

  it('mask agrees with check, and rollback restores the state exactly', async () => {
    const c = await grammarFor(opts('json', pkgPath, prefix, suffix));
    assert.ok(c);
    const maskOf = (): Uint8Array => {
      const m = new Uint8Array(tokenizer.vocabSize);
      assert.equal(c.mask(m), true);
      return m;
    };
    assert.equal(feed(c, '"private": '), -1);
    const m0 = maskOf();
    for (let id = 0; id < tokenizer.vocabSize; id += 7) assert.equal(c.check(id), m0[id] === 1, `id ${id} ${JSON.stringify(tokenizer.decode([id]))}`);
    const n = tokenizer.encode('true, "main": "x').length;
    assert.equal(feed(c, 'true, "main": "x'), -1);
    c.rollback(n);
    assert.deepEqual(maskOf(), m0);
    c.dispose();
  });

  it('may stop only where the text after the cursor still parses', async () => {
    const c = await grammarFor(opts('json', pkgPath, prefix, suffix));
    assert.ok(c);
    assert.equal(c.canStop(), true);
    assert.equal(feed(c, '"license": '), -1);
    assert.equal(c.canStop(), false);
    assert.equal(feed(c, '"MIT",\n  '), -1);
    assert.equal(c.canStop(), true);
    c.dispose();
  });

  it('may not stop where a long string after the cursor would have to be read as a key', async () => {
    // The document has a value there; a completion that writes a value of its own and a comma
    // turns the suffix's long string into a key followed by a comma, far past the first 64 tokens.
    const long = 'Model directory in the Hugging Face / transformers.js ONNX layout; '.repeat(8);
    const prefix = '{\n  "name": "x",\n  "description": ';
    const suffix = `"${long}",\n  "version": "1.0.0"\n}\n`;
    assert.ok(tokenizer.encode(suffix).length > 128);
    const c = await grammarFor(opts('json', pkgPath, prefix, suffix));
    assert.ok(c, logs.join('\n'));
    assert.equal(c.canStop(), true);
    assert.equal(feed(c, '"y",\n  '), -1);
    assert.equal(c.canStop(), false);
    c.dispose();
  });

  it('reuses the matcher of the previous keystroke: feeds only the new characters, same state', async () => {
    const cut = at(pkg, '"dependencies"');
    const first = await grammarFor(opts('json', pkgPath, cut.prefix, cut.suffix));
    assert.ok(first);
    assert.equal(feed(first, '"license": "MIT",\n  '), -1);
    first.dispose(); // rolls its tokens back and returns the matcher
    const typed = '"private": ';
    const next = await grammarFor(opts('json', pkgPath, cut.prefix + typed, cut.suffix));
    assert.ok(next);
    assert.equal(next.stats.nFedChars, typed.length);
    const reused = new Uint8Array(tokenizer.vocabSize);
    assert.equal(next.mask(reused), true);
    // A second constraint while `next` holds the lease gets a fresh matcher fed from the start.
    const fresh = await grammarFor(opts('json', pkgPath, cut.prefix + typed, cut.suffix));
    assert.ok(fresh);
    assert.equal(fresh.stats.nFedChars, cut.prefix.length + typed.length);
    const m = new Uint8Array(tokenizer.vocabSize);
    assert.equal(fresh.mask(m), true);
    assert.deepEqual(reused, m);
    next.dispose();
    fresh.dispose();
  });

  it('disposing what create() returns (an intersection) gives the matcher back for the next keystroke', async () => {
    const cut = at(pkg, '"dependencies"');
    const c = await factory.create(opts('json', pkgPath, cut.prefix, cut.suffix));
    assert.ok(c);
    c.dispose?.();
    const typed = '"private": ';
    const next = await grammarFor(opts('json', pkgPath, cut.prefix + typed, cut.suffix));
    assert.ok(next);
    assert.equal(next.stats.nFedChars, typed.length);
    next.dispose();
  });

  it('tsconfig.json with comments: completions follow the built-in tsconfig schema', async () => {
    const cut = at(tsconfig, '"outDir"');
    const c = await grammarFor(opts('jsonc', tsconfigPath, cut.prefix, cut.suffix));
    assert.ok(c, logs.join('\n'));
    // Rejected where the value starts: a string where the schema wants a boolean.
    assert.ok(feed(c, '"declaration": "yes"') >= tokenizer.encode('"declaration":').length - 1);
    c.dispose();
    const d = await grammarFor(opts('jsonc', tsconfigPath, cut.prefix, cut.suffix));
    assert.ok(d);
    assert.equal(feed(d, '"declaration": true,\n    '), -1);
    d.dispose();
  });

  it('falls back (and says why) when the text before the cursor is not in the language', async () => {
    logs.length = 0;
    const c = await grammarFor(opts('json', pkgPath, '{\n  "name": "x",,\n  ', '}\n'));
    assert.equal(c, undefined);
    assert.ok(logs.some((l) => /not in the grammar's language/.test(l)), logs.join('\n'));
  });

  it('intersects with the syntax constraint in createConstraints', async () => {
    const c = await factory.create(opts('json', pkgPath, prefix, suffix));
    assert.ok(c);
    assert.match(c.name, /^syntax\+JSON schema/);
    assert.ok(feed(c, '"private": "no"') >= tokenizer.encode('"private":').length - 1);
  });
});

describe('user EBNF grammars (specter.grammars)', () => {
  const calc = join(dir, 'grammars', 'calc.ebnf');
  const broken = join(dir, 'grammars', 'broken.ebnf');

  it('constrains a language to the user grammar', async () => {
    const o = opts('calc', '/w/a.calc', 'x = 1;\ny = (x + ', '', { grammars: { calc } });
    const c = await grammarFor(o);
    assert.ok(c, logs.join('\n'));
    assert.equal(feed(c, '2);\n'), -1);
    c.dispose();
    const d = await grammarFor(o);
    assert.ok(d);
    assert.equal(feed(d, '2 * 3'), 1);
    d.dispose();
  });

  it('a broken grammar gets a clear message and no constraint', async () => {
    logs.length = 0;
    const o = opts('calc', '/w/a.calc', 'x = ', '', { grammars: { calc: broken } });
    assert.equal(await grammarFor(o), undefined);
    assert.ok(logs.some((l) => l.includes('broken.ebnf failed to compile')), logs.join('\n'));
  });

  it('a mask over the time budget leaves the step unconstrained and rollback re-arms it', async () => {
    logs.length = 0;
    const o = opts('calc', '/w/a.calc', 'x = ', '', { grammars: { calc }, maskBudgetMs: 1e-6 });
    const c = await grammarFor(o);
    assert.ok(c);
    assert.equal(c.mask(new Uint8Array(tokenizer.vocabSize)), false);
    assert.ok(logs.some((l) => /unconstrained for the rest of this completion/.test(l)));
    assert.equal(c.check(tokenizer.encode('*')[0] as number), true, 'off: everything passes');
    // Rolled back to where it turned off (the decode loop's end rule re-checks from the start): on again.
    c.advance(tokenizer.encode('*')[0] as number);
    c.rollback(1);
    assert.equal(c.check(tokenizer.encode('*')[0] as number), false, 'on again after the rollback');
    c.dispose();
  });
});
