#!/usr/bin/python3
"""Byte-level BPE tokenizer for specter-tiny: training, encoding and Hugging Face export.

Pre-tokenization matches the Qwen2 Split regex (Isolated) followed by ByteLevel (no prefix space,
no regex); the model is plain BPE over the GPT-2 byte->unicode alphabet.  Encoding here is
bit-identical to @huggingface/tokenizers (checked by check_tokenizer.js).
"""
import collections, json, os, random, sys, time
import regex

PRETOKENIZE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
PRE_RE = regex.compile(PRETOKENIZE)
SPECIAL_TOKENS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>',
                  '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>']
VOCAB_SIZE = 4096  # including the special tokens, which take the last ids


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return PRE_RE.findall(text)


def to_unicode(piece):
    return ''.join(B2U[b] for b in piece.encode('utf-8'))


def train(texts, vocab_size=VOCAB_SIZE, log=print):
    n_merges = vocab_size - 256 - len(SPECIAL_TOKENS)
    t0 = time.time()
    counts = collections.Counter()
    for t in texts:
        counts.update(pretokenize(t))
    words = [list(to_unicode(w)) for w in counts]
    freqs = list(counts.values())
    log(f'pretokenized: {len(words)} unique words in {time.time() - t0:.1f}s')
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(i)
    merges = []
    # lazy max-heap over pair counts
    import heapq
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    produced = set()
    while len(produced) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        c = pair_counts.get(pair, 0)
        if c <= 0:
            continue
        if -negc != c:
            heapq.heappush(heap, (-c, pair))
            continue
        a, b = pair
        new = a + b
        merges.append(pair)
        produced.add(new)
        changed = set()
        for i in list(where[pair]):
            w = words[i]
            f = freqs[i]
            j = 0
            out = []
            # remove old pairs of this word
            for x, y in zip(w, w[1:]):
                pair_counts[(x, y)] -= f
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pair_counts[(x, y)] += f
                where[(x, y)].add(i)
                changed.add((x, y))
        del pair_counts[pair]
        where.pop(pair, None)
        for p in changed:
            c2 = pair_counts.get(p, 0)
            if c2 > 0:
                heapq.heappush(heap, (-c2, p))
        if len(merges) % 500 == 0:
            log(f'{len(merges)} merges, {time.time() - t0:.1f}s')
    log(f'trained {len(merges)} merges in {time.time() - t0:.1f}s')
    return merges


class Tokenizer:
    def __init__(self, path):
        tj = json.load(open(path))
        self.vocab = tj['model']['vocab']
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {}
        for r, m in enumerate(tj['model']['merges']):
            a, b = m.split(' ') if isinstance(m, str) else m
            self.ranks[(a, b)] = r
        self.special = {t['content']: t['id'] for t in tj['added_tokens']}
        for t, i in self.special.items():
            self.id_to_token[i] = t
        self.special_re = regex.compile('|'.join(regex.escape(t) for t in self.special))
        self.cache = {}
        self.eos_id = self.special['<|endoftext|>']

    def bpe(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        parts = list(to_unicode(word))
        while len(parts) > 1:
            best, bi = None, -1
            for k in range(len(parts) - 1):
                r = self.ranks.get((parts[k], parts[k + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, k
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            out, k = [], 0
            while k < len(parts):
                if k < len(parts) - 1 and parts[k] == a and parts[k + 1] == b:
                    out.append(a + b)
                    k += 2
                else:
                    out.append(parts[k])
                    k += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 2_000_000:
            self.cache[word] = ids
        return ids

    def encode_ordinary(self, text):
        out = []
        for w in PRE_RE.findall(text):
            out.extend(self.bpe(w))
        return out

    def encode(self, text):
        """Encode, recognizing special tokens in the text (like the HF tokenizer does)."""
        out, pos = [], 0
        for m in self.special_re.finditer(text):
            out.extend(self.encode_ordinary(text[pos:m.start()]))
            out.append(self.special[m.group()])
            pos = m.end()
        out.extend(self.encode_ordinary(text[pos:]))
        return out

    def decode(self, ids, skip_special=False):
        bs = bytearray()
        out = []
        for i in ids:
            t = self.id_to_token[int(i)]
            if t in self.special:
                if not skip_special:
                    out.append(bs.decode('utf-8', errors='replace')); bs = bytearray(); out.append(t)
            else:
                bs.extend(U2B[c] for c in t)
        out.append(bs.decode('utf-8', errors='replace'))
        return ''.join(out)


def write_hf(merges, outdir, model_max_length=1024, extra_config=None):
    vocab = {}
    for b in range(256):
        vocab[B2U[b]] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:  # two different merges may produce the same string
            vocab[a + b] = len(vocab)
    first_special = len(vocab)
    added = [{'id': first_special + k, 'content': t, 'single_word': False, 'lstrip': False,
              'rstrip': False, 'normalized': False, 'special': True} for k, t in enumerate(SPECIAL_TOKENS)]
    tj = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': PRETOKENIZE}, 'behavior': 'Isolated', 'invert': False},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False}]},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False,
                  'ignore_merges': False, 'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tj, f, ensure_ascii=False, indent=None)
    cfg = {
        'tokenizer_class': 'PreTrainedTokenizerFast',
        'model_max_length': model_max_length,
        'bos_token': None,
        'eos_token': '<|endoftext|>',
        'pad_token': '<|endoftext|>',
        'unk_token': None,
        'add_bos_token': False,
        'add_eos_token': False,
        'add_prefix_space': False,
        'clean_up_tokenization_spaces': False,
        'errors': 'replace',
        'split_special_tokens': False,
        'additional_special_tokens': SPECIAL_TOKENS[1:],
        'added_tokens_decoder': {str(a['id']): {k: v for k, v in a.items() if k != 'id'} for a in added},
    }
    if extra_config:
        cfg.update(extra_config)
    with open(os.path.join(outdir, 'tokenizer_config.json'), 'w') as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
    return {t: first_special + k for k, t in enumerate(SPECIAL_TOKENS)}
