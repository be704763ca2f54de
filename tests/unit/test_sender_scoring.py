"""tools/extract/senders.py: when an extracted sender counts as the letter's sender."""

from __future__ import annotations

from tools.extract.senders import same_exact, same_org


def test_exact_ignores_case_spacing_and_punctuation() -> None:
    assert same_exact("Stange  kommune.", "stange kommune")
    assert not same_exact("Sykehuset Innlandet", "Sykehuset Innlandet HF")


def test_organisation_allows_a_sub_unit_and_a_legal_form() -> None:
    assert same_org("Vestland fylkeskommune, tannhelsetenesta", "Vestland fylkeskommune")
    assert same_org("Sykehuset Innlandet", "Sykehuset Innlandet HF")
    assert same_org("Helse Fonna HF", "Helse Fonna")
    assert not same_org("Helse Fonna", "Helse Førde HF")
    assert not same_org("Hafslund", "Hafslund kommune")  # a kind word is not a legal form
    assert not same_org(None, "Stange kommune")
