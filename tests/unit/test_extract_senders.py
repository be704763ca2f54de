"""Sender and sender kind: the organisation, not the person or their e-mail address, and its kind by
how Norwegian public bodies and organisations name themselves. The names here are made up."""

from __future__ import annotations

import pytest

from services.extract.senders import find_sender, kind_of, most_named_org
from shared.events import SENDER_KINDS


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Lillevik kommune", "kommune"),
        ("Fjordheim herad", "kommune"),
        ("Indredal regionråd", "kommune"),
        ("Regionrådet for Nordfjella", "kommune"),
        ("Vestkyst interkommunale politiske råd", "kommune"),
        ("Nordvest fylkeskommune", "fylkeskommune"),
        ("Helsefellesskapet Midtdalen", "helsefellesskap"),
        ("Helsefellesskapet i Indre Fjord-området", "helsefellesskap"),
        ("Sykehuset Vestdal HF", "helseforetak"),
        ("Helse Nord RHF", "helseforetak"),
        ("Statsforvalteren i Nordvest", "statlig"),
        ("Statsforvaltaren i Vestfjord", "statlig"),
        ("Helsedirektoratet", "statlig"),
        ("Statens strålevern", "statlig"),
        ("Universitetet i Nordby", "statlig"),
        ("Pasient- og brukerombudet i Vestdal", "statlig"),
        ("Fjellklinikken AS", "privat"),
        ("Apotek 1 Nordby", "privat"),
        ("Vitusapotek Lillevik", "privat"),
        ("Apotekforeningen", "organisasjon"),
        ("Norsk forening for lungemedisin", "organisasjon"),
        ("Sykepleiernes fagforbund Vest", "organisasjon"),
        ("Brukerforum for eldre i Nordby", "organisasjon"),
        ("Ola Nordmann", "person"),
        ("Privatperson", "person"),
        (None, "ukjent"),
    ],
)
def test_kind_by_name(name: str | None, kind: str) -> None:
    assert kind in SENDER_KINDS
    assert kind_of(name) == kind


def test_header_line_gives_the_organisation_not_the_address() -> None:
    top = ["Fra: Lillevik kommune, helse og omsorg <postmottak@lillevik.kommune.no>", "Sendt: 3. mai 2024"]
    assert find_sender(top, [], []) == "Lillevik kommune"


def test_personal_address_yields_to_the_organisation_in_the_signature() -> None:
    top = ["Fra: Berg, Ingrid <ingrid.berg@vestdal-sykehus.no>", "Til: postmottak@dep.no"]
    signature = ["Med vennlig hilsen", "Ingrid Berg seksjonsleder Sykehuset Vestdal HF"]
    assert find_sender(top, signature, []) == "Sykehuset Vestdal HF"


def test_a_private_person_is_the_sender() -> None:
    top = ["Frå: Ola Nordmann, Fjordheim", "Sendt: 2. mai 2024"]
    sender = find_sender(top, ["Ola Nordmann"], [])
    assert sender == "Ola Nordmann" and kind_of(sender) == "person"


def test_not_given_is_no_sender() -> None:
    assert find_sender(["Innsender: ikke oppgitt"], [], ["Lillevik kommune har for få plasser."]) is None


def test_letterhead_before_title_and_units_dropped() -> None:
    top = [
        "Helsefellesskapet Midtdalen – sekretariatet, Postboks 9, 1234 Nordby",
        "Innspill fra sekretariatet",
    ]
    assert find_sender(top, [], []) == "Helsefellesskapet Midtdalen"
    assert find_sender(["Høringsinnspill fra Norsk forening for lungemedisin"], [], []) == (
        "Norsk forening for lungemedisin"
    )


def test_sentences_and_phrases_are_not_names() -> None:
    top = ["Erfaringer fra Helsefellesskapet", "Lillevik kommune viser til brev av 3. mai 2024"]
    assert find_sender(top, [], []) is None
    assert find_sender(["Helsefellesskapets svar"], [], []) is None


def test_most_named_organisation_needs_two_mentions() -> None:
    texts = ["Sykehuset Vestdal har ansvar for dette.", "Sykehuset Vestdal og kommunene samarbeider."]
    assert most_named_org(texts) == "Sykehuset Vestdal"
    assert most_named_org(texts[:1]) is None


def test_nynorsk_header_and_saint_in_a_trust_name() -> None:
    assert (
        find_sender(["Innsendar: Eldrerådet i Lillevik kommune"], [], []) == "Eldrerådet i Lillevik kommune"
    )
    assert find_sender([], [], ["St. Vestdals hospital HF viser til brevet."]) == "St. Vestdals hospital HF"


def test_a_joint_letter_is_sent_by_the_first_municipality_named() -> None:
    top = ["Innspill til planen", "Fra kommunene Lillevik, Nordby, Fjordheim og Sørvik"]
    assert find_sender(top, [], []) == "Lillevik kommune"
    assert find_sender(["Innspel frå Nordby, Lillevik og Fjordheim kommunar"], [], []) == "Nordby kommune"
    # a sentence that mentions municipalities in passing names no sender
    body = ["Vi har i lang tid fått mange gode innspill fra kommunene Lillevik og Nordby om dette."]
    assert find_sender(["Innspill"], [], body) is None
