"""Spreadsheet safety of the store exports: formula neutralisation, BOM, control characters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from services.store.exports import COLUMNS, csv_chunks, neutralise, report_headers, xlsx_report
from services.store.models import Segment
from services.store.repository import SegmentHit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+47 22 00 00 00", "'+47 22 00 00 00"),
        ("-tiltak", "'-tiltak"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Helt vanlig tekst", "Helt vanlig tekst"),
        ("a=b", "a=b"),
        ("", ""),
        (0.5, 0.5),
        (-3, -3),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def _hit(text: str, heading: list[str], sender: str = "=kommune") -> SegmentHit:
    seg = Segment(
        segment_id="d-00000",
        document_id="d",
        seq=0,
        page=1,
        heading_path=heading,
        text=text,
        label="measure",
        scores={"challenge": 0.1, "measure": 0.7, "example": 0.1, "other": 0.1},
        model_version="m",
        classified_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return SegmentHit(seg, filename="@brev.pdf", sender=sender)


def test_csv_has_bom_and_neutralised_cells() -> None:
    hits = [_hit('=HYPERLINK("http://x")', ["-Tiltak", "Økonomi"]), _hit("Bærekraft og samhandling", [])]
    data = "".join(csv_chunks(hits, rows_per_chunk=1)).encode("utf-8")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert first["text"] == '\'=HYPERLINK("http://x")'
    assert first["heading_path"] == "'-Tiltak > Økonomi"
    assert first["sender"] == "'=kommune" and first["filename"] == "'@brev.pdf"
    assert first["score_measure"] == "0.7"
    assert dict(zip(COLUMNS, rows[2], strict=True))["text"] == "Bærekraft og samhandling"


def test_xlsx_cells_are_text_not_formulas() -> None:
    data = xlsx_report([_hit("=1+2", ["+A"]), _hit("kontroll\x07tegn og æøå", [])], lang="en")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    names = report_headers("en")
    assert list(rows[0]) == names
    first = dict(zip(names, rows[1], strict=True))
    assert first["text"] == "'=1+2" and first["heading_path"] == "'+A" and first["score_measure"] == 0.7
    assert first["sender"] == "'=kommune" and first["filename"] == "'@brev.pdf"
    assert dict(zip(names, rows[2], strict=True))["text"] == "kontrolltegn og æøå"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
