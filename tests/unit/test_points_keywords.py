"""Keywords of a point: nouns its senders share, most shared first."""

from __future__ import annotations

import pytest

from services.store.points.keywords import MIN_KEYWORDS, concept_name, is_keyword_noun, point_keywords
from shared import norwegian as nb


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("sykepleier", True),
        ("ambulanse", True),
        ("sende", False),  # a verb
        ("øke", False),  # a verb
        ("fjerde", False),  # not a noun
        ("2040", False),
        ("ikke", False),
        ("tur", False),  # too short to name a topic
        ("følgetjeneste", True),  # not listed, but its head «tjeneste» is a noun
        ("turnov", False),  # a guessed lemma of «turnover», not «tur» + «nov»
    ],
)
def test_keyword_nouns(word: str, expected: bool) -> None:
    assert is_keyword_noun(word) is expected


def test_parts_of_speech_come_from_the_word_table() -> None:
    assert "noun" in nb.parts_of_speech("sykepleier")
    assert "verb" in nb.parts_of_speech("sende")
    assert nb.parts_of_speech("xqzv") == frozenset()


MEMBERS = [
    (
        "a",
        "Jordmor bør følge kvinner med lang reisevei til fødeavdelingen, og følgetjenesten må finansieres.",
    ),
    ("b", "Følgetjenesten for fødende er underfinansiert; jordmor kan ikke følge alle som bor langt unna."),
    ("c", "Vi ber om at staten betaler for at jordmor følger kvinner i fødsel i sommerukene."),
]


def test_words_most_senders_share_come_first() -> None:
    keywords = point_keywords(MEMBERS)
    assert keywords[0] == "jordmor"  # all three senders
    assert "følgetjeneste" in keywords[:3]  # two senders
    assert "sommeruke" not in keywords  # one sender, and the senders share enough
    assert not any(w in keywords for w in ("følge", "betale", "sende"))  # verbs never


def test_concepts_lead_and_contained_words_are_not_repeated() -> None:
    keywords = point_keywords(MEMBERS, concepts=["jordmor i følgetjenesten"])
    assert keywords[0] == "jordmor i følgetjenesten"
    assert "jordmor" not in keywords and "følgetjeneste" not in keywords


def test_one_senders_words_fill_in_when_few_are_shared() -> None:
    members = [
        ("a", "Ambulansen står ofte på verkstedet."),
        ("b", "Ambulansen kommer sent fram i vinterstormer."),
    ]
    keywords = point_keywords(members)
    assert keywords[0] == "ambulanse"
    assert len(keywords) == MIN_KEYWORDS


def test_a_concept_is_shown_by_its_first_term_unless_that_is_a_verb() -> None:
    assert concept_name(["rekruttere", "rekruttering", "turnover"]) == "rekruttering"
    assert concept_name(["felles journal", "journal"]) == "felles journal"
    assert concept_name(["dps", "distriktspsykiatrisk senter"]) == "dps"  # not a verb: kept
    assert concept_name(["sende", "varsle"]) == "sende"  # no noun: the first term


def test_a_noun_that_is_also_a_verb_counts_where_the_text_writes_it_as_a_noun() -> None:
    as_noun = [
        ("a", "Legene på legevakten har for mange vakter."),
        ("b", "Legen er alene på vakt hver helg."),
    ]
    as_verb = [("a", "Tiden vil lege sårene etter nedleggingen."), ("b", "Ingen ordning kan lege alt.")]
    assert "lege" in point_keywords(as_noun)
    assert "lege" not in point_keywords(as_verb)


def test_a_word_the_table_lacks_counts_in_its_base_form() -> None:
    members = [
        ("a", "Hver fastlege har for mange pasienter."),
        ("b", "En fastlege i distriktet får ikke vikar."),
    ]
    assert point_keywords(members)[0] == "fastlege"
