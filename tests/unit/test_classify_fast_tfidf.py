"""The classifier's fast TF-IDF gives sklearn's matrices exactly (services/classify/fast_tfidf.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from services.classify.fast_tfidf import FastTfidfVectorizer, char_wb_grams, speed_up

TRAIN = [
    "Kommunene trenger flere fastleger i distriktene.",
    "Det er krevende å rekruttere sykepleiere til nattevakter.",
    "Helsefellesskapet har etablert felles rutiner for utskrivning av skrøpelige eldre.",
    "Vi foreslår at staten finansierer kombinerte stillinger mellom sykehus og kommune.",
    "Pasientens legemiddelliste må innføres i alle kommuner.",
    "Ambulansetjenesten i Salten melder om lengre responstid.",
]
ODD = [
    "",
    "   ",
    "Å",
    "Kommunene  trenger\tflere\nfastleger",
    "UTSKRIVNING av ELDRE – og\xa0sykehus",
    "ei bu i",
    "Helse- og omsorgstjenestene (HOT) bør 12 % mer.",
    "Rekrutteringsutfordringer i distriktskommuner med lange avstander og få fagfolk",
]


def _vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=False, binary=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False, norm="l1"),
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"),
        TfidfVectorizer(sublinear_tf=True, binary=True, use_idf=False),
    ]


@pytest.mark.parametrize("k", range(5))
def test_fast_transform_is_sklearns_matrix_to_the_bit(k: int) -> None:
    vec = _vectorizers()[k].fit(TRAIN)
    fast = copy.deepcopy(vec)
    assert speed_up(fast) == 1
    assert type(fast) is FastTfidfVectorizer
    docs = TRAIN + ODD
    want = vec.transform(docs)
    got = fast.transform(docs)
    assert got.shape == want.shape
    assert got.dtype == np.float64
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)  # exact, not approximately
    again = fast.transform(docs)  # from the word cache this time
    assert np.array_equal(again.data, want.data)


def test_char_wb_grams_are_sklearns_for_short_and_long_words() -> None:
    analyze = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for word in ("i", "bu", "ein", "sykehus", "helsefellesskapet"):
        assert sorted(char_wb_grams(word, 2, 5)) == sorted(analyze(word))


def test_speed_up_reaches_vectorizers_inside_pipelines_and_unions_only_once() -> None:
    union = FeatureUnion(
        [
            ("words", make_pipeline(FunctionTransformer(lambda xs: xs), TfidfVectorizer())),
            ("chars", make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)))),
        ]
    ).fit(TRAIN)
    want = union.transform(ODD).toarray()
    assert speed_up(union) == 2
    assert speed_up(union) == 0  # already swapped
    assert np.array_equal(union.transform(ODD).toarray(), want)
    assert speed_up(TfidfVectorizer()) == 0  # not fitted: left alone
