"""Word (.docx) documents into the same intermediate as PDFs (``model.Block`` s, with table cells
assembled by ``tables.table_blocks``): one block per paragraph or table cell.

Word keeps paragraphs, list numbering and heading styles explicitly, so no line joining is needed;
styles become the typography that heading detection reads (a "Heading 2" looks like a bold, larger
line). Headers and footers live in separate parts and never reach the body.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from services.extract import textrules as tr
from services.extract.layout import Layout
from services.extract.model import (
    CORRUPT,
    LIST_ITEM,
    PARAGRAPH,
    RESOURCE_LIMIT,
    Block,
    ExtractionError,
    Line,
    Metadata,
    Table,
    Vocabulary,
)
from services.extract.pdf_lines import clean_text
from services.extract.tables import table_blocks

BODY_SIZE = 11.0
_HEADING_STYLE = re.compile(r"^(heading|overskrift)\s*(\d)", re.IGNORECASE)


def _style_name(par: Any) -> str:
    try:
        return par.style.name or ""
    except (AttributeError, KeyError, ValueError):
        return ""


def _synthetic_line(text: str, y: float, size: float, bold: bool, page: int = 1) -> Line:
    return Line(
        text=text, page=page, x0=72.0, x1=72.0 + 5.0 * len(text), top=y, bottom=y + size, size=size, bold=bold
    )


def _paragraph_line(par: Any, y: float) -> tuple[Line, bool] | None:
    text = clean_text(par.text).strip()
    if not text:
        return None
    style = _style_name(par)
    m = _HEADING_STYLE.match(style)
    runs = [r for r in par.runs if r.text.strip()]
    bold = bool(runs) and all(bool(r.bold) or bool(getattr(r.style.font, "bold", False)) for r in runs)
    size = BODY_SIZE
    sizes = [r.font.size.pt for r in runs if r.font.size is not None]
    if sizes:
        size = max(set(sizes), key=sizes.count)
    if style.lower() == "title":
        size, bold = 2.0 * BODY_SIZE, True
    elif m:
        size, bold = BODY_SIZE * max(1.15, 1.8 - 0.15 * int(m.group(2))), True
    numbered = par._p.pPr is not None and par._p.pPr.numPr is not None
    listed = numbered or "list" in style.lower()
    return _synthetic_line(text, y, float(size), bold), listed


def _cell_lines(cell: Any, y: float) -> list[Line]:
    lines = []
    for par in cell.paragraphs:
        made = _paragraph_line(par, y)
        if made:
            lines.append(made[0])
            y += 2 * BODY_SIZE  # each cell paragraph stands apart
    return lines


#: A Word file whose parts unpack to more than this is a zip bomb, not a letter (a 300-page report
#: with images stays well under it; the XML of a long letter is a few MB).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip bomb before unpacking it. ``zipfile`` never returns more than a member's declared
    size (a member that lies fails its CRC check), so the declared sizes bound the work."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(CORRUPT, f"the Word file cannot be read: {type(exc).__name__}") from exc
    if total > MAX_UNPACKED_BYTES:
        raise ExtractionError(
            RESOURCE_LIMIT,
            f"the Word file unpacks to {total / 2**20:,.0f} MB; the limit is {MAX_UNPACKED_BYTES // 2**20} MB",
        )


def read_docx(path: Path) -> tuple[list[Block], Metadata, Vocabulary]:
    _check_unpacked_size(path)
    try:
        import docx

        document = docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:
        if "memory" in str(exc).lower():
            raise MemoryError(str(exc)) from exc
        raise ExtractionError(CORRUPT, f"the Word file cannot be read: {type(exc).__name__}") from exc
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    texts: list[str] = [p.text for p in document.paragraphs]
    vocab = Vocabulary(texts)
    blocks: list[Block] = []
    y = 0.0
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            made = _paragraph_line(Paragraph(child, document), y)
            if not made:
                continue
            line, listed = made
            y += 2 * BODY_SIZE
            bullet = listed or bool(tr.bullet_prefix(line.text))
            text = tr.strip_bullet(line.text) if tr.bullet_prefix(line.text) else line.text
            blocks.append(
                Block(
                    lines=[line],
                    text=text,
                    kind=LIST_ITEM if bullet else PARAGRAPH,
                    bullet=bullet,
                    numbered=tr.is_numbered(text) and not bullet,
                    gap_before=2.0,
                    gap_after=2.0,
                )
            )
        elif tag == "tbl":
            table = DocxTable(child, document)
            cells: list[list[list[Line] | None]] = []
            for row in table.rows:
                seen: set[int] = set()
                out_row: list[list[Line] | None] = []
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                        out_row.append(None)
                        continue
                    seen.add(id(cell._tc))
                    out_row.append(_cell_lines(cell, y))
                cells.append(out_row)
            blocks.extend(
                table_blocks(
                    Table(1, y, y, 0, 0, cells), Layout(body_size=BODY_SIZE, pitch=2 * BODY_SIZE), vocab
                )
            )
            y += 2 * BODY_SIZE
    props = document.core_properties
    meta = Metadata(
        sender=None,
        date=props.created.date().isoformat() if props.created else None,
        title=(props.title or None),
    )
    return blocks, meta, vocab
