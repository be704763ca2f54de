"""The structured letter renderer: one short labelled letter through LibreOffice (skipped without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.extract.letter_render import (
    CHOICES,
    Variant,
    as_printed,
    letter_fodt,
    render_letters,
    running_header,
    variant_for,
)
from tools.extract.render import soffice

Q = "1. Hva er de største utfordringene?"


def _row(seq: int, kind: str, text: str, path: list[str] | None = None, **extra: int) -> dict:
    return {
        "doc": "test-01",
        "seq": seq,
        "kind": kind,
        "text": text,
        "heading_path": path or [],
        "lang": "nb",
        "sender": "Testvik kommune",
        **extra,
    }


def _letter() -> list[dict]:
    return [
        _row(0, "letterhead", "Testvik kommune, Helse og omsorg"),
        _row(1, "date", "Testvik, 3. mars 2025"),
        _row(2, "reference", "Til Helse- og omsorgsdepartementet"),
        _row(3, "title", "Innspill fra Testvik kommune til Nasjonal helse- og samhandlingsplan"),
        _row(
            4, "greeting", "Vi viser til brevet fra departementet og takker for muligheten til å gi innspill."
        ),
        _row(5, "question", Q),
        _row(
            6,
            "paragraph",
            "Kommunen mangler sykepleiere på kveld og natt, og prosjektet «Trygg hjemme»1 "
            "har vist at oppfølging i hjemmet gir færre innleggelser.",
            [Q],
        ),
        _row(7, "lead_in", "Vi ber om at planen:", [Q]),
        _row(8, "bullet", "gir varig finansiering av felles team", [Q]),
        _row(9, "bullet", "styrker legevakten i distriktene", [Q]),
        _row(10, "heading", "Tiltak", [Q]),
        _row(11, "table_header", "Utfordring", [Q, "Tiltak"], col=0, row=0),
        _row(12, "table_header", "Forslag", [Q, "Tiltak"], col=1, row=0),
        _row(13, "table_cell", "Lange reiser", [Q, "Tiltak", "Utfordring"], col=0, row=1),
        _row(14, "table_cell", "Videokonsultasjon fra sykehuset", [Q, "Tiltak", "Forslag"], col=1, row=1),
        _row(15, "closing", "Med vennlig hilsen"),
        _row(16, "signature", "Kari Nordmann, kommunalsjef"),
        _row(17, "footnote", "1 Prosjektet ble startet i 2023."),
    ]


def test_fodt_has_real_structure() -> None:
    fodt = letter_fodt(_letter())
    assert "<text:list " in fodt and "<table:table " in fodt and "<text:note " in fodt
    assert fodt.count("<table:table-row>") == 2  # the header row and one body row
    assert "Prosjektet ble startet i 2023." in fodt and "«Trygg hjemme»<text:note" in fodt
    assert running_header(_letter()) == "Høringsinnspill fra Testvik kommune"


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_renders_a_pdf_with_table_and_text(tmp_path: Path) -> None:
    pdfplumber = pytest.importorskip("pdfplumber")
    pdf = render_letters({"test-01": _letter()}, tmp_path)["test-01"]
    assert pdf.is_file() and pdf.stat().st_size > 0
    with pdfplumber.open(pdf) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
        tables = [t for page in doc.pages for t in page.extract_tables()]
    for expected in (
        "Testvik kommune, Helse og omsorg",
        Q,
        "gir varig finansiering av felles team",
        "Prosjektet ble startet i 2023.",
        "Kari Nordmann, kommunalsjef",
        "Side 1 av 1",
        "Høringsinnspill fra Testvik kommune",
    ):
        assert expected in text
    assert "•" in text or "–" in text  # a real list draws its bullet glyph
    assert [["Utfordring", "Forslag"], ["Lange reiser", "Videokonsultasjon fra sykehuset"]] in tables


def test_the_original_style_is_one_of_the_choices() -> None:
    assert all(getattr(Variant(), axis) == options[0] for axis, options in CHOICES.items())
    assert variant_for("kommune_a-03") == variant_for("kommune_a-03")  # deterministic
    assert letter_fodt(_letter()) == letter_fodt(_letter(), Variant())


WORDISH = Variant(
    spacing="blank",
    font="Liberation Serif",
    size=12.0,
    headings="numbered",
    header="logo",
    footer="slash",
    table="rules",
    signature="two",
)


def test_numbered_headings_are_printed_and_in_the_paths() -> None:
    printed = as_printed(_letter(), WORDISH)
    assert printed[10]["text"] == "1.1 Tiltak" and printed[5]["text"] == Q  # already numbered: kept
    assert printed[14]["heading_path"] == [Q, "1.1 Tiltak", "Forslag"]
    fodt = letter_fodt(_letter(), WORDISH)
    assert "1.1 Tiltak</text:p>" in fodt and "<style:header-first>" in fodt and "Side " not in fodt
    assert '<text:p text:style-name="Body"></text:p>' in fodt  # empty lines between paragraphs


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_renders_a_non_default_style(tmp_path: Path) -> None:
    pdfplumber = pytest.importorskip("pdfplumber")
    pdf = render_letters({"test-01": _letter()}, tmp_path, variants={"test-01": WORDISH})["test-01"]
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        lines = (page.extract_text() or "").splitlines()
        fonts = {c["fontname"].split("+")[-1] for c in page.chars}
        tables = page.extract_tables()
        upright = [e for e in page.edges if e["orientation"] == "v" and e["bottom"] - e["top"] > 3]
    assert lines[0] == "Testvik kommune" and "Høringsinnspill fra Testvik kommune" not in lines  # logo line
    assert lines[-1] == "1/1" and "1.1 Tiltak" in lines
    assert lines[lines.index("Kari Nordmann") + 1] == "kommunalsjef"
    assert any(f.startswith("LiberationSerif") for f in fonts)
    assert not tables and not upright  # horizontal rules only, so no ruled grid
