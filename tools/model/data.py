"""Training-sequence sampler: packed rows of file windows, half of them FIM-transformed.

FIM middles are biased toward editor completion shapes (rest of the current line, a few lines,
whole next lines) and always end before a newline so the suffix starts with '\n', like a real
cursor-in-line completion.  PSM and SPM orderings (see fim.py) end the middle with <|endoftext|>.
"""
import bisect, json, random
import bpe

P_FIM = 0.7
P_SPM = 0.3   # fraction of FIM samples in SPM order
PREFIX_CHARS = 3000
SUFFIX_CHARS = 1500


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
