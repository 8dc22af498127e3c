#!/usr/bin/python3
"""Write tokenizer parity cases (held-out files + adversarial strings) with the Python encoder's ids,
for check_tokenizer.js to compare against @huggingface/tokenizers."""
import json, os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
OUT = os.path.join(HERE, 'work', 'tok_cases.jsonl')
tok = bpe.Tokenizer(os.path.join(MODEL, 'tokenizer.json'))
rng = random.Random(7)
cases = []
for l in open(os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl')):
    d = json.loads(l)
    cases.append(('heldout:' + d['doc'], d['text'][:50_000]))
fixed = ['', ' ', '\t\tx = 1\r\n\r\ny', 'héllo wörld — ünïcödé', '日本語のテキスト 中文 한국어', '👍🏽 family: 👨‍👩‍👧‍👦 flags 🇫🇷',
         "don't I'LL we've THEY'RE", '   \n\n   \t \r\r\n  end   ', 'a' * 300, '0123456789 3.14159e-10 0xFFn',
         '<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>', '\x00\x01\x7f\u0085\u2028\u2029\ufeff', 'مرحبا بالعالم', 'Ω≈ç√∫˜µ≤≥÷']
for i, s in enumerate(fixed):
    cases.append((f'fixed:{i}', s))
pools = [(0x20, 0x7e), (0x0, 0x20), (0x80, 0x7ff), (0x800, 0xd7ff), (0xe000, 0xfffd), (0x10000, 0x10ffff)]
for i in range(300):
    n = rng.randint(1, 60)
    chars = []
    for _ in range(n):
        a, b = pools[rng.choice([0, 0, 0, 1, 2, 3, 4, 5])]
        chars.append(chr(rng.randint(a, b)))
    cases.append((f'random:{i}', ''.join(chars)))
with open(OUT, 'w') as f:
    for name, text in cases:
        ids = tok.encode(text)
        assert tok.decode(ids) == text, name
        f.write(json.dumps({'name': name, 'text': text, 'ids': ids}) + '\n')
print(f'wrote {len(cases)} cases to {OUT} (python round-trip ok)')
