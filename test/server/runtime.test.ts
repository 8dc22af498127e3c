// Runtime tests against the embedded default model (models/specter-tiny; SPECTER_TEST_MODEL
// overrides): shapes, tokenizer, KV-cache reuse against cold runs, and every bad input the loader
// must turn into an error outcome that says what is wrong and what to do.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadModel, prefillWithReuse, type LoadedModel, type ModelErrorCode } from '../../server/runtime/load-model';
import { sessionOptions } from '../../server/runtime/session';
import { coldLast, copyModelDir, fixtureDir, maxAbsDiff, noLog, removeDir, repoRoot, stepwise } from './runtime-helpers';

const modelDir = process.env['SPECTER_TEST_MODEL'] ?? path.join(repoRoot, 'models', 'specter-tiny');
const loadOpts = { variant: 'model', executionProvider: 'cpu' as const, threads: 0, log: noLog };
const tol = 1e-4;

const sampleCode = [
  'export function fibonacci(n: number): number {',
  '  if (n < 2) return n;',
  '  return fibonacci(n - 1) + fibonacci(n - 2);',
  '}',
  '',
  'const cache = new Map<string, number>();',
  'for (let i = 0; i < 10; i++) {',
  '  cache.set(`k${i}`, fibonacci(i));',
  '}',
  '',
].join('\n');

void describe('runtime on the default model', () => {
  let model: LoadedModel;
  before(async () => {
    const r = await loadModel(modelDir, loadOpts);
    assert.ok(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.message}`);
    model = r.value;
  });
  after(async () => model.dispose());

  void it('discovers the shapes config.json states', () => {
    const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
    const heads = config['num_attention_heads'] ?? 0;
    assert.equal(model.config.layers, config['num_hidden_layers']);
    assert.equal(model.config.heads, heads);
    assert.equal(model.config.kvHeads, config['num_key_value_heads'] ?? heads);
    assert.equal(model.config.headDim, config['head_dim'] ?? (config['hidden_size'] ?? 0) / heads);
    assert.equal(model.config.hidden, config['hidden_size']);
    assert.equal(model.config.contextLength, config['max_position_embeddings']);
    assert.equal(model.lm.vocabSize, config['vocab_size']);
    assert.ok(model.lm.vocabSize >= model.tokenizer.vocabSize);
    assert.equal(model.lm.contextLength, model.config.contextLength);
  });

  void it('idle worker threads do not spin unless asked; logits are the same either way', async () => {
    assert.deepEqual(sessionOptions('cpu', 0, false).extra, { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } });
    assert.equal(sessionOptions('cpu', 0, true).extra, undefined);
    const spinning = await loadModel(modelDir, { ...loadOpts, threadSpinning: true });
    assert.ok(spinning.ok);
    try {
      const ids = model.tokenizer.encode('def add(a, b):\n    return');
      assert.ok(maxAbsDiff(await coldLast(model.lm, ids), await coldLast(spinning.value.lm, ids)) < 1e-4);
    } finally {
      await spinning.value.dispose();
    }
  });

  void it('finds the special tokens and stop ids', () => {
    const t = model.tokenizer;
    for (const s of ['<|endoftext|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_sep|>']) {
      assert.ok(t.specialTokens.has(s), s);
    }
    for (const s of ['<|endoftext|>', '<|file_sep|>']) assert.ok(t.stopIds.has(t.specialTokens.get(s) ?? -1), s);
    for (const id of t.specialTokens.values()) assert.equal(t.tokenBytes(id).length, 0);
  });

  const roundTrips = [
    '',
    'a',
    sampleCode,
    'tabs\tand  double  spaces   and trailing   ',
    'crlf\r\nlines\r\n\r\n',
    'unicode: héllo wörld — ∑ λx. x → ✓ 日本語 한국어',
    'emoji 😀👩‍💻 and flags 🇫🇷',
    'zero\u0000byte and \u001b[31mescape',
    '                                                                indent',
    "quotes ' \" ` and backslashes \\n \\\\",
    'def f(x):\n\treturn x ** 2  # comment\n',
  ];
  for (const s of roundTrips) {
    void it(`round-trips ${JSON.stringify(s.slice(0, 30))}`, () => {
      const ids = model.tokenizer.encode(s);
      assert.equal(model.tokenizer.decode(ids), s);
      const bytes = Buffer.concat(ids.map((id) => model.tokenizer.tokenBytes(id)));
      assert.equal(bytes.toString('utf8'), s);
    });
  }

  void it('does not map special-token text in user code to special ids', () => {
    const t = model.tokenizer;
    const specialIds = new Set(t.specialTokens.values());
    for (const [content] of t.specialTokens) {
      const text = `const marker = "${content}"; // ${content}${content}`;
      const ids = t.encode(text);
      assert.deepEqual(ids.filter((id) => specialIds.has(id)), [], content);
      assert.equal(t.decode(ids), text);
    }
  });

  void it('multi-token forward with past equals token-by-token forward', async () => {
    const ids = model.tokenizer.encode(sampleCode).slice(0, 40);
    const ref = await stepwise(model.lm, ids);
    model.lm.truncate(10);
    const rest = await model.lm.forward(ids.slice(10));
    assert.ok(maxAbsDiff(rest.data, ref.subarray(10 * model.lm.vocabSize)) < tol);
  });

  void it('truncate then forward equals a cold run', async () => {
    const ids = model.tokenizer.encode(sampleCode);
    model.lm.truncate(0);
    await model.lm.forward(ids);
    model.lm.truncate(25);
    const extra = model.tokenizer.encode(' different ending');
    const warm = await model.lm.forward(extra);
    const warmLast = warm.data.slice((warm.nRows - 1) * warm.vocabSize);
    assert.ok(maxAbsDiff(warmLast, await coldLast(model.lm, [...ids.slice(0, 25), ...extra])) < tol);
  });

  for (const cutInPlace of [true, false]) {
    void it(`rejected drafts: truncations back to back, then a forward, equal a cold run in every row (KV cut ${cutInPlace ? 'in place' : 'into fresh arrays'})`, async () => {
      model.lm.cutInPlace = cutInPlace;
      const ids = model.tokenizer.encode(sampleCode).slice(0, 40);
      const draft = model.tokenizer.encode(' return value + 1;').slice(0, 5);
      const next = model.tokenizer.encode(' // done').slice(0, 3);
      assert.ok(ids.length === 40 && draft.length >= 2 && next.length >= 2);
      model.lm.truncate(0);
      await model.lm.forward(ids);
      model.lm.truncate(30);
      await model.lm.forward(draft);
      // Truncated twice before the next pass (the cut is made once, lazily, to the shorter length), then more tokens.
      model.lm.truncate(32);
      model.lm.truncate(31);
      const warm = await model.lm.forward(next);
      const context = [...ids.slice(0, 30), draft[0] as number, ...next];
      model.lm.truncate(0);
      const cold = await model.lm.forward(context);
      assert.equal(warm.nRows, next.length);
      assert.ok(maxAbsDiff(warm.data, cold.data.subarray((context.length - next.length) * cold.vocabSize)) < tol);
      // And the cache keeps growing correctly from a cut one.
      model.lm.truncate(context.length - 1);
      const again = await model.lm.forward([next[next.length - 1] as number]);
      assert.ok(maxAbsDiff(again.data, cold.data.subarray((context.length - 1) * cold.vocabSize)) < tol);
      model.lm.cutInPlace = true;
    });
  }

  void it('forwardEmbeds with embedding-table rows equals forward with the ids', async () => {
    assert.ok(model.lm.hasEmbedsPath, `the test model ${modelDir} has the embeds path (onnx/model_embeds.onnx)`);
    const table = await model.lm.embeddingTable();
    assert.ok(table.ok, table.ok ? '' : table.error.message);
    assert.equal(table.value.hidden, model.config.hidden);
    assert.ok(table.value.nRows >= model.tokenizer.vocabSize);
    const ids = model.tokenizer.encode(sampleCode).slice(0, 24);
    const hidden = model.config.hidden;
    const embeds = new Float32Array(ids.length * hidden);
    ids.forEach((id, i) => embeds.set(table.value.data.subarray(id * hidden, (id + 1) * hidden), i * hidden));
    const ref = await coldLast(model.lm, ids);
    model.lm.truncate(0);
    const viaEmbeds = await model.lm.forwardEmbeds(embeds, ids.length);
    assert.ok(maxAbsDiff(viaEmbeds.data.slice((ids.length - 1) * viaEmbeds.vocabSize), ref) < tol);
    model.lm.truncate(0);
  });

  const reuseCases: { name: string; first: string; second: string }[] = [
    { name: 'prompt grows by a few tokens', first: sampleCode, second: `${sampleCode}console.log(cache.get('k5'));` },
    { name: 'prompt diverges mid-way', first: sampleCode, second: sampleCode.replace('for (let i = 0; i < 10;', 'while (true) {') },
    { name: 'same prompt again', first: sampleCode, second: sampleCode },
    { name: 'prompt shrinks', first: sampleCode, second: sampleCode.slice(0, 60) },
  ];
  for (const c of reuseCases) {
    void it(`reuses the longest common prefix: ${c.name}`, async () => {
      const a = model.tokenizer.encode(c.first);
      const b = model.tokenizer.encode(c.second);
      let lcp = 0;
      while (lcp < Math.min(a.length, b.length) && a[lcp] === b[lcp]) lcp++;
      const cold = await coldLast(model.lm, b);
      model.lm.truncate(0);
      const first = await prefillWithReuse(model.lm, a, { chunk: 16 });
      assert.ok(!first.cancelled);
      const nTokensBefore = model.lm.counters.nTokens;
      const second = await prefillWithReuse(model.lm, b, { chunk: 16 });
      assert.ok(!second.cancelled);
      const expectReused = Math.min(lcp, b.length - 1);
      assert.equal(second.nReused, expectReused);
      assert.equal(second.nComputed, b.length - expectReused);
      assert.equal(model.lm.counters.nTokens - nTokensBefore, b.length - expectReused, 'only the new tokens ran');
      assert.deepEqual(model.lm.cached, b);
      assert.ok(maxAbsDiff(second.logitsLast, cold) < tol);
    });
  }
});

void describe('bad model directories', () => {
  const tempDirs: string[] = [];
  after(() => tempDirs.forEach(removeDir));
  const copy = (): string => {
    const dir = copyModelDir(modelDir);
    tempDirs.push(dir);
    return dir;
  };
  const onnxFile = (dir: string, name = 'model.onnx'): string => path.join(dir, 'onnx', name);
  const truncate = (name: string, fraction: number) => (dir: string): void => {
    const size = fs.statSync(onnxFile(dir, name)).size;
    fs.truncateSync(onnxFile(dir, name), Math.floor(size * fraction));
  };

  const cases: { name: string; prepare: (dir: string) => string | void; variant?: string; code: ModelErrorCode; message: RegExp[] }[] = [
    {
      name: 'directory missing',
      prepare: (dir) => path.join(dir, 'does-not-exist'),
      code: 'missing-dir',
      message: [/does-not-exist does not exist/, /specter\.model/],
    },
    {
      name: 'onnx/model.onnx truncated to 5%',
      prepare: truncate('model.onnx', 0.05),
      code: 'bad-onnx',
      message: [/onnx\/model\.onnx .*[\d.]+ [KM]B/, /truncated/, /re-download/],
    },
    {
      name: 'onnx/model.onnx truncated to 60%',
      prepare: truncate('model.onnx', 0.6),
      code: 'bad-onnx',
      message: [/onnx\/model\.onnx .*[\d.]+ [KM]B.*~[\d.]+ [KM]B/, /truncated/, /re-download/],
    },
    {
      name: 'external weights (onnx/model.onnx_data, when present) truncated to 40%',
      prepare: (dir) => truncate(fs.existsSync(onnxFile(dir, 'model.onnx_data')) ? 'model.onnx_data' : 'model.onnx', 0.4)(dir),
      code: 'bad-onnx',
      message: [/[\d.]+ [KM]B but should be ~[\d.]+ MB/, /truncated/, /re-download/],
    },
    {
      name: 'tokenizer vocab larger than the logits width',
      prepare: (dir) => {
        const file = path.join(dir, 'tokenizer.json');
        const tj = JSON.parse(fs.readFileSync(file, 'utf8')) as { added_tokens: { id: number }[] };
        const vocab = (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
        for (let k = 0; k < 8; k++) {
          tj.added_tokens.push({ id: vocab + k, content: `<|extra_${k}|>`, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true } as { id: number });
        }
        fs.writeFileSync(file, JSON.stringify(tj));
      },
      code: 'vocab-mismatch',
      message: [/tokenizer has \d+ tokens but onnx\/model\.onnx returns logits for only \d+/, /tokenizer that came with the model/],
    },
    {
      name: 'unknown IO names',
      prepare: (dir) => fs.copyFileSync(path.join(fixtureDir, 'wrong-io.onnx'), onnxFile(dir)),
      code: 'io-mismatch',
      message: [/unknown inputs \[tokens, mask\]/, /lacks input_ids/, /text-generation-with-past/],
    },
    {
      name: 'tokenizer.json missing',
      prepare: (dir) => fs.rmSync(path.join(dir, 'tokenizer.json')),
      code: 'missing-file',
      message: [/has no tokenizer\.json/, /specter\.model/],
    },
    {
      name: 'config.json damaged',
      prepare: (dir) => fs.writeFileSync(path.join(dir, 'config.json'), '{"num_hidden_layers": 4,'),
      code: 'bad-config',
      message: [/config\.json .* not valid JSON/, /re-download/],
    },
    {
      name: 'variant that does not exist',
      prepare: () => undefined,
      variant: 'model_fp16',
      code: 'missing-file',
      message: [/onnx\/model_fp16\.onnx not found/, /available variants: model\b/, /specter\.modelVariant/],
    },
  ];
  for (const c of cases) {
    void it(`${c.name} → ${c.code}`, async () => {
      const dir = copy();
      const target = c.prepare(dir) ?? dir;
      const r = await loadModel(target, { ...loadOpts, variant: c.variant ?? 'model' });
      assert.ok(!r.ok, 'load must fail');
      assert.equal(r.error.code, c.code, r.error.message);
      for (const re of c.message) assert.match(r.error.message, re);
    });
  }
});

void describe('the draft table (specter/draft-table.bin) is optional and checked', () => {
  const tempDirs: string[] = [];
  after(() => tempDirs.forEach(removeDir));
  const tableFile = (dir: string): string => path.join(dir, 'specter', 'draft-table.bin');
  const load = async (prepare: (dir: string) => void): Promise<LoadedModel> => {
    const dir = copyModelDir(modelDir);
    tempDirs.push(dir);
    prepare(dir);
    const r = await loadModel(dir, loadOpts);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    return r.value;
  };

  void it('the embedded model ships one that matches its tokenizer', async () => {
    const m = await load(() => undefined);
    assert.ok(m.draftTable, m.warnings.join('; '));
    assert.ok(m.draftTable.nEntries > 1000);
    assert.equal(m.draftTable.vocabSize, m.tokenizer.vocabSize);
    assert.deepEqual(m.warnings.filter((w) => w.includes('draft-table')), []);
    await m.dispose();
  });

  const broken: { name: string; prepare: (dir: string) => void; message: RegExp }[] = [
    { name: 'missing: no table, no warning', prepare: (dir) => fs.rmSync(tableFile(dir)), message: /^$/ },
    { name: 'truncated', prepare: (dir) => fs.truncateSync(tableFile(dir), Math.floor(fs.statSync(tableFile(dir)).size / 2)), message: /draft-table\.bin is damaged: truncated.*draft_table\.py/ },
    { name: 'not a table', prepare: (dir) => fs.writeFileSync(tableFile(dir), 'hello'), message: /draft-table\.bin is damaged: not a Specter draft table/ },
    {
      name: 'built with another tokenizer.json',
      prepare: (dir) => {
        const file = path.join(dir, 'tokenizer.json');
        fs.writeFileSync(file, JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))));
      },
      message: /draft-table\.bin was built with another tokenizer\.json/,
    },
  ];
  for (const c of broken) {
    void it(`${c.name} → the model loads, the table drafter is off${c.message.source === '^$' ? '' : ', a warning says why'}`, async () => {
      const m = await load(c.prepare);
      assert.equal(m.draftTable, undefined);
      const w = m.warnings.filter((x) => x.includes('draft-table')).join('\n');
      assert.match(w, c.message);
      await m.dispose();
    });
  }
});
