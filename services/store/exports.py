"""CSV and XLSX exports of segments, safe to open in a spreadsheet.

Spreadsheet programs run a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@``
(and some strip a leading tab or carriage return first). Letters are untrusted input, so every such
text cell is prefixed with ``'``, which makes it plain text. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from services.store.queries import SegmentHit
from shared.events import LABELS

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADING_SEPARATOR = " > "

COLUMNS: tuple[str, ...] = (
    "document_id",
    "filename",
    "sender",
    "seq",
    "page",
    "heading_path",
    "label",
    *(f"score_{label}" for label in LABELS),
    "model_version",
    "segment_id",
    "text",
)


def neutralise(value: Any) -> Any:
    """Make a text cell inert for spreadsheets; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def row_for(hit: SegmentHit) -> list[Any]:
    seg = hit.segment
    scores = seg.scores or {}
    values: list[Any] = [
        seg.document_id,
        hit.filename or "",
        hit.sender or "",
        seg.seq,
        seg.page,
        HEADING_SEPARATOR.join(seg.heading_path or []),
        seg.label,
        *(scores.get(label) for label in LABELS),
        seg.model_version,
        seg.segment_id,
        seg.text,
    ]
    return [neutralise(v) for v in values]


def csv_chunks(hits: Iterable[SegmentHit], rows_per_chunk: int = 500) -> Iterator[str]:
    """The export as CSV text pieces: a UTF-8 byte order mark first so Excel reads æøå correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(COLUMNS)
    for n, hit in enumerate(hits, start=1):
        writer.writerow(row_for(hit))
        if n % rows_per_chunk == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def xlsx_bytes(hits: Iterable[SegmentHit]) -> bytes:
    """The export as an .xlsx workbook (write-only mode keeps memory flat for big exports)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("segments")
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for hit in hits:
        row = []
        for value in row_for(hit):
            if isinstance(value, str):
                # Control characters (a PDF may carry them) are not allowed in XLSX cells.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never let openpyxl read a string as a formula
            row.append(cell)
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
