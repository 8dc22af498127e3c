// Overhead of the built-in syntax constraint with the real specter-tiny tokenizer, standalone (no
// model): per-token check+advance as the decode loop calls them, a full mask (only built when the
// sampled token is rejected), per-request setup (lexing the document around the cursor) and the
// end rule the loop runs once per completion (re-check every token, canStop at the end), and the
// finishing mask (per finishing step, only when decoding ends where the completion may not end).
// The "completions" are the original code after random cut points in real files, so the token
// stream is what a good model would produce.
//
//   node --import tsx bench/constraints/overhead.ts [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endWhereAllowed } from '../../server/engine/constraint-end';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { tokenTable } from '../../server/engine/constraints/token-table';
import { ConstraintFactory, defaultConstraintSettings } from '../../server/grammar/index';
import { realTokenizer } from '../../test/fixtures/constraints/tokenizers';
import { benchFiles, cutPoints, percentile } from './common';

const root = join(__dirname, '..', '..');
const tokenizer = realTokenizer();
const tTable0 = performance.now();
tokenTable(tokenizer);
const tTableMs = performance.now() - tTable0;

const tStepUs: number[] = [];
const tMaskUs: number[] = [];
const tSetupMs: number[] = [];
const tCanStopUs: number[] = [];
const tEndUs: number[] = [];
const tFinishUs: number[] = [];
let nTokens = 0;
let nRequests = 0;
const allowed = new Uint8Array(tokenizer.vocabSize);

for (let round = 0; round < 2; round++) {
  // Round 0 warms the JIT; round 1 is measured.
  for (const { path, languageId } of benchFiles()) {
    const text = readFileSync(path, 'utf8');
    for (const at of cutPoints(text, 30, 99)) {
      let end = text.indexOf('\n', at);
      end = end < 0 ? text.length : end;
      const next = text.indexOf('\n', end + 1);
      if (next > 0) end = next; // the rest of the line plus one more line
      const t0 = performance.now();
      const k = createSyntaxConstraint({ languageId, prefix: text.slice(0, at), suffix: text.slice(end), tokenizer });
      const t1 = performance.now();
      if (k === undefined) continue;
      const ids = tokenizer.encode(text.slice(at, end));
      const measured = round === 1;
      if (measured) {
        tSetupMs.push(t1 - t0);
        nRequests++;
      }
      const advanced: number[] = [];
      for (const id of ids) {
        const s0 = performance.now();
        const ok = k.check(id);
        k.advance(id);
        const s1 = performance.now();
        advanced.push(id);
        if (!ok) break;
        if (measured) {
          tStepUs.push((s1 - s0) * 1000);
          nTokens++;
        }
      }
      const c0 = performance.now();
      k.canStop();
      const c1 = performance.now();
      allowed.fill(0);
      const m0 = performance.now();
      k.mask(allowed);
      const m1 = performance.now();
      allowed.fill(0);
      const f0 = performance.now();
      k.finishMask(allowed);
      const f1 = performance.now();
      const e0 = performance.now();
      endWhereAllowed(k, tokenizer, advanced, tokenizer.decode(advanced));
      const e1 = performance.now();
      if (measured) {
        tFinishUs.push((f1 - f0) * 1000);
        tCanStopUs.push((c1 - c0) * 1000);
        tMaskUs.push((m1 - m0) * 1000);
        tEndUs.push((e1 - e0) * 1000);
      }
    }
  }
}

/** JSON Schema (XGrammar) constraint on package.json/tsconfig.json: the original text after cut points. */
async function jsonOverhead(): Promise<Record<string, unknown>> {
  const factory = new ConstraintFactory(() => undefined);
  const settings = { ...defaultConstraintSettings, maskBudgetMs: 60_000 };
  const tCheck: number[] = [];
  const tMask: number[] = [];
  const tCanStop: number[] = [];
  const tEnd: number[] = [];
  const tCreate: number[] = [];
  const tCompile: number[] = [];
  for (const path of [join(root, 'package.json'), join(root, 'test/fixtures/constraints/json/package.json'), join(root, 'tsconfig.json'), join(root, 'test/fixtures/constraints/json/tsconfig.json')]) {
    const text = readFileSync(path, 'utf8');
    const languageId = path.endsWith('package.json') ? 'json' : 'jsonc';
    const c0 = performance.now();
    await factory.prepare({ languageId, documentPath: path, text, tokenizer, settings });
    tCompile.push(performance.now() - c0);
    for (const at of cutPoints(text, 25, 7)) {
      const a0 = performance.now();
      const g = await factory.grammarConstraint({ languageId, documentPath: path, prefix: text.slice(0, at), suffix: text.slice(at), tokenizer, settings });
      tCreate.push(performance.now() - a0);
      if (g === undefined) continue;
      const end = Math.min(text.length, at + 120);
      const advanced: number[] = [];
      for (const id of tokenizer.encode(text.slice(at, end))) {
        const s0 = performance.now();
        const ok = g.check(id);
        g.advance(id);
        tCheck.push((performance.now() - s0) * 1000);
        advanced.push(id);
        if (!ok) break;
      }
      const k0 = performance.now();
      g.canStop();
      tCanStop.push((performance.now() - k0) * 1000);
      const m = new Uint8Array(tokenizer.vocabSize);
      const m0 = performance.now();
      g.mask(m);
      tMask.push((performance.now() - m0) * 1000);
      const e0 = performance.now();
      endWhereAllowed(g, tokenizer, advanced, tokenizer.decode(advanced));
      tEnd.push((performance.now() - e0) * 1000);
      g.dispose();
    }
  }
  return {
    nTokens: tCheck.length,
    compileFirstMs: tCompile.map((t) => Number(t.toFixed(0))),
    checkAdvanceUs: { p50: percentile(tCheck, 50), p99: percentile(tCheck, 99) },
    maskUs: { p50: percentile(tMask, 50), p99: percentile(tMask, 99) },
    canStopUs: { p50: percentile(tCanStop, 50), p99: percentile(tCanStop, 99) },
    endRuleUs: { p50: percentile(tEnd, 50), p99: percentile(tEnd, 99) },
    perRequestSetupMs: { p50: percentile(tCreate, 50), p99: percentile(tCreate, 99) },
  };
}

const decodeStepMs = 12; // ENVIRONMENT.md: one decode step of the 5M-parameter model on this CPU, 12–17 ms
const result = {
  tokenizer: `specter-tiny (${tokenizer.vocabSize} ids)`,
  nRequests,
  nTokens,
  tTokenTableMs: Number(tTableMs.toFixed(2)),
  checkAdvanceUs: { p50: percentile(tStepUs, 50), p99: percentile(tStepUs, 99), max: percentile(tStepUs, 100) },
  maskUs: { p50: percentile(tMaskUs, 50), p99: percentile(tMaskUs, 99) },
  canStopUs: { p50: percentile(tCanStopUs, 50), p99: percentile(tCanStopUs, 99) },
  endRuleUs: { p50: percentile(tEndUs, 50), p99: percentile(tEndUs, 99) },
  finishMaskUs: { p50: percentile(tFinishUs, 50), p99: percentile(tFinishUs, 99) },
  setupMs: { p50: percentile(tSetupMs, 50), p99: percentile(tSetupMs, 99) },
  p99ShareOfDecodeStep: `${((percentile(tStepUs, 99) / 1000 / decodeStepMs) * 100).toFixed(3)}%`,
};
console.log(JSON.stringify(result, null, 2));
console.log(`
| syntax constraint (${result.tokenizer}) | p50 | p99 |
| --- | --- | --- |
| check + advance per token | ${result.checkAdvanceUs.p50} µs | ${result.checkAdvanceUs.p99} µs |
| full mask (only on rejection) | ${result.maskUs.p50} µs | ${result.maskUs.p99} µs |
| canStop | ${result.canStopUs.p50} µs | ${result.canStopUs.p99} µs |
| end rule, once per completion | ${result.endRuleUs.p50} µs | ${result.endRuleUs.p99} µs |
| finishing mask, per finishing step (only when decoding ends where it may not) | ${result.finishMaskUs.p50} µs | ${result.finishMaskUs.p99} µs |
| per-request setup (lex prefix, plan suffix) | ${result.setupMs.p50} ms | ${result.setupMs.p99} ms |
`);
void jsonOverhead().then((json) => {
  console.log(JSON.stringify({ jsonSchema: json }, null, 2));
  type P = { p50: number; p99: number };
  const j = json as { checkAdvanceUs: P; maskUs: P; canStopUs: P; endRuleUs: P; perRequestSetupMs: P };
  console.log(`
| JSON Schema constraint (XGrammar, ${result.tokenizer}) | p50 | p99 |
| --- | --- | --- |
| check + advance per token | ${j.checkAdvanceUs.p50} µs | ${j.checkAdvanceUs.p99} µs |
| full mask (only on rejection) | ${j.maskUs.p50} µs | ${j.maskUs.p99} µs |
| canStop (re-parse the suffix) | ${j.canStopUs.p50} µs | ${j.canStopUs.p99} µs |
| end rule, once per completion | ${j.endRuleUs.p50} µs | ${j.endRuleUs.p99} µs |
| per-request setup (matcher, feed prefix) | ${j.perRequestSetupMs.p50} ms | ${j.perRequestSetupMs.p99} ms |
`);
  const out = process.argv.indexOf('--json');
  if (out > 0 && process.argv[out + 1] !== undefined) writeFileSync(process.argv[out + 1] as string, JSON.stringify({ syntax: result, jsonSchema: json }, null, 2) + '\n');
});
