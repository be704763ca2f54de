"""shared/norwegian.py: tokens, lemmas (bokmål and nynorsk), compounds, stopwords."""

from __future__ import annotations

import pytest

from shared import norwegian as nb


def test_tokens_normalise_and_keep_hyphenated_words() -> None:
    assert nb.tokens("«E-helse» og ROP-pasienter – i Bodø!") == [
        "e-helse",
        "og",
        "rop-pasienter",
        "i",
        "bodø",
    ]
    assert nb.normalise("Fast\u00adlege") == "fastlege"


@pytest.mark.parametrize(
    ("form", "lemma"),
    [
        ("sykehusene", "sykehus"),
        ("tjenestene", "tjeneste"),
        ("kommunene", "kommune"),
        ("utfordringer", "utfordring"),
        ("behandlingen", "behandling"),
        ("skriver", "skrive"),  # verb reading beats the rare noun «skriver» (printer)
        ("ansatte", "ansatt"),
    ],
)
def test_bokmal_lemmas(form: str, lemma: str) -> None:
    assert nb.lemma(form) == lemma


@pytest.mark.parametrize(
    ("form", "lemma"),
    [
        ("tenestene", "tjeneste"),
        ("kommunane", "kommune"),
        ("sjukehusa", "sykehus"),
        ("legane", "lege"),
        ("pasientane", "pasient"),
        ("tilsette", "ansatt"),
        ("vanskeleg", "vanskelig"),
        ("ikkje", "ikke"),
        ("heimetenesta", "hjemmetjeneste"),
    ],
)
def test_nynorsk_forms_meet_bokmal_lemmas(form: str, lemma: str) -> None:
    assert nb.lemma(form) == lemma


def test_compound_splitting() -> None:
    assert nb.split_compound("fastlegeordningen") == ["fastlege", "ordning"]
    assert nb.split_compound("pasientopplysninger") == ["pasient", "opplysning"]
    assert nb.split_compound("rekrutteringstiltak") == ["rekruttering", "tiltak"]  # linking -s-
    assert nb.split_compound("sykehus") == ["sykehus"]  # a common word stays whole
    assert nb.split_compound("spesialisering") == ["spesialisering"]  # no spesial+ise+ring
    assert nb.split_compound("ROP-pasientar") == ["rop", "pasient"]
    assert nb.lemma("fastlegeordningen") == "fastlegeordning"


def test_stopwords_and_content_terms() -> None:
    assert nb.is_stopword("og") and nb.is_stopword("ikkje") and not nb.is_stopword("fastlege")
    terms = nb.content_terms("Fastlegeordningen må styrkes, og kommunane treng fleire legar.")
    assert terms[:3] == ["fastlegeordning", "fastlege", "ordning"]
    assert "lege" in terms and "kommune" in terms
    assert "og" not in terms and "må" not in terms
    assert "fastlege" not in nb.content_terms("Fastlegeordningen", parts=False)
    assert nb.lemmas("Sjukehusa deler journalen") == ["sykehus", "dele", "journal"]


def test_stem_and_frequency() -> None:
    assert nb.stem("tjenestene").startswith("tjenest")
    assert nb.zipf("sykehus") > 4.0 > nb.zipf("fastlegeordning")


def test_word_table_loads_once_under_a_burst_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's first burst arrives on many threads at once; the table must load once, not per thread."""
    import threading
    import time

    calls: list[int] = []

    def slow_load() -> object:
        calls.append(1)
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(nb, "_loaded", [])
    monkeypatch.setattr(nb, "_load_lexicon", slow_load)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(nb._lexicon())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(got) == 16 and all(g is got[0] for g in got)


def test_packed_strings_find_every_word_and_nothing_else() -> None:
    words = ["ære", "øl", "å", "zebra", "a", "helse", "helsefellesskap", "Ås"]
    packed = nb._Packed(words)
    assert len(packed) == len(words)
    for w in words:
        i = packed.index(w)
        assert i is not None and packed.text(i) == w
    for absent in ["", "b", "helsefelles", "æ", "zz"]:
        assert packed.index(absent) is None


def test_a_lemma_is_its_own_lemma_without_being_listed_as_a_form() -> None:
    lex = nb._lexicon()
    assert lex.is_lemma("sykehus") and lex.lemma_of_form("sykehus") is None
    assert nb.lemma("sykehus") == "sykehus"
    assert lex.lemma_of_form("sykehusene") == "sykehus"
    assert nb.zipf("sykehus") > 3.0 and nb.zipf("qqqzzz") == 0.0
