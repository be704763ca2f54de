"""A two-column table flattened into text lines: the row label shares a line with the first line of the
cell beside it, and extraction cuts it off again (``services.extract.row_labels``)."""

from __future__ import annotations

import textwrap

import pytest

from services.extract.layout import Layout
from services.extract.model import TABLE_CELL, TABLE_HEADER, Line, Vocabulary
from services.extract.pdf_pipeline import build_blocks
from services.extract.row_labels import mark_row_blocks, split_row_label, split_row_labels

PITCH = 12.5
CHAR = 5.0  # a fixed-width font keeps the arithmetic plain

INTRO = (
    "Helsefellesskapet har samlet svarene fra kommunene og sykehuset i tabellen nedenfor. Hver rad gjelder "
    "ett av spørsmålene departementet stilte, og svarene er drøftet i partnerskapsmøtet i september."
)
CELL = (
    "Tre kommuner deler nå én rådgiver, og sakene kommer bedre forberedt til møtene. Ordningen er "
    "evaluert og skal videreføres."
)


def _line(text: str, top: float, x0: float = 57.0) -> Line:
    return Line(text=text, page=1, x0=x0, x1=x0 + CHAR * len(text), top=top, bottom=top + 11, size=11)


def page(paragraphs: list[tuple[str, int]]) -> list[Line]:
    """Each (text, width in characters) wrapped, a blank line between paragraphs."""
    lines: list[Line] = []
    top = 80.0
    for text, width in paragraphs:
        for part in textwrap.wrap(text, width=width):
            lines.append(_line(part, top))
            top += PITCH
        top += PITCH
    return lines


def flattened_row(label: str, cell: str, top: float, column: int = 44) -> list[Line]:
    """A row label on the first line of its cell, the rest of the cell under it at the column's width."""
    parts = textwrap.wrap(cell, width=column)
    return [_line(f"{label} {parts[0]}", top)] + [
        _line(p, top + (i + 1) * PITCH) for i, p in enumerate(parts[1:])
    ]


def blocks_of(lines: list[Line]) -> list[tuple[str, str, list[str]]]:
    layout = Layout.measure(lines)
    pages = split_row_labels([lines], layout)
    blocks = build_blocks(pages, {}, layout, Vocabulary(ln.text for ln in lines))
    mark_row_blocks(blocks)
    return [(b.kind, b.text, b.extra_path) for b in blocks]


LOWER = frozenset({"kommunene", "tre", "mange", "her", "det", "planlegger", "har"})


@pytest.mark.parametrize(
    ("text", "cut_at"),
    [
        ("Felles prosjekter Tre kommuner deler én rådgiver", "Tre"),
        ("Mellom kommunene og sykehuset Etablert og fungerer godt.", "Etablert"),
        ("Skrøpelige eldre «Trygt hjem» er tatt i bruk i fire kommuner", "«Trygt"),
        ("Andre innspill Mange kommuner har problemer med rekruttering", "Mange"),
        # a challenge written out as a noun phrase in the «Krevende faktorer» column, up to ten words
        ("Få fagfolk i psykisk helsevern for barn og unge Felles rekrutteringskampanje og", "Felles"),
        ("Ulike journalsystemer i kommunene og på sykehuset Det arbeides med å få", "Det"),
        # a place inside the label, the cell a sentence after it
        ("Lange avstander i Setesdal og indre Vest-Agder Planlegger å prøve ut digital", "Planlegger"),
    ],
)
def test_a_row_label_is_cut_where_its_cell_begins(text: str, cut_at: str) -> None:
    offset = split_row_label(text, LOWER)
    assert offset is not None and text[offset:].startswith(cut_at)


@pytest.mark.parametrize(
    "text",
    [
        "Erfaringer fra Helsefellesskapet har vist at vi trenger flere møteplasser",  # ends on «fra»
        "Innspel frå Helse Fonna til Nasjonal helse- og samhandlingsplan",  # nynorsk «frå»
        "Legevakt Tre kommuner deler én lege om natten",  # a one-word label is too little to go on
        "Dette er viktig. Kommunene må få mer tid til arbeidet",  # a sentence end: no bare noun phrase
        "Helse Nord RHF har finansiert tre nye prosjekter",  # a name, not a noun phrase in lower case
        "Samarbeid mellom kommunene Tre",  # nothing left for a cell
        "Agder jordmornettverk v/ leder Hilde Nilsen, Kristiansand",  # an abbreviation: letterhead, not a label
        "Sykehuset Innlandet Divisjon Psykisk helsevern har ansvar for tilbudet",  # a name of several words
        "Samarbeid med Sykehuset Innlandet har gitt gode resultater",  # a place name, then the sentence goes on
        "Lange avstander i Setesdal Kommunale Tjenester deler lege",  # after a name, no sentence follows
    ],
)
def test_lines_that_are_not_row_labels_stay_whole(text: str) -> None:
    assert split_row_label(text, LOWER) is None


def test_a_flattened_row_becomes_a_row_header_over_its_cell() -> None:
    lines = page([(INTRO, 92)])
    lines += flattened_row("Felles prosjekter", CELL, top=lines[-1].top + 2 * PITCH)
    got = blocks_of(lines)
    assert got[1] == (TABLE_HEADER, "Felles prosjekter", [])
    kind, text, path = got[2]
    assert kind == TABLE_CELL and text == " ".join(CELL.split()) and path == ["Felles prosjekter"]


def test_a_paragraph_at_the_full_width_is_not_cut() -> None:
    # The same start, but the text runs on at the page's full width: one paragraph, not a table row.
    text = "Felles prosjekter Tre kommuner deler én rådgiver. " + INTRO
    lines = page([(INTRO, 92), (text, 92)])
    got = blocks_of(lines)
    assert [t for _, t, _ in got] == [" ".join(INTRO.split()), " ".join(text.split())]
    assert all(kind not in (TABLE_HEADER, TABLE_CELL) for kind, _, _ in got)
