#!/usr/bin/python3
"""Token 4-gram baseline (greedy, backoff 4->3->2->1 to the longest context seen in training).

Built on the same training split and tokenizer as the model (documents tokenized as plain text,
each followed by <|endoftext|>).  Completes each line-completion task from its prefix only (an
n-gram model cannot use the suffix) until the first newline, and reports exact match.
Writes work/ngram_results.json.  Usage: ngram_baseline.py [tasks.jsonl]
"""
import json, os, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
TASKS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'bench', 'tasks', 'line-completion.jsonl')
STREAM = os.path.join(HERE, 'work', 'train_tokens.npy')
MAX_NEW = 48

tok = bpe.Tokenizer(os.path.join(MODEL, 'tokenizer.json'))


def train_stream():
    if os.path.exists(STREAM):
        return np.load(STREAM)
    t0 = time.time()
    out = []
    for l in open(os.path.join(HERE, 'work', 'corpus', 'train.jsonl')):
        d = json.loads(l)
        out.extend(tok.encode_ordinary(d['text']))
        out.append(tok.eos_id)
    a = np.array(out, dtype=np.int64)
    np.save(STREAM, a)
    print(f'tokenized training split: {len(a)} tokens in {time.time() - t0:.0f}s')
    return a


class NGram:
    def __init__(self, s, n=4):
        self.n = n
        self.tables = {}
        for order in range(2, n + 1):
            k = order - 1
            ctx = np.zeros(len(s) - k, dtype=np.int64)
            for j in range(k):
                ctx = (ctx << 12) | s[j:len(s) - k + j]
            nxt = s[k:]
            uniq, counts = np.unique((ctx << 12) | nxt, return_counts=True)
            c, x = uniq >> 12, uniq & 4095
            order_idx = np.lexsort((-counts, c))
            c, x = c[order_idx], x[order_idx]
            keys, first = np.unique(c, return_index=True)
            self.tables[order] = (keys, x[first])
        self.unigram = int(np.bincount(s).argmax())

    def predict(self, ids):
        for order in range(self.n, 1, -1):
            k = order - 1
            if len(ids) < k:
                continue
            key = 0
            for t in ids[-k:]:
                key = (key << 12) | t
            keys, best = self.tables[order]
            i = np.searchsorted(keys, key)
            if i < len(keys) and keys[i] == key:
                return int(best[i])
        return self.unigram


def is_word_chunk(text):
    """One pre-tokenizer chunk that is a word (Specter's server/context/heal.ts): a letter run, at
    most one other character before it that is not a digit or a line break."""
    if text and not text[0].isalpha():
        if text[0].isnumeric() or text[0] in '\r\n':
            return False
        text = text[1:]
    return text.isalpha()


def complete_line(model, prefix, heal=None):
    """Greedy rest of the line.  heal: token healing as far as a table of best next tokens allows.
    'token': back up over the prefix's last token and take the prediction there when it re-spells
    that token (and more); otherwise complete from the whole prefix. 'word' (Specter's default
    span): back up over the tokens of the word the prefix ends in; at each of the prompt's token
    ends, from the first, take the prediction there when it re-spells the rest of the word (and
    more), go on to the next one when it is the prompt's own next token, and otherwise complete
    from the whole prefix."""
    ids = tok.encode_ordinary(prefix)
    new = []
    cut = ''
    k = 1 if heal is not None and ids else 0
    if heal == 'word' and ids and is_word_chunk(tok.decode(ids[-1:])):
        while k < len(ids) - 1 and is_word_chunk(tok.decode(ids[-k - 1:])):
            k += 1
    if k > 0:
        n = len(ids) - k
        word = tok.decode(ids[n:])
        for j in range(k):
            t = model.predict(ids[:n + j])
            if t == tok.eos_id:
                break
            if tok.decode([t]).startswith(tok.decode(ids[n + j:])):
                ids, new, cut = ids[:n], ids[n:n + j] + [t], word
                break
            if t != ids[n + j]:
                break
    for _ in range(MAX_NEW):
        t = model.predict(ids + new)
        if t == tok.eos_id:
            break
        new.append(t)
        if '\n' in tok.decode(new)[len(cut):]:
            break
    return tok.decode(new)[len(cut):].split('\n')[0]


def main():
    s = train_stream()
    t0 = time.time()
    model = NGram(s)
    print(f'built 4-gram tables from {len(s)} tokens in {time.time() - t0:.0f}s')
    tasks = [json.loads(l) for l in open(TASKS)]
    exact = exact_ws = healed = healed_word = 0
    by_lang = {}
    rows = []
    for t in tasks:
        pred_h = complete_line(model, t['prefix'], heal='token')
        healed += pred_h == t['target']
        pred_w = complete_line(model, t['prefix'], heal='word')
        healed_word += pred_w == t['target']
        pred = complete_line(model, t['prefix'])
        ok = pred == t['target']
        ok_ws = pred.strip() == t['target'].strip()
        exact += ok
        exact_ws += ok_ws
        b = by_lang.setdefault(t['language'], [0, 0])
        b[0] += ok; b[1] += 1
        rows.append({'id': t['id'], 'pred': pred, 'target': t['target'], 'exact': ok,
                     'pred_healed': pred_h, 'exact_healed': pred_h == t['target'],
                     'pred_healed_word': pred_w, 'exact_healed_word': pred_w == t['target']})
    res = {'tasks': len(tasks), 'exact_match': exact / len(tasks), 'exact_match_healed': healed / len(tasks), 'exact_match_healed_word': healed_word / len(tasks), 'exact_match_strip_ws': exact_ws / len(tasks),
           'by_language': {k: v[0] / v[1] for k, v in by_lang.items()}, 'train_tokens': int(len(s)), 'rows': rows}
    json.dump(res, open(os.path.join(HERE, 'work', 'ngram_results.json'), 'w'), indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != 'rows'}, indent=1))


if __name__ == '__main__':
    main()
