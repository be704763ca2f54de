"""Page furniture: running headers and footers, page numbers, repeated letterheads.

Nothing here matches fixed strings. A line is furniture when, with its digits masked, the same text
sits in the top or bottom band of most pages (so "Side 2 av 6" and "Side 3 av 6" are one template), or
when it is a short margin line whose number follows the page count. A learned template that contains
words also removes the same template where it appears mid-page (a page footer that a text flow carried
into the body).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from services.extract.model import Line

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

#: Fraction of the page height at the top and bottom where running headers and footers live.
BAND = 0.13


def template(text: str) -> str:
    """Text with numbers masked and spacing normalised: the identity of a running header/footer."""
    return _SPACE.sub(" ", _DIGITS.sub("#", text.lower())).strip(" .-–|")


def _zone(line: Line) -> str | None:
    if line.top < BAND * line.page_height:
        return "top"
    if line.bottom > (1 - BAND) * line.page_height:
        return "bottom"
    return None


def _page_number_line(line: Line, page_index: int) -> bool:
    """A short margin line carrying the page's own number ("3", "- 3 -", "Side 3 av 8", "3/8")."""
    words = line.text.split()
    if len(words) > 5 or len(_LETTERS.findall(line.text)) > 12:
        return False
    numbers = [int(n) for n in _DIGITS.findall(line.text)[:3] if len(n) <= 4]
    return page_index in numbers


def split_furniture(pages: list[list[Line]]) -> tuple[list[list[Line]], list[Line]]:
    """Return (body lines per page, furniture lines), keeping each page's reading order."""
    n_pages = len(pages)
    marked = [[(line, _zone(line), template(line.text)) for line in lines] for lines in pages]
    seen_on: dict[tuple[str, str], set[int]] = defaultdict(set)
    for index, page_marks in enumerate(marked):
        for _, zone, tpl in page_marks:
            if zone:
                seen_on[(zone, tpl)].add(index)
    need = max(2, math.ceil(0.5 * n_pages))
    repeated = {key for key, on in seen_on.items() if n_pages >= 2 and len(on) >= need and key[1]}
    # Templates with words are specific enough to recognise anywhere on a page.
    anywhere = {tpl for _, tpl in repeated if len(_LETTERS.findall(tpl)) >= 4}

    body: list[list[Line]] = []
    furniture: list[Line] = []
    for index, (lines, page) in enumerate(zip(pages, marked, strict=True)):
        edge_copies = _edge_copies(page, repeated)
        kept: list[Line] = []
        for line, zone, tpl in page:
            if (
                id(line) in edge_copies
                or (tpl in anywhere and not (zone and (zone, tpl) in repeated))
                or (zone and _is_edge_line(line, lines) and _page_number_line(line, index + 1))
            ):
                furniture.append(line)
            else:
                kept.append(line)
        body.append(kept)
    return body, furniture


def _edge_copies(page: list[tuple[Line, str | None, str]], repeated: set[tuple[str, str]]) -> set[int]:
    """Ids of the lines that are a running header's or footer's copy on this page: per template, the
    one nearest the page edge. A second copy further in is the letter's own text (a running header
    that repeats the letter's date or sender above the same line on page 1)."""
    nearest: dict[tuple[str, str], Line] = {}
    for line, zone, tpl in page:
        if not zone or (zone, tpl) not in repeated:
            continue
        best = nearest.get((zone, tpl))
        if best is None or (line.top < best.top if zone == "top" else line.bottom > best.bottom):
            nearest[(zone, tpl)] = line
    return {id(line) for line in nearest.values()}


def _is_edge_line(line: Line, lines: list[Line]) -> bool:
    """Whether no other text line lies between this one and the nearer page edge."""
    if line.top < line.page_height / 2:
        return not any(o.bottom <= line.top and o is not line for o in lines)
    return not any(o.top >= line.bottom and o is not line for o in lines)
