#!/usr/bin/python3
"""Draft table for Specter's `table` drafter (server/engine/table-drafter.ts).

For every context of 1-4 tokens seen in a sample of the training token stream, the token the model
itself most often predicts next (its greedy choice), so that a chain of lookups drafts what the
model is likely to write and speculative decoding can verify it in one forward pass.  An entry is
kept only when it occurred at least --min-count times (orders >= 2) and differs from what the
shorter context already predicts (a lookup backs off to the longest context present, so a pruned
entry changes no prediction).

Writes <model>/specter/draft-table.bin (little-endian):
  "SPDT" · u32 version (1) · u32 vocab size · u32 max order K · 8 bytes: SHA-256 of tokenizer.json (first 8)
  then for k = 1..K: u32 n · n rows of k+1 u16: the context (oldest token first), the predicted token;
  rows sorted by context.
Usage: draft_table.py [model_dir] [--tokens N] [--min-count C] [--max-order K]
"""
import hashlib, json, os, struct, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import LlamaForCausalLM
import safetensors_io
from ngram_baseline import train_stream

WINDOW = 512
BATCH = 8


def opt(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def load_model(model_dir):
    cfg = json.load(open(os.path.join(model_dir, 'config.json')))
    keys = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
            'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta']
    model = LlamaForCausalLM({k: cfg[k] for k in keys}).eval()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in safetensors_io.load(os.path.join(model_dir, 'model.safetensors')).items()})
    return model, cfg['vocab_size']


@torch.no_grad()
def greedy_next(model, stream, n_tokens, seed):
    """Windows of the stream at random starts, and the model's argmax after every position."""
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.choice(len(stream) - WINDOW - 1, max(1, n_tokens // WINDOW), replace=False))
    ctxs, preds = [], []
    t0 = time.time()
    for b in range(0, len(starts), BATCH):
        x = torch.tensor(np.stack([stream[a:a + WINDOW] for a in starts[b:b + BATCH]]))
        logits, _ = model(input_ids=x)
        ctxs.append(x.numpy())
        preds.append(logits.argmax(-1).numpy())
        if b % (BATCH * 40) == 0:
            print(f'  {b * WINDOW:,} / {len(starts) * WINDOW:,} tokens, {time.time() - t0:.0f}s', flush=True)
    return np.concatenate(ctxs), np.concatenate(preds)


def majority(ctxs, preds, k):
    """Sorted unique contexts of k tokens (16 bits per token in one uint64), the model's most
    frequent next token after each, and how often the context occurred."""
    W = ctxs.shape[1]
    key = np.zeros((ctxs.shape[0], W - k + 1), dtype=np.uint64)
    for j in range(k):
        key = (key << np.uint64(16)) | ctxs[:, j:W - k + 1 + j].astype(np.uint64)
    key, val = key.ravel(), preds[:, k - 1:].ravel().astype(np.uint64)
    order = np.lexsort((val, key))
    key, val = key[order], val[order]
    # Runs of equal (context, next) pairs, then per context the longest run (the first on ties).
    new_pair = np.ones(len(key), dtype=bool)
    new_pair[1:] = (key[1:] != key[:-1]) | (val[1:] != val[:-1])
    starts = np.flatnonzero(new_pair)
    pkey, pval = key[starts], val[starts]
    pcount = np.diff(np.append(starts, len(key)))
    order = np.lexsort((-pcount, pkey))
    pkey, pval, pcount = pkey[order], pval[order], pcount[order]
    keys, first = np.unique(pkey, return_index=True)
    return keys, pval[first], np.add.reduceat(pcount, first)


def build(ctxs, preds, max_order, min_count):
    tables = {k: majority(ctxs, preds, k) for k in range(1, max_order + 1)}
    kept = {}
    for k in range(1, max_order + 1):
        keys, best, total = tables[k]
        keep = np.ones(len(keys), dtype=bool)
        if k >= 2:
            keep &= total >= min_count
            # What the (k-1)-token suffix predicts; every suffix of a seen context was seen too.
            skeys, sbest, _ = tables[k - 1]
            suffix = keys & np.uint64((1 << (16 * (k - 1))) - 1)
            at = np.searchsorted(skeys, suffix)
            assert np.all(skeys[at] == suffix)
            keep &= sbest[at] != best
        kept[k] = (keys[keep], best[keep])
    return kept


def lookup(tables, max_order, ids):
    for k in range(min(max_order, len(ids)), 0, -1):
        key = 0
        for t in ids[len(ids) - k:]:
            key = (key << 16) | int(t)
        keys, best = tables[k]
        i = np.searchsorted(keys, np.uint64(key))
        if i < len(keys) and keys[i] == key:
            return int(best[i])
    return None


@torch.no_grad()
def heldout_agreement(model, tables, max_order, n_tokens=50_000):
    """Share of held-out positions where the table's next token is the model's own greedy choice."""
    from ngram_baseline import tok
    ids = []
    for l in open(os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl')):
        ids += tok.encode_ordinary(json.loads(l)['text']) + [tok.eos_id]
        if len(ids) >= n_tokens:
            break
    hits = total = 0
    for s in range(0, min(len(ids), n_tokens) - WINDOW + 1, WINDOW):
        w = ids[s:s + WINDOW]
        pred = model(input_ids=torch.tensor([w]))[0][0].argmax(-1).tolist()
        for j in range(WINDOW):
            hits += lookup(tables, max_order, w[max(0, j + 1 - max_order):j + 1]) == pred[j]
            total += 1
    return round(hits / total, 4)


def write(path, tables, max_order, vocab, tok_hash):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(b'SPDT' + struct.pack('<III', 1, vocab, max_order) + tok_hash)
        for k in range(1, max_order + 1):
            keys, best = tables[k]
            rows = np.zeros((len(keys), k + 1), dtype='<u2')
            for j in range(k):
                rows[:, j] = (keys >> np.uint64(16 * (k - 1 - j))) & np.uint64(0xFFFF)
            rows[:, k] = best
            f.write(struct.pack('<I', len(keys)))
            f.write(rows.tobytes())


def main():
    args = [a for i, a in enumerate(sys.argv[1:], 1) if not a.startswith('--') and not sys.argv[i - 1].startswith('--')]
    model_dir = args[0] if args else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
    n_tokens, min_count, max_order = opt('--tokens', 1_000_000), opt('--min-count', 2), opt('--max-order', 4)
    torch.set_num_threads(2)
    model, vocab = load_model(model_dir)
    assert vocab <= 65536
    stream = train_stream()
    t0 = time.time()
    print(f'greedy predictions on {n_tokens:,} training tokens ({WINDOW}-token windows)')
    ctxs, preds = greedy_next(model, stream, n_tokens, seed=0)
    tables = build(ctxs, preds, max_order, min_count)
    tok_hash = hashlib.sha256(open(os.path.join(model_dir, 'tokenizer.json'), 'rb').read()).digest()[:8]
    out = os.path.join(model_dir, 'specter', 'draft-table.bin')
    write(out, tables, max_order, vocab, tok_hash)
    agree = heldout_agreement(model, tables, max_order)
    stats = {'heldout_agreement': agree, 'tokens': int(ctxs.size), 'seconds': round(time.time() - t0), 'min_count': min_count, 'max_order': max_order,
             'entries': {k: int(len(tables[k][0])) for k in tables}, 'bytes': os.path.getsize(out)}
    print(json.dumps(stats))
    json.dump(stats, open(os.path.join(HERE, 'work', 'draft_table.json'), 'w'))


if __name__ == '__main__':
    main()
