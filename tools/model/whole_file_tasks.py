#!/usr/bin/python3
"""The editor's view of the held-out completion tasks: each task of bench/tasks/<name>.jsonl with
the whole held-out document before and after the cursor, as an editor sends it, instead of the
2,000 characters before and the 1,000 after that make_tasks.py keeps. The cut prefix can start
inside a docstring or a block, where the syntax lexer and the parse check read the rest inside out
(MODEL_CARD.md, "Completion quality"); the whole document cannot.

Needs the corpus (tools/model/setup.sh corpus: work/corpus/heldout.jsonl). A task's document is
the held-out document (or 200 KB chunk, as in training) with the task's path that contains its
prefix + target + the start of its suffix exactly once (a prefix shorter than 2,000 characters is
the document's start). Writes bench/tasks/<name>-whole.jsonl with `suffix_cut` false.
Usage: whole_file_tasks.py [name ...]   (default: line-completion)
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
CUT = 2000  # make_tasks.py's prefix window


def main():
    names = sys.argv[1:] or ['line-completion']
    docs = [json.loads(l) for l in open(os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl'))]
    for name in names:
        tasks = [json.loads(l) for l in open(os.path.join(ROOT, 'bench', 'tasks', f'{name}.jsonl'))]
        out = []
        for t in tasks:
            key = t['prefix'] + t['target']
            found = []
            for d in docs:
                if t['path'] not in (d['path'], d['doc']):
                    continue
                text = d['text']
                if len(t['prefix']) < CUT:
                    if text.startswith(key):
                        found.append((text, len(t['prefix'])))
                elif text.count(key) == 1:
                    found.append((text, text.index(key) + len(t['prefix'])))
            if len(found) != 1:
                sys.exit(f"{name} {t['id']}: {len(found)} held-out documents match (the corpus differs from the one the tasks were cut from?)")
            text, pos = found[0]
            rest = text[pos + len(t['target']):]
            if not rest.startswith(t['suffix'][:200]):
                sys.exit(f"{name} {t['id']}: the document's text after the target is not the task's suffix")
            out.append({**t, 'prefix': text[:pos], 'suffix': rest, 'suffix_cut': False})
        path = os.path.join(ROOT, 'bench', 'tasks', f'{name}-whole.jsonl')
        with open(path, 'w') as f:
            for o in out:
                f.write(json.dumps(o) + '\n')
        n_longer = sum(len(o['prefix']) > len(t['prefix']) for o, t in zip(out, tasks))
        print(f'{name}: {len(out)} tasks -> {os.path.relpath(path, ROOT)} ({n_longer} with a longer prefix than the cut tasks)')


if __name__ == '__main__':
    main()
