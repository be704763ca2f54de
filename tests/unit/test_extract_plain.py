"""Letters that arrive as plain text lines (e-mails, text exports printed to PDF): no typography, only
line breaks and blank lines tell where one segment ends and the next begins."""

from __future__ import annotations

import textwrap

import pytest

from services.extract.layout import Layout
from services.extract.model import Line, Vocabulary
from services.extract.pdf_pipeline import build_blocks

PITCH = 12.5
NARROW = set("iljtfr.,:;' ")


def _width(text: str) -> float:
    """A proportional font: narrow letters take half the room of the others."""
    return sum(3.0 if ch in NARROW else 6.0 for ch in text)


def plain_page(paragraphs: list[str], width: int = 60, blank: bool = False) -> list[Line]:
    """Each paragraph wrapped at ``width`` characters, as a text export does, one line under the other."""
    lines: list[Line] = []
    top = 80.0
    for para in paragraphs:
        for text in textwrap.wrap(para, width=width) or [""]:
            lines.append(
                Line(text=text, page=1, x0=57.0, x1=57.0 + _width(text), top=top, bottom=top + 11, size=11)
            )
            top += PITCH
        if blank:
            top += PITCH
    return lines


def blocks(lines: list[Line]) -> list[str]:
    layout = Layout.measure(lines)
    return [b.text for b in build_blocks([lines], {}, layout, Vocabulary(ln.text for ln in lines))]


BODY = [
    "Kommunen har for få sykepleiere, og mange vakter står ubesatt hver sommer. Det gir lange dager "
    "for de ansatte og mindre tid til hver pasient i hjemmetjenesten.",
    "Legevakten er felles for fire kommuner og holder til ved sykehuset, der legene kan bruke "
    "laboratoriet og røntgen om natten.",
    "Vi foreslår at staten gir egne midler til interkommunale team som kan rykke ut sammen med "
    "ambulansen i de minste kommunene.",
    "Bemanning og kompetanse",
    "Mange av de ansatte mangler videreutdanning, og de som tar den, får ofte ikke bruke den etterpå "
    "fordi stillingene ikke er endret.",
]


def lines_ending_at(texts: list[tuple[str, float]]) -> list[Line]:
    """One line per (text, right edge), a line pitch apart, from the left margin."""
    return [
        Line(text=t, page=1, x0=57.0, x1=x1, top=80.0 + i * PITCH, bottom=91.0 + i * PITCH, size=11)
        for i, (t, x1) in enumerate(texts)
    ]


def test_text_wrapped_by_character_count_is_recognised() -> None:
    lines = plain_page(BODY, width=60)
    assert Layout.measure(lines).wrap_chars == max(len(ln.text) for ln in lines)
    # Typeset text wraps at the margin whatever the letters, so the count of characters per line varies.
    typeset: list[Line] = []
    for para in BODY:
        words, cur = para.split(), ""
        for w in [*words, ""]:
            trial = f"{cur} {w}".strip()
            if w and _width(trial) <= 300.0:
                cur = trial
                continue
            top = 80.0 + len(typeset) * PITCH
            typeset.append(
                Line(text=cur, page=1, x0=57.0, x1=57.0 + _width(cur), top=top, bottom=top + 11, size=11)
            )
            cur = w
    assert Layout.measure(typeset).wrap_chars is None


def test_paragraphs_and_a_heading_without_blank_lines_or_typography() -> None:
    assert blocks(plain_page(BODY, width=60)) == BODY


def test_blank_line_ends_a_paragraph_after_a_full_line() -> None:
    paras = [
        "Dette avsnittet er langt nok til å gå over flere linjer, og det slutter uten punktum på en linje "
        "som fyller bredden helt ut til margen uten tegn",
        "Neste avsnitt begynner etter en tom linje og handler om noe helt annet enn det forrige, med nok "
        "tekst til at det også går over flere linjer.",
        "Et tredje avsnitt med nok tekst til at det går over to linjer i denne bredden her.",
    ]
    lines = plain_page(paras, width=50, blank=True)
    assert len(lines[2].text) + len(" Neste") > 50  # the first paragraph's last line had no room left
    assert blocks(lines) == paras


def test_list_items_without_bullets_under_a_lead_in() -> None:
    """Typeset lines: items that start in lower case, one per line, under a line ending in a colon."""
    texts = [
        ("Vi har i mange år arbeidet tett med sykehuset om pasienter som skrives ut til kommunen, og", 515.0),
        (
            "samarbeidet er godt forankret både i ledelsen og blant de ansatte i tjenestene som tar imot",
            515.0,
        ),
        ("pasientene, men det er fortsatt mye som kan bli bedre for dem det gjelder mest av alt her.", 515.0),
        ("Kommunen har gode erfaringer med disse tiltakene:", 320.0),
        ("felles nettside med alle samarbeidsavtaler", 300.0),
        ("et avviksforum som går gjennom alvorlige hendelser hvert kvartal i året", 450.0),
        ("et brukerpanel med tolv representanter", 280.0),
        ("Med vennlig hilsen", 160.0),
        ("Kari Nordmann", 140.0),
        ("kommunalsjef helse og omsorg", 250.0),
    ]
    lines = lines_ending_at(texts)
    for ln in lines[3:]:  # paragraph space after the opening paragraph
        ln.top, ln.bottom = ln.top + 6, ln.bottom + 6
    layout = Layout.measure(lines)
    out = build_blocks([lines], {}, layout, Vocabulary(ln.text for ln in lines))
    assert [b.text for b in out] == [
        " ".join(t for t, _ in texts[:3]),
        *(t for t, _ in texts[3:7]),
        "Med vennlig hilsen",
        "Kari Nordmann kommunalsjef helse og omsorg",  # a name over its title in lower case is one
    ]
    assert not any(b.bullet for b in out)


def test_signature_lines_of_a_text_export_are_segments_of_their_own() -> None:
    paras = [*BODY[:3], "Med vennlig hilsen", "Bjarte Nilsen", "kommunedirektør", "Fjordby kommune"]
    assert blocks(plain_page(paras, width=60))[-4:] == paras[-4:]


def test_a_place_and_date_line_under_a_reference_stands_alone() -> None:
    texts = [
        ("Deres ref.: 23/1874 Vår ref.: 2023/4412-2 Saksbehandler: Trine Hansen", 515.0),
        ("Moelv, 14.11.2023", 140.0),
        ("Innspill til Nasjonal helse- og samhandlingsplan", 330.0),
    ]
    lines = lines_ending_at(texts)
    assert blocks(lines) == [t for t, _ in texts]


def double_spaced_passage(single: list[str], double: list[str], width: int = 60) -> list[Line]:
    """Single-spaced paragraphs with blank lines between them, then a passage where a blank line
    follows every line, even inside sentences (a text export does this to some passages)."""
    lines = plain_page(single, width=width, blank=True)
    top = lines[-1].top + 2 * PITCH
    for para in double:
        for text in textwrap.wrap(para, width=width):
            lines.append(
                Line(text=text, page=1, x0=57.0, x1=57.0 + _width(text), top=top, bottom=top + 11, size=11)
            )
            top += 2 * PITCH
    return lines


def test_a_double_spaced_passage_keeps_its_sentences_whole() -> None:
    double = [
        "Den interkommunale legevakten betjener fem kommuner med til sammen omtrent seksti tusen "
        "innbyggere, og den tar også imot hytteturister og andre tilreisende gjennom hele året.",
        "Erfaringene så langt viser at samarbeidet gir:",
        "Bedre vurderinger ute hos pasienten, fordi legen kan rykke ut sammen med sykepleier i egen "
        "bil når det trengs, både på dagtid og om natten.",
    ]
    lines = double_spaced_passage(BODY, double)
    layout = Layout.measure(lines)
    assert not layout.double_spaced  # the letter as a whole is single-spaced
    assert blocks(lines) == [*BODY, *double]


OPENING = [
    ("Vi har i mange år arbeidet tett med sykehuset om pasienter som skrives ut til kommunen, og", 515.0),
    ("samarbeidet er godt forankret både i ledelsen og blant de ansatte i tjenestene som tar imot", 515.0),
    ("pasientene, men det er fortsatt mye som kan bli bedre for dem det gjelder mest av alt her.", 515.0),
    ("Vi har i mange år arbeidet tett med sykehuset om pasienter som skrives ut til kommunen, og", 515.0),
    ("samarbeidet er godt forankret både i ledelsen og blant de ansatte i tjenestene som tar imot", 515.0),
    ("pasientene, men det er fortsatt mye som kan bli bedre.", 330.0),
]


def double_spaced_after_opening(texts: list[tuple[str, float]]) -> list[str]:
    """Blocks of a single-spaced opening paragraph and then ``texts`` a blank line apart each (a text
    export re-set in another font, so its lines end well short of the margin)."""
    lines = lines_ending_at([*OPENING, *texts])
    for k, ln in enumerate(lines[len(OPENING) :], start=1):
        ln.top, ln.bottom = ln.top + k * PITCH, ln.bottom + k * PITCH
    layout = Layout.measure(lines)
    return [b.text for b in build_blocks([lines], {}, layout, Vocabulary(ln.text for ln in lines))][1:]


RUN_ON_CASES = {
    # a bulleted item's next item has its own glyph: a lower-case line after a blank line continues it
    "bulleted item, lower case after a blank line": (
        [
            ("Tilbudet har gitt oss dette:", 200.0),
            ("o felles forståelse av oppgavene i kommunen, og i samarbeid med", 390.0),
            ("spesialisthelsetjenesten.", 180.0),
            ("o raskere hjelp ved akutt sykdom", 230.0),
        ],
        [
            "Tilbudet har gitt oss dette:",
            "felles forståelse av oppgavene i kommunen, og i samarbeid med spesialisthelsetjenesten.",
            "raskere hjelp ved akutt sykdom",
        ],
    ),
    # no sentence ends on a conjunction: the line runs on into a capitalised word
    "line ending on a conjunction": (
        [
            ("• Legevakten dekker innbyggerne i Ringvik, Solberg, Havnes og", 420.0),
            ("Nordvik. Den ligger ved sykehuset og har egen bil for utrykning.", 440.0),
            ("• Kommunene deler også en jordmor", 260.0),
        ],
        [
            "Legevakten dekker innbyggerne i Ringvik, Solberg, Havnes og Nordvik. Den ligger ved sykehuset og "
            "har egen bil for utrykning.",
            "Kommunene deler også en jordmor",
        ],
    ),
    # an abbreviation's full stop ends no sentence: the line runs on into the capitalised word
    "line ending on an abbreviation": (
        [
            ("Vi trenger ordninger som gjør det like attraktivt å jobbe i kommunene vs.", 468.0),
            ("Sykehusene, særlig for sykepleiere med videreutdanning.", 350.0),
            ("Kommunen planlegger å utvide det mobile teamet til natt fra neste år.", 470.0),
        ],
        [
            "Vi trenger ordninger som gjør det like attraktivt å jobbe i kommunene vs. Sykehusene, særlig for "
            "sykepleiere med videreutdanning.",
            "Kommunen planlegger å utvide det mobile teamet til natt fra neste år.",
        ],
    ),
    # Norwegian ends clauses on prepositions («som begge parter har tilgang til»): no run-on there
    "clause ending on a stranded preposition": (
        [
            ("Avtalen sikrer at:", 160.0),
            ("• tiltakene følges med tall som begge parter har tilgang til", 390.0),
            ("Kommunen planlegger å utvide det mobile teamet til natt fra neste år.", 470.0),
        ],
        [
            "Avtalen sikrer at:",
            "tiltakene følges med tall som begge parter har tilgang til",
            "Kommunen planlegger å utvide det mobile teamet til natt fra neste år.",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(RUN_ON_CASES))
def test_where_a_line_runs_on_in_a_double_spaced_passage(case: str) -> None:
    lines, expected = RUN_ON_CASES[case]
    assert double_spaced_after_opening(lines) == expected
