#!/usr/bin/python3
"""Build held-out completion tasks (never trained on: sha1(path) % 20 == 0 documents).

bench/tasks/line-completion.jsonl  (~200) cursor mid-line after >= 3 characters of the line's
    content; target = rest of the line (no newline); prefix = up to 2000 chars before the cursor;
    suffix = up to 1000 chars starting at the line's '\n'.
bench/tasks/block-completion.jsonl (~100) cursor at column 0 of an indented line inside a
    function/method body; target = the next 1-4 lines (joined with '\n', no trailing newline);
    prefix = up to 2000 chars ending with '\n'; suffix = up to 1000 chars starting with '\n'.
Each line: {"id","language","path","prefix","suffix","target","suffix_cut"}.  Seeded, deterministic.
suffix_cut: the file goes on after the suffix (the 1000-character cut), so the suffix's end is not
the document's end (`npm run eval` passes it on: the syntax constraint must not treat it as one).
"""
import json, os, random, re

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'bench', 'tasks')
SEED = 20261122
N_LINE, N_BLOCK = 200, 100
MAX_PER_DOC_LINE, MAX_PER_DOC_BLOCK = 8, 4
PREFIX, SUFFIX = 2000, 1000

docs = [json.loads(l) for l in open(os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl'))]
rng = random.Random(SEED)


def lines_with_offsets(text):
    out, pos = [], 0
    for line in text.split('\n'):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def line_candidates(d):
    text = d['text']
    res = []
    for start, line in lines_with_offsets(text):
        end = start + len(line)
        if end >= len(text):          # need a following '\n'
            continue
        content = line.strip()
        if len(content) < 6 or len(line) > 160:
            continue
        indent = len(line) - len(line.lstrip())
        res.append((start, end, indent))
    return res


FUNC_PY = re.compile(r'^\s*(async\s+)?def\s')
FUNC_JS = re.compile(r'(\bfunction\b|=>|^\s*(public|private|protected|static|async|get|set)?\s*[A-Za-z_$][\w$]*\s*\([^;]*\)\s*(:\s*[^={;]+)?\{\s*$)')


def block_candidates(d):
    text = d['text']
    ls = lines_with_offsets(text)
    res = []
    py = d['lang'] == 'python'
    for i, (start, line) in enumerate(ls):
        if not line.strip() or not line[:1].isspace():
            continue
        st = line.strip()
        if st.startswith(('}', ')', ']', '#', '//', '*', '/*', '"""', "'''")):
            continue
        indent = len(line) - len(line.lstrip())
        inside = False
        for j in range(i - 1, max(-1, i - 40), -1):
            prev = ls[j][1]
            if not prev.strip():
                continue
            pind = len(prev) - len(prev.lstrip())
            if pind < indent and (FUNC_PY.match(prev) if py else FUNC_JS.search(prev)):
                inside = True
                break
            if py and pind < indent and prev.strip().startswith('class '):
                break
        if not inside:
            continue
        k = rng.randint(1, 4)
        if i + k >= len(ls):
            continue
        block = ls[i:i + k]
        if not block[-1][1].strip() or any(len(l) > 160 for _, l in block):
            continue
        end = block[-1][0] + len(block[-1][1])
        if end >= len(text):
            continue
        res.append((start, end))
    return res


def pick(cands_by_doc, n, per_doc):
    """Round-robin over languages, then documents, so tasks are spread out."""
    by_lang = {}
    for di, cands in cands_by_doc.items():
        if cands:
            by_lang.setdefault(docs[di]['lang'], []).append(di)
    chosen, used = [], {}
    langs = sorted(by_lang)
    pools = {l: [] for l in langs}
    for l in langs:
        for di in by_lang[l]:
            cs = cands_by_doc[di][:]
            rng.shuffle(cs)
            pools[l].extend((di, c) for c in cs[:per_doc])
        rng.shuffle(pools[l])
    # target mix: python ~45%, typescript ~35%, javascript ~20% (bounded by availability)
    quota = {'python': 0.45, 'typescript': 0.35, 'javascript': 0.20}
    for l in langs:
        chosen.extend(pools[l][:int(round(n * quota.get(l, 0)))])
    rest = [x for l in langs for x in pools[l] if x not in chosen]
    rng.shuffle(rest)
    chosen.extend(rest[:n - len(chosen)])
    return chosen[:n]


def main():
    os.makedirs(OUT, exist_ok=True)
    line_c = {i: line_candidates(d) for i, d in enumerate(docs)}
    tasks = []
    for k, (di, (start, end, indent)) in enumerate(pick(line_c, N_LINE, MAX_PER_DOC_LINE)):
        d = docs[di]
        text = d['text']
        line = text[start:end]
        lo = indent + 3
        hi = len(line.rstrip()) - 1
        col = rng.randint(lo, max(lo, hi))
        cut = start + col
        target = text[cut:end]
        tasks.append({'id': f'line-{k:03d}', 'language': d['lang'], 'path': d['path'],
                      'prefix': text[max(0, cut - PREFIX):cut], 'suffix': text[end:end + SUFFIX], 'target': target,
                      'suffix_cut': end + SUFFIX < len(text)})
    with open(os.path.join(OUT, 'line-completion.jsonl'), 'w') as f:
        for t in tasks:
            f.write(json.dumps(t, ensure_ascii=False) + '\n')
    block_c = {i: block_candidates(d) for i, d in enumerate(docs)}
    btasks = []
    for k, (di, (start, end)) in enumerate(pick(block_c, N_BLOCK, MAX_PER_DOC_BLOCK)):
        d = docs[di]
        text = d['text']
        btasks.append({'id': f'block-{k:03d}', 'language': d['lang'], 'path': d['path'],
                       'prefix': text[max(0, start - PREFIX):start], 'suffix': text[end:end + SUFFIX],
                       'target': text[start:end], 'suffix_cut': end + SUFFIX < len(text)})
    with open(os.path.join(OUT, 'block-completion.jsonl'), 'w') as f:
        for t in btasks:
            f.write(json.dumps(t, ensure_ascii=False) + '\n')
    from collections import Counter
    print('line tasks', len(tasks), Counter(t['language'] for t in tasks))
    print('block tasks', len(btasks), Counter(t['language'] for t in btasks))


if __name__ == '__main__':
    main()
