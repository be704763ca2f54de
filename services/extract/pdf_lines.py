"""Visual lines from a pdfplumber page: words grouped by vertical position, split at wide gaps.

Each line keeps its geometry, dominant font size and boldness, which furniture, heading and paragraph
detection rely on. Text inside table areas is left out here (tables.py reads it cell by cell).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from itertools import pairwise
from typing import Any

from services.extract.model import Line

_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_SOFT_HYPHEN = "\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)

Bbox = tuple[float, float, float, float]


def clean_text(text: str) -> str:
    """NFC, no soft hyphens or zero-width characters, no-break spaces as spaces."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return text.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ")


def is_bold_font(fontname: str | None) -> bool:
    return bool(fontname and _BOLD.search(fontname))


def inside(obj: dict[str, Any], boxes: list[Bbox]) -> bool:
    """Whether the object's centre lies in one of the boxes."""
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1 for x0, top, x1, bottom in boxes)


def _duplicate_ids(chars: list[dict[str, Any]]) -> set[int]:
    """Characters drawn twice at (almost) the same spot, as "fake bold" does: keep the first of each.

    A copy must sit within half its own width (at most 1 pt) of the first: two narrow letters side by side
    in a small font ("ll" at 8 pt, 1.8 pt apart) are two letters, not one drawn twice. Buckets on rounded
    positions make this linear; pdfplumber's own dedupe is far slower on dense pages."""
    seen: dict[tuple[str, int, int], list[tuple[float, float]]] = {}
    dupes: set[int] = set()
    for c in chars:
        text, x0, top = c.get("text", ""), float(c["x0"]), float(c["top"])
        tol = min(1.0, 0.5 * max(float(c.get("x1", x0)) - x0, 0.0))
        x, y = round(x0), round(top)
        near = (p for dx in (-1, 0, 1) for dy in (-1, 0, 1) for p in seen.get((text, x + dx, y + dy), ()))
        if any(abs(px - x0) <= tol and abs(py - top) <= 1.0 for px, py in near):
            dupes.add(id(c))
        else:
            seen.setdefault((text, x, y), []).append((x0, top))
    return dupes


def page_words(page: Any) -> list[dict[str, Any]]:
    """Words of the page with their characters, duplicate (fake-bold) characters removed."""
    dupes = _duplicate_ids(page.chars)
    if dupes:
        page = page.filter(lambda obj: obj.get("object_type") != "char" or id(obj) not in dupes)
    words: list[dict[str, Any]] = page.extract_words(
        x_tolerance=2, y_tolerance=2, keep_blank_chars=False, use_text_flow=False, return_chars=True
    )
    return [w for w in words if w["text"].strip()]


def _dominant_size(chars: list[dict[str, Any]]) -> float:
    sizes = Counter(round(float(c.get("size") or 0), 1) for c in chars if c.get("text", "").strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def group_rows(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Words whose vertical centre falls inside a row's band belong to that row (superscripts too)."""
    rows: list[dict[str, Any]] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        mid = (w["top"] + w["bottom"]) / 2
        small = (w["bottom"] - w["top"]) < 0.8 * (rows[-1]["bottom"] - rows[-1]["top"]) if rows else False
        for row in reversed(rows[-4:]):
            # A superscript (smaller, raised) joins the row its foot stands in.
            probe = w["bottom"] if small and mid < row["top"] else mid
            if row["top"] - 0.5 <= probe <= row["bottom"] + 0.5 and not any(
                min(w["x1"], o["x1"]) - max(w["x0"], o["x0"]) > 0.5 for o in row["words"]
            ):
                row["words"].append(w)
                break
        else:
            rows.append({"top": w["top"], "bottom": w["bottom"], "words": [w]})
    return [sorted(r["words"], key=lambda w: w["x0"]) for r in rows]


def _join_words(words: list[dict[str, Any]], size: float) -> str:
    out = words[0]["text"]
    for prev, w in pairwise(words):
        gap = w["x0"] - prev["x1"]
        out += ("" if gap < 0.12 * size else " ") + w["text"]
    return out


def _chunks(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split one row at gaps much wider than a space (columns, tab stops, table cells without rules)."""
    chunks = [[words[0]]]
    for prev, w in pairwise(words):
        size = max(float(prev["bottom"] - prev["top"]), 1.0)
        if w["x0"] - prev["x1"] > max(2.2 * size, 14.0):
            chunks.append([w])
        else:
            chunks[-1].append(w)
    return chunks


def _make_line(words: list[dict[str, Any]], page_no: int, width: float, height: float) -> Line | None:
    chars = [c for w in words for c in w.get("chars", [])]
    size = _dominant_size(chars) or statistics.median(w["bottom"] - w["top"] for w in words)
    text = clean_text(_join_words(words, size)).strip()
    if not text:
        return None
    main = [c for c in chars if round(float(c.get("size") or 0), 1) == size] or chars
    bold_share = sum(is_bold_font(c.get("fontname")) for c in main) / max(len(main), 1)
    # Geometry from the main-size words, so a superscript does not stretch the line's band.
    body = [w for w in words if abs((w["bottom"] - w["top"]) - size) <= 0.35 * size] or words
    return Line(
        text=text,
        page=page_no,
        x0=float(min(w["x0"] for w in words)),
        x1=float(max(w["x1"] for w in words)),
        top=float(min(w["top"] for w in body)),
        bottom=float(max(w["bottom"] for w in body)),
        size=float(size),
        bold=bold_share >= 0.6,
        page_width=width,
        page_height=height,
    )


def words_to_lines(words: list[dict[str, Any]], page_no: int, size: tuple[float, float]) -> list[Line]:
    """Lines in reading order: top to bottom, and left to right within one row."""
    lines: list[Line] = []
    for row in group_rows(words):
        for chunk in _chunks(row):
            line = _make_line(chunk, page_no, size[0], size[1])
            if line is not None:
                lines.append(line)
    return order_lines(lines)


def page_lines(page: Any, page_no: int, exclude: list[Bbox] | None = None) -> list[Line]:
    """The page's lines outside the ``exclude`` boxes (tables), in reading order."""
    words = [w for w in page_words(page) if not (exclude and inside(w, exclude))]
    return words_to_lines(words, page_no, (float(page.width), float(page.height)))


def order_lines(lines: list[Line]) -> list[Line]:
    """Reading order: by row, then by x. Rows are lines whose tops lie within a fraction of a line."""
    lines = sorted(lines, key=lambda ln: (ln.top, ln.x0))
    ordered: list[Line] = []
    row: list[Line] = []
    for ln in lines:
        if row and ln.top - row[0].top > 0.4 * max(row[0].size, 1.0):
            ordered.extend(sorted(row, key=lambda r: r.x0))
            row = []
        row.append(ln)
    ordered.extend(sorted(row, key=lambda r: r.x0))
    return ordered
