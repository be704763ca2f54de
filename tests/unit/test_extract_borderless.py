"""Two-column tables drawn without rules: found by their gutter and the wider gaps between rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.extract.borderless import borderless_tables
from services.extract.model import Line, Table

SIZE = (595.0, 842.0)
RIGHT_COLUMN = 301.0


def words(text: str, x0: float, top: float, width: float = 5.2) -> list[dict]:
    """Words of one printed line, left to right from x0 (a fixed width per letter is enough here)."""
    out = []
    x = x0
    for w in text.split():
        out.append({"text": w, "x0": x, "x1": x + width * len(w), "top": top, "bottom": top + 10.0})
        x += width * len(w) + 3.0
    return out


def two_columns(rows: list[tuple[list[str], list[str]]], top: float = 400.0) -> list[dict]:
    """A table printed without rules: each row's cells side by side, 11.6 pt between lines, 17 between rows."""
    out: list[dict] = []
    for left, right in rows:
        for k in range(max(len(left), len(right))):
            if k < len(left):
                out += words(left[k], 74.0, top)
            if k < len(right):
                out += words(right[k], RIGHT_COLUMN, top)
            top += 11.6
        top += 5.4
    return out


TABLE = [
    (["Utfordring"], ["Tiltak"]),
    (
        ["Pasienter skrives ut fredag ettermiddag", "uten at hjemmetjenesten har fått epikrise"],
        ["Felles sjekkliste for utskrivning før helg,", "utformet sammen med kommunene"],
    ),
    (
        ["Høy turnover blant nyutdannede", "sykepleiere på medisinsk sengepost"],
        ["Mentorordningen for nyutdannede har", "halvert andelen som slutter første år"],
    ),
]


def cell_text(cell: list[Line] | None) -> str:
    return " ".join(line.text for line in cell or [])


def test_a_table_without_rules_comes_back_cell_by_cell() -> None:
    tables = borderless_tables(two_columns(TABLE), 1, SIZE, [])
    assert len(tables) == 1
    t: Table = tables[0]
    texts = [[cell_text(c) for c in row] for row in t.cells]
    assert texts[0] == ["Utfordring", "Tiltak"]
    assert texts[2] == [
        "Høy turnover blant nyutdannede sykepleiere på medisinsk sengepost",
        "Mentorordningen for nyutdannede har halvert andelen som slutter første år",
    ]


def test_running_text_and_a_contact_block_in_two_columns_are_not_tables() -> None:
    prose = []
    for k, line in enumerate(
        [
            "Kommunen har i mange år hatt for få sykepleiere på kveld og natt, og vikarbruken",
            "har økt hvert år. Vi ber derfor om at planen gir kommunene et varig tilskudd til",
            "heltidsstillinger og til videreutdanning av helsefagarbeidere i egen regi.",
        ]
    ):
        prose += words(line, 74.0, 200.0 + 11.6 * k, width=5.6)
    contact = two_columns(
        [
            (["Postadresse:"], ["Telefon:"]),
            (["Postboks 12"], ["12 34 56 78"]),
            (["9990 Båtsfjord"], ["Org.nr 123"]),
        ],
        top=700.0,
    )
    assert borderless_tables(prose + contact, 1, SIZE, []) == []


def test_words_inside_a_table_already_found_are_left_alone() -> None:
    found = two_columns(TABLE)
    taken = [(70.0, 390.0, 560.0, 520.0)]
    assert borderless_tables(found, 1, SIZE, taken) == []


@pytest.mark.skipif(
    __import__("tools.extract.render", fromlist=["soffice"]).soffice() is None,
    reason="LibreOffice (soffice) is not installed",
)
def test_a_letter_printed_with_a_borderless_table_extracts_its_cells(tmp_path: Path) -> None:
    from services.extract.engine import extract_document
    from services.extract.model import Limits
    from tools.extract.letter_render import Variant, render_letters

    q = "Hva er de største utfordringene?"

    def row(seq: int, kind: str, text: str, path: list[str], **extra: int) -> dict:
        return {
            "doc": "t-01",
            "seq": seq,
            "kind": kind,
            "text": text,
            "heading_path": path,
            "lang": "nb",
            **extra,
        }

    cells = [
        (
            "Pasienter skrives ut fredag ettermiddag uten at hjemmetjenesten har fått epikrise eller legemiddelliste",
            "Innføre felles sjekkliste for utskrivning før helg, som kommunene har vært med på å utforme",
        ),
        (
            "Høy turnover blant nyutdannede sykepleiere på medisinsk sengepost og i hjemmetjenesten",
            "Mentorordningen for nyutdannede, etablert i 2021, har halvert andelen som slutter første år",
        ),
    ]
    letter = [
        row(0, "letterhead", "Testvik kommune", []),
        row(1, "title", "Innspill fra Testvik kommune", []),
        row(2, "question", q, []),
        row(3, "table_header", "Utfordring", [q], col=0, row=0),
        row(4, "table_header", "Tiltak", [q], col=1, row=0),
    ]
    for r, (left, right) in enumerate(cells, start=1):
        letter.append(row(len(letter), "table_cell", left, [q, "Utfordring"], col=0, row=r))
        letter.append(row(len(letter), "table_cell", right, [q, "Tiltak"], col=1, row=r))
    letter.append(row(len(letter), "closing", "Med vennlig hilsen", []))
    pdf = render_letters({"t-01": letter}, tmp_path, variants={"t-01": Variant(table="none")})["t-01"]
    segments = extract_document(pdf, Limits()).segments
    got = {s.text: s.kind for s in segments}
    for left, right in cells:
        assert got.get(left) == "table_cell" and got.get(right) == "table_cell"
