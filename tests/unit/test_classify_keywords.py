"""The keyword rule baseline on clear cases of each label (bokmål and nynorsk)."""

from __future__ import annotations

import pytest

from services.classify.keywords import KeywordClassifier, cue_counts, looks_like_furniture
from services.classify.schema import Item


@pytest.mark.parametrize(
    ("text", "heading", "label"),
    [
        ("Med vennlig hilsen", [], "other"),
        ("Side 2 av 5", [], "other"),
        ("1. Hva er de viktigste utfordringene?", [], "other"),
        (
            "Det er krevende å rekruttere sykepleiere, og mangelen på fastleger er et økende problem.",
            [],
            "challenge",
        ),
        ("Det er vanskeleg å få tak i legar, og vikarane manglar.", [], "challenge"),
        ("Kommunen bør få øremerkede midler, og det er behov for en nasjonal veileder.", [], "measure"),
        ("Vi ønskjer at staten tilrår ei felles løysing.", [], "measure"),
        ("Vi har etablert et ambulant team, og erfaringene er svært positive.", [], "example"),
    ],
)
def test_rules_label_clear_cases(text: str, heading: list[str], label: str) -> None:
    assert KeywordClassifier().predict([Item.of(text, heading)])[0].label == label


def test_heading_breaks_a_tie() -> None:
    text = "Samarbeidet om utskrivning av eldre pasienter."
    clf = KeywordClassifier()
    under_tiltak, no_heading = clf.predict([Item.of(text, ["Tiltak"]), Item.of(text)])
    assert under_tiltak.scores["measure"] > no_heading.scores["measure"]


def test_cue_counts_and_furniture() -> None:
    assert cue_counts("Det er en utfordring og et problem.")["challenge"] == 2
    assert looks_like_furniture("Vennlig hilsen")
    assert not looks_like_furniture("Kommunen har etablert et nytt tilbud for eldre som bor hjemme.")
