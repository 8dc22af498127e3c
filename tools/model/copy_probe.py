#!/usr/bin/python3
"""Does the model copy from its context?  Three numbers per model (nats per token, held-out data):

  repeat   a span of 60 random token ids, then the same span again: the loss on the second copy.
           A model with induction heads predicts it almost exactly (well under 1 nat); one without
           stays near the loss of the first copy (~10 nats: nothing to predict random ids from).
  nearcopy a real held-out block followed by a near-copy of it (0-3 identifiers renamed, as when
           code is duplicated and adapted; data.CopySampler.copy_short): the loss on the copy.
  plain    ordinary held-out text, 512-token windows (the language-modelling loss, for reference).

Usage: copy_probe.py MODEL_DIR_OR_CHECKPOINT [...]   (a directory with model.safetensors, or a
train.py checkpoint .pt).  Fixed seeds, so runs are comparable.
"""
import json, os, random, sys
import torch
import torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe, data, draft_table
from model import LlamaForCausalLM

ROOT = os.path.join(HERE, '..', '..')
HELDOUT = os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl')


def load(path):
    if not path.endswith('.pt'):
        return draft_table.load_model(path)[0]
    ck = torch.load(path, map_location='cpu')
    m = LlamaForCausalLM(ck['config'])
    m.load_state_dict(ck['model'])
    return m.eval()


def main():
    torch.set_num_threads(2)
    tok = bpe.Tokenizer(os.path.join(ROOT, 'models', 'specter-tiny', 'tokenizer.json'))
    sampler = data.CopySampler(tok, HELDOUT, seed=11)
    copies = []
    while len(copies) < 40:
        s = sampler.copy_short(sampler.pick_doc(), 160)
        if s is not None:
            copies.append(s)
    docs = [json.loads(l)['text'] for l in open(HELDOUT)]
    rng = random.Random(1)
    windows = []
    for _ in range(12):
        d = rng.choice(docs)
        start = rng.randrange(max(1, len(d) - 4000))
        windows.append(tok.encode_ordinary(d[start:start + 4000])[:512])
    spans = torch.randint(300, 4000, (8, 60), generator=torch.Generator().manual_seed(0))
    print('model | repeat: first copy → second copy | nearcopy | plain')
    for path in sys.argv[1:]:
        m = load(path)
        with torch.no_grad():
            x = torch.cat([spans, spans], 1)
            logits, _ = m(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction='none').reshape(x.shape[0], -1)
            first, second = loss[:, :59].mean().item(), loss[:, 60:].mean().item()
            tot = cnt = 0.0
            for ids, w in copies:
                x = torch.tensor([ids])
                logits, _ = m(x[:, :-1])
                l = F.cross_entropy(logits[0], x[0, 1:], reduction='none')
                sel = torch.tensor(w[1:]) == 1
                tot += l[sel].sum().item()
                cnt += sel.sum().item()
            near = tot / cnt
            tot = cnt = 0.0
            for ids in windows:
                x = torch.tensor([ids])
                logits, _ = m(x[:, :-1])
                tot += F.cross_entropy(logits[0], x[0, 1:], reduction='sum').item()
                cnt += len(ids) - 1
            plain = tot / cnt
        print(f'{path} | {first:.2f} → {second:.2f} | {near:.2f} | {plain:.2f}', flush=True)


if __name__ == '__main__':
    main()
