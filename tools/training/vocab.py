"""A deterministic WordPiece vocabulary learner.

The ``tokenizers`` library's WordPiece trainer breaks ties between equally frequent merges by ids it
hands out in hash-map order, so two runs on the same text give different vocabularies (measured: 300 of
2,000 entries differed). This learner runs the same merge procedure (start from characters, with ``##``
marking a continuation, repeatedly merge the most frequent adjacent pair) with ties broken by the pair's
text. Normalisation, pre-tokenisation and the tokenizer itself still come from ``tokenizers``.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable

from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """Lower-cased words (æ, ø, å kept) split the way BERT's pre-tokenizer splits them."""
    norm = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True)
    pre = BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text)))
    return counts


def learn_vocab(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> list[str]:
    """The vocabulary, in id order: special tokens, the alphabet (sorted), then merges in the order learnt."""
    counts = word_counts(texts)
    ordered = sorted(counts)
    words = [[w[0], *("##" + c for c in w[1:])] for w in ordered]
    freqs = [counts[w] for w in ordered]
    vocab = SPECIAL_TOKENS + sorted({s for w in words for s in w})
    known = set(vocab)
    pairs: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i, w in enumerate(words):
        for p in itertools.pairwise(w):
            pairs[p] += freqs[i]
            where[p].add(i)
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        if pairs.get(pair, 0) != -neg:
            continue  # stale heap entry
        if -neg < min_frequency:
            break
        first, second = pair
        merged_symbol = first + second[2:]
        touched: set[tuple[str, str]] = set()
        for i in sorted(where.pop(pair, ())):
            w = words[i]
            for p in itertools.pairwise(w):
                pairs[p] -= freqs[i]
                where[p].discard(i)
                touched.add(p)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == first and w[j + 1] == second:
                    out.append(merged_symbol)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in itertools.pairwise(out):
                pairs[p] += freqs[i]
                where[p].add(i)
                touched.add(p)
        pairs.pop(pair, None)
        for p in sorted(touched):
            if pairs.get(p, 0) > 0:
                heapq.heappush(heap, (-pairs[p], p))
        if merged_symbol not in known:
            known.add(merged_symbol)
            vocab.append(merged_symbol)
    return vocab
