#!/usr/bin/python3
"""Train the byte-level BPE tokenizer on a deterministic ~8 MB sample of the training split."""
import json, os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe
from fim import FIM_CONFIG

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
MAX_CHARS_PER_DOC = 60_000
BUDGET = 30_000_000

docs = [json.loads(l) for l in open(os.path.join(HERE, 'work', 'corpus', 'train.jsonl'))]
rng = random.Random(1234)
rng.shuffle(docs)
texts, total = [], 0
for d in docs:
    t = d['text'][:MAX_CHARS_PER_DOC]
    texts.append(t)
    total += len(t)
    if total >= BUDGET:
        break
print(f'tokenizer sample: {len(texts)} docs, {total} chars')
merges = bpe.train(texts)
ids = bpe.write_hf(merges, OUT, extra_config={'specter_fim': FIM_CONFIG})
print('special token ids:', ids)
