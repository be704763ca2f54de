"""TF-IDF without sklearn's per-call input checks, for the model's own fitted vectorizers.

``TfidfVectorizer.transform`` counts the terms, then hands the count matrix to ``TfidfTransformer``, which
validates it as if it came from outside (array-API and dataframe dispatch, dtype checks) and normalises it
through ``normalize``, which validates it again. At batch 32 these checks cost about an eighth of the
classifier's time (``python -m tools.bench.classify``) and can find nothing: the matrix is the
vectorizer's own output. ``speed_up`` swaps the class of every fitted ``TfidfVectorizer`` in a feature
pipeline for ``FastTfidfVectorizer``, whose ``transform`` does the same arithmetic in the same order with
sklearn's own in-place row normalisation, so the output is the same matrix to the bit.

Character n-grams within word bounds (``analyzer="char_wb"``) are the other large cost: sklearn cuts every
word of every segment into n-grams and looks each up in the vocabulary, in Python. The n-grams of a word
do not depend on the words around it, so ``FastTfidfVectorizer`` keeps each word's vocabulary ids and
counts a segment as the sum of its words' ids: the same counts.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l1, inplace_csr_row_normalize_l2

#: Words whose n-gram ids a vectorizer keeps (the cache starts again when full): ids are kept as packed
#: 64-bit arrays, about 250 bytes a word, so at most some 25 MB.
WORD_CACHE_SIZE = 100_000


def char_wb_grams(word: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams sklearn's ``char_wb`` analyzer takes from one word: the word padded with a space on
    each side, every n from ``min_n`` to ``max_n``, and a word no longer than n once, whole."""
    w = f" {word} "
    size = len(w)
    grams: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:
            grams.append(w)
            break
        grams.extend(w[i : i + n] for i in range(size - n + 1))
    return grams


class FastTfidfVectorizer(TfidfVectorizer):
    """A fitted ``TfidfVectorizer`` whose ``transform`` skips the input checks on its own counts."""

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        if (
            self.analyzer == "char_wb"
            and self.input == "content"
            and self.strip_accents is None
            and self.preprocessor is None
        ):
            x = self._char_wb_counts(raw_documents)
        else:
            x = sp.csr_matrix(CountVectorizer.transform(self, raw_documents), dtype=np.float64)
        if self.binary:
            x.data.fill(1.0)
        tfidf = self._tfidf
        if tfidf.sublinear_tf:
            np.log(x.data, x.data)
            x.data += 1.0
        if hasattr(tfidf, "idf_"):
            x.data *= tfidf.idf_[x.indices]
        if tfidf.norm == "l2":
            inplace_csr_row_normalize_l2(x)
        elif tfidf.norm == "l1":
            inplace_csr_row_normalize_l1(x)
        return x

    def _word_ids(self, word: str, cache: dict[str, array[int]]) -> array[int]:
        """The vocabulary ids of a word's n-grams, computed once and kept in ``cache``."""
        if len(cache) >= WORD_CACHE_SIZE:
            cache.clear()
        min_n, max_n = self.ngram_range
        found = [self.vocabulary_.get(g) for g in char_wb_grams(word, min_n, max_n)]
        ids = cache[word] = array("q", (i for i in found if i is not None))
        return ids

    def _char_wb_counts(self, raw_documents: Any) -> sp.csr_matrix:
        """Term counts of ``char_wb`` n-grams, summed from each word's cached vocabulary ids."""
        cache: dict[str, array[int]] = self.__dict__.setdefault("_word_ids_cache", {})
        lower = self.lowercase
        cols: array[int] = array("q")
        lengths: list[int] = []
        for doc in raw_documents:
            text = self.decode(doc)
            before = len(cols)
            for word in (text.lower() if lower else text).split():
                ids = cache.get(word)
                cols.extend(ids if ids is not None else self._word_ids(word, cache))
            lengths.append(len(cols) - before)
        col = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, dtype=np.int64)
        row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        x = sp.csr_matrix(
            (np.ones(len(col), dtype=np.float64), (row, col)), shape=(len(lengths), len(self.vocabulary_))
        )
        x.sum_duplicates()
        x.sort_indices()
        return x


def speed_up(model: Any) -> int:
    """Swap every fitted ``TfidfVectorizer`` inside ``model`` (a vectorizer, ``Pipeline`` or
    ``FeatureUnion``, nested) for ``FastTfidfVectorizer``; returns how many were swapped."""
    if model is None:
        return 0
    if type(model) is TfidfVectorizer and hasattr(model, "_tfidf"):
        model.__class__ = FastTfidfVectorizer
        return 1
    parts = [step for _name, step in getattr(model, "steps", None) or []]
    parts += [part for _name, part in getattr(model, "transformer_list", None) or []]
    return sum(speed_up(part) for part in parts)
