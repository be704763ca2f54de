"""Letters as plain text lines: what a labelled letter looks like once its structure is gone, the way the
seed letters reach the evaluation (text extracted from a PDF: hard-wrapped lines, no bold headings, list
bullets as a glyph at the start of a line, a table's column headers on one line and its cells one after the
other, footnotes at the end).

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


def plain_lines(rows: list[Row], doc: str) -> list[str]:
    """The text lines of one letter with no structure left but line breaks and blank lines."""
    rows = _header_rows_joined(rows)
    width = _choose(doc, "width", WIDTHS)
    bullet = _choose(doc, "bullet", BULLETS)
    sep = _choose(doc, "separation", SEPARATIONS)
    lines: list[str] = []
    notes: list[Row] = []
    for i, row in enumerate(rows):
        kind = row.get("kind", "paragraph")
        text = row.get("text", "")
        if not text.strip():
            continue
        if kind == "footnote":
            notes.append(row)
            continue
        if kind in ("bullet", "list_item"):
            mark = f"{bullet} " if bullet else ""
            lines.extend(_wrap(text, width, mark, " " * len(mark) if bullet in ("-", "–", "o") else ""))
        elif kind == "table_cell":
            lines.extend(_wrap(text, max(width // 2, 30)))
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
