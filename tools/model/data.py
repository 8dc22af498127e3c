"""Training-sequence sampler: packed rows of file windows, half of them FIM-transformed.

FIM middles are biased toward editor completion shapes (rest of the current line, a few lines,
whole next lines) and always end before a newline so the suffix starts with '\n', like a real
cursor-in-line completion.  PSM and SPM orderings (see fim.py) end the middle with <|endoftext|>.
"""
import bisect, json, random, re
import bpe

P_FIM = 0.7
P_SPM = 0.3   # first phase: fraction of FIM samples in SPM order (Qwen order, fim.SPM_QWEN_FORMAT)
P_SPM_FIM_PHASE = 0.8  # FIM-dense phase: fraction in SPM order (fim.FIM_CONFIG's spm_format)
PREFIX_CHARS = 3000
SUFFIX_CHARS = 1500
CTX_WEIGHT = 0.1  # FIM-dense phase: loss weight of a FIM sample's prefix/suffix tokens (middle: 1)


class Sampler:
    def __init__(self, tok, jsonl, seed):
        self.tok = tok
        self.docs = [json.loads(l) for l in open(jsonl)]
        self.cum = []
        s = 0
        for d in self.docs:
            s += len(d['text'])
            self.cum.append(s)
        self.total = s
        self.rng = random.Random(seed)
        t = tok.special
        self.EOT, self.PRE, self.MID, self.SUF, self.SEP = (t['<|endoftext|>'], t['<|fim_prefix|>'],
                                                            t['<|fim_middle|>'], t['<|fim_suffix|>'], t['<|file_sep|>'])

    def pick_doc(self):
        return self.docs[bisect.bisect_right(self.cum, self.rng.randrange(self.total))]

    def plain(self, d, budget):
        text = d['text']
        r = self.rng
        if r.random() < 0.3 or len(text) < budget * 3:
            ids = [self.SEP] + self.tok.encode_ordinary(d['path'] + '\n' + text[:budget * 6])
            if len(text) <= budget * 6:
                ids.append(self.EOT)
        else:
            start = text.find('\n', r.randrange(len(text))) + 1
            ids = self.tok.encode_ordinary(text[start:start + budget * 6])
        return ids[:budget]

    def line_spans(self, text):
        return text

    def choose_middle(self, text):
        r = self.rng
        mode = r.random()
        n = len(text)
        for _ in range(20):
            pos = r.randrange(n)
            ls = text.rfind('\n', 0, pos) + 1
            le = text.find('\n', pos)
            le = n if le < 0 else le
            line = text[ls:le]
            if mode < 0.55:   # cursor mid-line; middle = rest of the line (+0..3 more lines)
                stripped = len(line) - len(line.lstrip())
                if len(line.strip()) < 3:
                    continue
                a = ls + r.randint(stripped + 1, len(line) - 1)
                b = le
                if mode >= 0.38:
                    for _ in range(r.randint(1, 3)):
                        nb = text.find('\n', b + 1)
                        b = n if nb < 0 else nb
                return a, b
            if mode < 0.78:   # cursor at a line start; middle = next 1..4 lines
                if not line.strip():
                    continue
                a, b = ls, le
                for _ in range(r.randint(0, 3)):
                    nb = text.find('\n', b + 1)
                    b = n if nb < 0 else nb
                return a, b
            # random character span
            a = pos
            b = min(n, a + int(r.expovariate(1 / 60)) + 1)
            return a, b
        a = r.randrange(n)
        return a, min(n, a + 20)

    def fim(self, d, budget):
        r = self.rng
        text = d['text']
        a, b = self.choose_middle(text)
        plen = PREFIX_CHARS if r.random() > 0.15 else r.randint(0, PREFIX_CHARS)
        slen = SUFFIX_CHARS if r.random() > 0.15 else r.randint(0, SUFFIX_CHARS // 3)
        pre = self.tok.encode_ordinary(text[max(0, a - plen):a])
        mid = self.tok.encode_ordinary(text[a:b])
        suf = self.tok.encode_ordinary(text[b:b + slen])
        mid = mid[:max(1, budget // 3)]
        room = budget - len(mid) - 4
        if room < 16:
            return None
        ps = min(len(pre), max(room - len(suf), int(room * 0.65)))
        ss = min(len(suf), room - ps)
        pre = pre[len(pre) - ps:] if ps > 0 else []
        suf = suf[:ss]
        if r.random() < P_SPM:
            return [self.SUF] + suf + [self.PRE] + pre + [self.MID] + mid + [self.EOT]
        return [self.PRE] + pre + [self.SUF] + suf + [self.MID] + mid + [self.EOT]

    def fim_short(self, d, mid_max):
        """One FIM sample for the FIM-dense phase: a short prefix (16-640 tokens) and suffix
        (0-256 tokens) around an editor-shaped middle, so many more middles fit in a row.
        Returns (ids, weights): weight 1 on the middle and its <|endoftext|>, CTX_WEIGHT on the context."""
        r = self.rng
        text = d['text']
        a, b = self.choose_middle(text)
        pre = self.tok.encode_ordinary(text[max(0, a - PREFIX_CHARS):a])
        mid = self.tok.encode_ordinary(text[a:b])[:mid_max]
        suf = self.tok.encode_ordinary(text[b:b + SUFFIX_CHARS // 2])
        if not mid:
            return None
        pre = pre[len(pre) - min(len(pre), int(16 * (40 ** r.random()))):]
        suf = suf[:min(len(suf), r.choice([0, 16, 64, 256]) if r.random() < 0.5 else int(256 * r.random()))]
        if r.random() < P_SPM_FIM_PHASE:   # <|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}
            ctx = [self.PRE, self.SUF] + suf + [self.MID] + pre
        else:                              # <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}
            ctx = [self.PRE] + pre + [self.SUF] + suf + [self.MID]
        return ctx + mid + [self.EOT], [CTX_WEIGHT] * len(ctx) + [1.0] * (len(mid) + 1)

    def packed_row(self, length, sample):
        """Weighted samples packed back to back: sample() gives (ids, weights) or None, and None
        stands for a plain window (weight 1 on every token)."""
        ids, w = [], []
        while len(ids) < length:
            budget = length - len(ids)
            s = sample()
            if s is None:
                p = self.plain(self.pick_doc(), min(budget, 256))
                s = (p, [1.0] * len(p))
            ids.extend(s[0]); w.extend(s[1])
        return ids[:length], w[:length]

    def fim_row(self, length, p_plain=0.1, mid_max=96):
        """A row for the FIM-dense phase: short FIM samples packed back to back (and a few plain
        windows so next-token prediction is not forgotten, weight 1 on every token)."""
        return self.packed_row(length, lambda: self.fim_short(self.pick_doc(), mid_max) if self.rng.random() >= p_plain else None)

    def row(self, length):
        out = []
        while len(out) < length:
            budget = length - len(out)
            d = self.pick_doc()
            s = None
            if budget >= 256 and self.rng.random() < P_FIM:
                s = self.fim(d, budget)
            if s is None:
                s = self.plain(d, budget)
            out.extend(s)
        return out[:length]


# --- copy phase: near-copies in context (a renamed variant, a repeated block) -----------------------
IDENT = re.compile(r'\b[A-Za-z_][A-Za-z0-9_]*\b')
KEYWORDS = set('''False None True and as assert async await break class continue def del elif else except finally
for from global if import in is lambda nonlocal not or pass raise return try while with yield self cls
abstract any boolean case catch const constructor debugger declare default delete do enum export extends
function get implements instanceof interface let module namespace new null number object of private
protected public readonly require set static string super switch symbol this throw type typeof undefined
var void exports Object Array String Error Promise console'''.split())
# Renames are drawn from the corpus's own identifiers or built with these affixes; the editing
# benchmark's own rename scheme is deliberately not among them.
RENAME_SUFFIXES = ['2', '1', '_b', '_new', '_other', 'New', 'Other', 'Next', 'Copy', 'X', '_', 'Ex', 'Item', 's']
RENAME_PREFIXES = ['other', 'new', 'my', 'next', 'prev', 'first', 'last', 'the', 'old', '_']


class CopySampler(Sampler):
    """Rows for the copy phase: a block of real code, then a near-copy of it (0-3 identifiers renamed
    consistently, as when a function is duplicated and adapted, or the same block written again);
    the loss is on the copy. Mixed with the FIM-dense samples so fill-in-the-middle is kept."""

    def rename_map(self, block):
        r = self.rng
        counts = {}
        for m in IDENT.finditer(block):
            w = m.group(0)
            if w not in KEYWORDS and len(w) >= 2:
                counts[w] = counts.get(w, 0) + 1
        cands = [w for w, c in counts.items() if c >= 2] or list(counts)
        n = r.choice([0, 1, 1, 1, 2, 2, 3])
        mapping = {}
        for w in r.sample(cands, min(n, len(cands))):
            x = r.random()
            if x < 0.4:
                new = w + r.choice(RENAME_SUFFIXES)
            elif x < 0.6:
                p = r.choice(RENAME_PREFIXES)
                new = p + (w[:1].upper() + w[1:] if p[-1] != '_' else w)
            else:  # an identifier from elsewhere in the corpus
                other = self.pick_doc()['text']
                s = r.randrange(max(1, len(other) - 2000))
                pool = [m.group(0) for m in IDENT.finditer(other, s, s + 2000)]
                pool = [p for p in pool if p not in KEYWORDS and len(p) >= 2 and p not in counts]
                new = r.choice(pool) if pool else w + '2'
            mapping[w] = new
        return mapping

    def copy_short(self, d, mid_max):
        r = self.rng
        text = d['text']
        n = len(text)
        for _ in range(10):
            a = text.find('\n', r.randrange(n)) + 1
            if a <= 0:
                continue
            k = r.randint(2, 14)
            b = a
            for _ in range(k):
                nb = text.find('\n', b + 1)
                b = n if nb < 0 else nb
            block = text[a:b]
            if 60 <= len(block.strip()) <= 1500 and block.count('\n') >= 1:
                break
        else:
            return None
        mapping = self.rename_map(block)
        copy = IDENT.sub(lambda m: mapping.get(m.group(0), m.group(0)), block) if mapping else block
        between = r.choice(['\n', '\n\n', '\n\n\n']) if r.random() < 0.8 else '\n' + text[b + 1:text.find('\n', min(n, b + 1 + r.randint(0, 200)))] + '\n'
        # the cursor: after the copy's first line (a renamed header), or after a few of its lines
        lines = copy.split('\n')
        cut_line = 1 if r.random() < 0.6 else r.randint(1, max(1, len(lines) - 1))
        head = '\n'.join(lines[:cut_line]) + '\n'
        rest = '\n'.join(lines[cut_line:])
        if not rest.strip():
            return None
        before = text[max(0, a - r.randint(0, 1200)):a]
        pre = self.tok.encode_ordinary(before + block + between + head)
        mid = self.tok.encode_ordinary(rest)[:mid_max]
        pre = pre[len(pre) - min(len(pre), 640):]
        if r.random() < 0.5:  # SPM with what follows the original block as the suffix
            suf = self.tok.encode_ordinary(text[b:b + 600])[:r.choice([0, 16, 64, 128])]
            ctx = [self.PRE, self.SUF] + suf + [self.MID] + pre
            return ctx + mid + [self.EOT], [CTX_WEIGHT] * len(ctx) + [1.0] * (len(mid) + 1)
        return pre + mid, [CTX_WEIGHT] * len(pre) + [1.0] * len(mid)

    def repeat_short(self):
        """A span (random token ids, or real tokens) and, after some real text, the same span again:
        the plainest in-context copying signal (loss 1 on the repeat after its first token)."""
        r = self.rng
        n = r.randint(6, 48)
        if r.random() < 0.5:
            span = [r.randrange(256, self.EOT) for _ in range(n)]
        else:
            span = self.plain(self.pick_doc(), n)
        gap = self.plain(self.pick_doc(), r.randint(0, 160)) if r.random() < 0.7 else []
        ids = span + gap + span
        return ids, [CTX_WEIGHT] * (len(span) + len(gap) + 1) + [1.0] * (len(span) - 1)

    def copy_row(self, length, p_copy=0.5, p_plain=0.1, mid_max=160, p_repeat=0.0):
        """Repeated spans, near-copies, FIM-dense samples and plain windows, in these shares."""
        def sample():
            x = self.rng.random()
            if x < p_repeat:
                return self.repeat_short()
            if x < p_repeat + p_copy:
                return self.copy_short(self.pick_doc(), mid_max)
            if x < 1 - p_plain:
                return self.fim_short(self.pick_doc(), 96)
            return None
        return self.packed_row(length, sample)
