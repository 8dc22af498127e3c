#!/usr/bin/python3
"""How much of the held-out text the training text already has (MODEL_CARD, "Completion quality").

  /usr/bin/python3 tools/model/heldout_overlap.py [--results bench/results/eval-line.jsonl]
      [--dev bench/tasks/dev-line.jsonl]

Reads tools/model/work/corpus/{train,heldout}.jsonl (tools/model/corpus.py). Prints: held-out
documents byte-identical to a training document; the share of held-out non-blank lines (stripped)
found verbatim in training documents; line tasks whose whole line is; exact match of --results split
by that; and a retrieval probe: the last 24 characters of each task's prefix looked up in the
training text (up to 200 places), continued to the line end, majority continuation compared with the
target, for the held-out line tasks and for --dev tasks (code outside the training set).
"""
import argparse, collections, hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
KEY_CHARS, MAX_PLACES = 24, 200


def jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(l) for l in f if l.strip()]


def retrieval_hits(train_text, tasks):
    covered = hits = 0
    for t in tasks:
        key = t['prefix'][-KEY_CHARS:]
        conts = collections.Counter()
        i = train_text.find(key)
        while i >= 0 and sum(conts.values()) < MAX_PLACES:
            j = i + len(key)
            e = train_text.find('\n', j)
            conts[train_text[j:e if e >= 0 else len(train_text)]] += 1
            i = train_text.find(key, i + 1)
        if conts:
            covered += 1
            hits += conts.most_common(1)[0][0].rstrip() == t['target'].rstrip()
    return covered, hits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--results', default=os.path.join(ROOT, 'bench', 'results', 'eval-line.jsonl'))
    ap.add_argument('--dev', default=os.path.join(ROOT, 'bench', 'tasks', 'dev-line.jsonl'))
    a = ap.parse_args()
    corpus = os.path.join(HERE, 'work', 'corpus')
    train = jsonl(os.path.join(corpus, 'train.jsonl'))
    held = jsonl(os.path.join(corpus, 'heldout.jsonl'))
    tasks = jsonl(os.path.join(ROOT, 'bench', 'tasks', 'line-completion.jsonl'))

    digest = lambda s: hashlib.sha1(s.encode('utf-8')).hexdigest()
    by_hash = {digest(d['text']): d['path'] for d in train}
    dups = [(h['path'], by_hash[digest(h['text'])]) for h in held if digest(h['text']) in by_hash]
    dup_paths = {p for p, _ in dups}
    print(f'{len(held)} held-out documents, {len(dups)} byte-identical to a training document: {dups}')
    print(f'line tasks from those: {sum(t["path"] in dup_paths for t in tasks)}')

    train_lines = {l.strip() for d in train for l in d['text'].split('\n') if l.strip()}
    held_lines = [l.strip() for d in held for l in d['text'].split('\n') if l.strip()]
    n_in = sum(l in train_lines for l in held_lines)
    print(f'held-out non-blank lines found verbatim in training: {n_in} / {len(held_lines)} ({n_in / len(held_lines):.1%})')

    seen = {t['id']: (t['prefix'].split('\n')[-1] + t['target']).strip() in train_lines for t in tasks}
    print(f'line tasks whose whole line is in training: {sum(seen.values())} / {len(tasks)}')
    if os.path.exists(a.results):
        res = {r['id']: (r.get('completions') or [''])[0] for r in jsonl(a.results)}
        groups = [('line seen in training', [t for t in tasks if seen[t['id']]]),
                  ('line not in training', [t for t in tasks if not seen[t['id']]]),
                  ('without the tasks from byte-identical documents', [t for t in tasks if t['path'] not in dup_paths])]
        for name, ids in groups:
            em = sum(res.get(t['id'], '').split('\n')[0].rstrip() == t['target'].rstrip() for t in ids)
            print(f'exact match ({os.path.relpath(a.results, ROOT)}), {name}: {em} / {len(ids)} ({em / max(1, len(ids)):.1%})')

    train_text = '\x00'.join(d['text'] for d in train)
    c, h = retrieval_hits(train_text, tasks)
    print(f'retrieval probe, held-out line tasks: prefix end found {c} / {len(tasks)}, target {h} ({h / len(tasks):.1%})')
    if os.path.exists(a.dev):
        dev = jsonl(a.dev)
        c, h = retrieval_hits(train_text, dev)
        print(f'retrieval probe, development tasks: prefix end found {c} / {len(dev)}, target {h} ({h / len(dev):.1%})')


if __name__ == '__main__':
    main()
