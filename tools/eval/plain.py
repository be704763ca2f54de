"""Letters as plain text lines: what a labelled letter looks like once its structure is gone, the way the
seed letters reach the evaluation (text extracted from a PDF: hard-wrapped lines, no bold headings, list
bullets as a glyph at the start of a line, a table's column headers on one line and its cells one after the
other, footnotes at the end). A row label short enough for one line of its column shares that line with the
first line of the cell beside it, as a text export prints a two-column table row («Mellom kommunene Kommunene
møtes ...»); in some letters, as in some exports, every cell keeps its own lines.

``plain_lines(rows, doc)`` turns the labelled rows of one letter into such lines; the end-to-end command
(``--plain``) and ``tools.training.extracted build --rendering plain`` render them with
``tools.extract.render.render_texts`` exactly as the seed letters are rendered (one text line per
paragraph, the running header as letterhead, "Side X av Y" footers). Each letter gets its own line width,
bullet glyph and paragraph separation, picked from a hash of its name, so the set varies as real text
exports do.
"""

from __future__ import annotations

import hashlib
import textwrap
from typing import Any

Row = dict[str, Any]

#: Bullet glyphs as text extraction leaves them (Word's Symbol bullet becomes U+F0B7).
BULLETS = ("\uf0b7", "•", "-", "–", "o", "")
WIDTHS = (78, 86, 92, 98, 104)
#: Blank line after every paragraph, after some (headings and paragraphs only), or never.
SEPARATIONS = ("every", "some", "none")
#: Whether a one-line row label shares its line with the first line of the cell beside it.
ROW_JOINS = (True, True, False)


def _choose(doc: str, axis: str, options: tuple[Any, ...]) -> Any:
    digest = hashlib.sha256(f"plain:{axis}:{doc}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    # pdftotext leaves a trailing space at the end of most wrapped lines
    return [ln + " " for ln in lines] or [""]


def _header_rows_joined(rows: list[Row]) -> list[Row]:
    """A table's column headers on one line, as a text export prints a table row («Krevende faktorer
    Tiltak»): the column each header named is gone, and the cells below follow one after the other."""
    out: list[Row] = []
    for row in rows:
        if row.get("kind") == "table_header" and out and out[-1].get("kind") == "table_header":
            out[-1] = {**out[-1], "text": f"{out[-1]['text']} {row.get('text', '')}"}
        else:
            out.append(row)
    return out


def _row_label(rows: list[Row], i: int, column: int) -> bool:
    """Whether ``rows[i]`` is a table row's first cell, one line at ``column`` characters, with the next
    cell of the same row right after it."""
    row, nxt = rows[i], rows[i + 1] if i + 1 < len(rows) else {}
    return (
        row.get("kind") == "table_cell"
        and nxt.get("kind") == "table_cell"
        and row.get("col") == 0
        and nxt.get("col") == 1
        and row.get("row") is not None
        and row.get("row") == nxt.get("row")
        and len(_wrap(row.get("text", ""), column)) == 1
    )


def plain_lines(rows: list[Row], doc: str) -> list[str]:
    """The text lines of one letter with no structure left but line breaks and blank lines."""
    rows = _header_rows_joined(rows)
    width = _choose(doc, "width", WIDTHS)
    bullet = _choose(doc, "bullet", BULLETS)
    sep = _choose(doc, "separation", SEPARATIONS)
    join_rows = _choose(doc, "rowjoin", ROW_JOINS)
    column = max(width // 2, 30)
    lines: list[str] = []
    notes: list[Row] = []
    label = ""  # a row label waiting for the first line of the cell beside it
    for i, row in enumerate(rows):
        kind = row.get("kind", "paragraph")
        text = row.get("text", "")
        if not text.strip():
            continue
        if kind == "footnote":
            notes.append(row)
            continue
        if join_rows and _row_label(rows, i, column):
            label = " ".join(text.split())
            continue
        if kind in ("bullet", "list_item"):
            mark = f"{bullet} " if bullet else ""
            lines.extend(_wrap(text, width, mark, " " * len(mark) if bullet in ("-", "–", "o") else ""))
        elif kind == "table_cell":
            cell = _wrap(text, column)
            if label:
                cell[0] = f"{label} {cell[0]}"
                label = ""
            lines.extend(cell)
        elif kind == "table_header":
            lines.extend(_wrap(text, width))
        elif kind in ("heading", "question", "title"):
            if lines and lines[-1].strip() and sep != "none":
                lines.append(" ")
            lines.extend(_wrap(text, width))
        else:
            lines.extend(_wrap(text, width))
        nxt = rows[i + 1].get("kind", "") if i + 1 < len(rows) else ""
        blank = (
            sep == "every"
            or (sep == "some" and kind in ("heading", "question", "title", "paragraph"))
            or (kind in ("bullet", "list_item", "table_cell") and nxt not in (kind, "table_header"))
        )
        if kind in ("letterhead", "date", "reference") and nxt in ("letterhead", "date", "reference"):
            blank = False
        if blank:
            lines.append(" ")
    if notes:
        lines.append(" ")
        for row in notes:
            lines.extend(_wrap(row["text"], width))
    return lines
