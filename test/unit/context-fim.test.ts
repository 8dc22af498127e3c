import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoverFimTemplate, parseFormat, type FimFamily, type Layout } from '../../server/context/fim';
import { buildPrompt } from '../../server/context/prompt';
import { FakeTokenizer } from './fakes';

/** Ids back to text with special tokens spelled out. */
export function show(tok: FakeTokenizer, ids: readonly number[]): string {
  const names = new Map([...tok.specialTokens].map(([k, v]) => [v, k]));
  let out = '';
  let run: number[] = [];
  const flush = (): void => {
    out += tok.decode(run);
    run = [];
  };
  for (const id of ids) {
    const name = names.get(id);
    if (name === undefined) run.push(id);
    else {
      flush();
      out += name;
    }
  }
  flush();
  return out;
}

// The embedded model's metadata as tools/model/fim.py writes it.
const specterFim = {
  psm: true,
  spm: true,
  psm_format: '<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>',
  spm_format: '<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}<|endoftext|>',
  preferred: 'spm',
  middle_end_token: '<|endoftext|>',
  file_separator: '<|file_sep|>',
};

const qwen = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'];
const ctx = { path: 'file:///home/u/proj/src/a.ts', languageId: 'typescript', prefix: 'const a = 1;\nconst b = ', suffix: ';\nexport { a };\n' };
const budget = { maxPrefixTokens: 512, maxSuffixTokens: 128 };

// [name, specials, metadata, family, layout, expected prompt, stop tokens]
const cases: [string, string[], unknown, FimFamily, Layout, string, string[]][] = [
  [
    'Qwen2.5-Coder', qwen, undefined, 'qwen', 'psm',
    '<|file_sep|>proj/src/a.ts\n<|fim_prefix|>const a = 1;\nconst b = <|fim_suffix|>;\nexport { a };\n<|fim_middle|>',
    ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  ],
  [
    'embedded model (specter_fim metadata): suffix-first, the middle continues the prefix, no header', qwen, specterFim, 'specter', 'spm',
    '<|fim_prefix|><|fim_suffix|>;\nexport { a };\n<|fim_middle|>const a = 1;\nconst b = ',
    ['<|endoftext|>', '<|file_sep|>'],
  ],
  [
    'specter_fim metadata with SPM in Qwen order', qwen, { ...specterFim, spm_format: '<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}<|endoftext|>' }, 'specter', 'spm',
    '<|fim_suffix|>;\nexport { a };\n<|fim_prefix|>const a = 1;\nconst b = <|fim_middle|>',
    ['<|endoftext|>', '<|file_sep|>'],
  ],
  [
    'embedded model trained PSM only', qwen, { ...specterFim, spm: false }, 'specter', 'psm',
    '<|fim_prefix|>const a = 1;\nconst b = <|fim_suffix|>;\nexport { a };\n<|fim_middle|>',
    ['<|endoftext|>', '<|file_sep|>'],
  ],
  [
    'StarCoder2', ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<repo_name>', '<file_sep>'], undefined, 'starcoder', 'spm',
    '<file_sep>proj/src/a.ts\n<fim_prefix><fim_suffix>;\nexport { a };\n<fim_middle>const a = 1;\nconst b = ',
    ['<|endoftext|>', '<file_sep>', '<fim_pad>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
  ],
  [
    'StarCoder (1)', ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<filename>', '<gh_stars>'], undefined, 'starcoder', 'spm',
    '<filename>proj/src/a.ts\n<fim_prefix><fim_suffix>;\nexport { a };\n<fim_middle>const a = 1;\nconst b = ',
    ['<|endoftext|>', '<fim_pad>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
  ],
  [
    'DeepSeek-Coder', ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜fim▁end｜>', '<|EOT|>'], undefined, 'deepseek', 'psm',
    '<｜begin▁of▁sentence｜><｜fim▁begin｜>// proj/src/a.ts\nconst a = 1;\nconst b = <｜fim▁hole｜>;\nexport { a };\n<｜fim▁end｜>',
    ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
  ],
  [
    'Code Llama', ['<unk>', '<s>', '</s>', '▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'], undefined, 'codellama', 'spm',
    '<s>▁<PRE>▁<SUF>;\nexport { a };\n▁<MID>// proj/src/a.ts\nconst a = 1;\nconst b = ',
    ['▁<EOT>', '</s>'],
  ],
  [
    'Code Llama without ▁ names or BOS', ['<PRE>', '<SUF>', '<MID>', '<EOT>'], undefined, 'codellama', 'spm',
    '<PRE><SUF>;\nexport { a };\n<MID>// proj/src/a.ts\nconst a = 1;\nconst b = ',
    ['<EOT>'],
  ],
  [
    'no FIM tokens: prefix only', ['<|endoftext|>'], undefined, 'none', 'prefix-only',
    '// proj/src/a.ts\nconst a = 1;\nconst b = ',
    [],
  ],
  [
    'broken metadata falls back to token names', qwen, { psm_format: '<|nope|>{prefix}' }, 'qwen', 'psm',
    '<|file_sep|>proj/src/a.ts\n<|fim_prefix|>const a = 1;\nconst b = <|fim_suffix|>;\nexport { a };\n<|fim_middle|>',
    ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  ],
];

describe('FIM template discovery', () => {
  for (const [name, specials, meta, family, layout, expected, stops] of cases) {
    it(name, () => {
      const tok = new FakeTokenizer({ specials });
      const template = discoverFimTemplate(tok, meta);
      assert.equal(template.family, family);
      const prompt = buildPrompt(tok, template, ctx, budget);
      assert.equal(prompt.layout, layout);
      assert.equal(show(tok, prompt.ids), expected);
      assert.deepEqual(template.stopIds.map((id) => show(tok, [id])), stops);
    });
  }

  it('every supported layout can be forced', () => {
    const tok = new FakeTokenizer({ specials: qwen });
    const template = discoverFimTemplate(tok, specterFim);
    assert.equal(buildPrompt(tok, template, ctx, budget, { layout: 'psm' }).layout, 'psm');
    assert.equal(buildPrompt(tok, template, ctx, budget, { layout: 'prefix-only' }).layout, 'prefix-only');
    const qwenOnly = discoverFimTemplate(tok);
    assert.equal(buildPrompt(tok, qwenOnly, ctx, budget, { layout: 'spm' }).layout, 'psm');
  });

  it('special-token text inside the code stays plain text', () => {
    const tok = new FakeTokenizer({ specials: qwen });
    const prompt = buildPrompt(tok, discoverFimTemplate(tok), { ...ctx, prefix: 'x = "<|fim_middle|>"\n' }, budget);
    assert.equal(prompt.ids.filter((id) => id === tok.id('<|fim_middle|>')).length, 1);
  });

  it('comment headers follow the language', () => {
    const tok = new FakeTokenizer();
    const template = discoverFimTemplate(tok);
    const header = (languageId: string): string => show(tok, buildPrompt(tok, template, { ...ctx, languageId, prefix: '' }, budget).ids);
    assert.equal(header('python'), '# proj/src/a.ts\n');
    assert.equal(header('sql'), '-- proj/src/a.ts\n');
    assert.equal(header('html'), '<!-- proj/src/a.ts -->\n');
    assert.equal(header('go'), '// proj/src/a.ts\n');
  });

  it('parseFormat: slots, literal text, unknown specials', () => {
    const tok = new FakeTokenizer({ specials: qwen });
    assert.deepEqual(parseFormat(tok, '<|file_sep|>{path}\n', ['path']), [
      { kind: 'special', id: tok.id('<|file_sep|>'), text: '<|file_sep|>' },
      { kind: 'path' },
      { kind: 'text', text: '\n' },
    ]);
    assert.equal(parseFormat(tok, '<|fim_prefix|>{prefix}', ['prefix', 'suffix']), undefined);
    assert.equal(parseFormat(tok, '<|unknown|>{prefix}{suffix}', ['prefix', 'suffix']), undefined);
  });
});
