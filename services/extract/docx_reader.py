"""Word (.docx) documents into the same blocks as PDFs: one block per paragraph or table cell.

Word keeps paragraphs, list numbering and heading styles explicitly, so no line joining is needed;
styles become the typography that heading detection reads (a "Heading 2" looks like a bold, larger
line). Headers and footers live in separate parts and never reach the body.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.extract import textrules as tr
from services.extract.model import CORRUPT, LIST_ITEM, PARAGRAPH, ExtractionError, Line, Metadata, Table
from services.extract.pdf_lines import clean_text
from services.extract.segmenter import Block, Vocabulary, table_blocks

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


def read_docx(path: Path) -> tuple[list[Block], Metadata, Vocabulary]:
    try:
        import docx

        document = docx.Document(str(path))
    except Exception as exc:
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
            from services.extract.layout import Layout

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
