"""Two-column tables drawn without any rules (Word's and LibreOffice's «no borders» style): the column is a
gutter no word crosses, the rows the wider gaps between lines.

Without this, such a table reads as lines of its own: each line of the left cell runs into the line of
the right cell beside it («Høy turnover blant nyutdannede sykepleiere på Mentorordningen for ...») and a
cell's second line becomes a paragraph of its own. A region counts as a table when at least
``MIN_SPLIT_LINES`` lines have words on both sides of one x position where the right column starts
(within ``ALIGN``), after a gap of at least ``MIN_GAP``; no line between crosses it; the lines follow each
other at most ``MAX_PITCH`` line heights apart; it has at least two rows; and at least two cells hold a
sentence (``MIN_CELL_WORDS``), so that an address or contact block laid out in two columns stays text.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.extract.model import Line, Table
from services.extract.pdf_lines import Bbox, group_rows, inside, words_to_lines

MIN_GAP = 12.0
ALIGN = 2.0
MIN_SPLIT_LINES = 3
MAX_PITCH = 2.0
#: A row starts where the gap to the line above is this much wider than the table's closest line pitch.
ROW_GAP = 1.3
MIN_CELL_WORDS = 6

Row = list[dict[str, Any]]


def borderless_tables(
    words: list[dict[str, Any]], page_no: int, size: tuple[float, float], taken: list[Bbox]
) -> list[Table]:
    """Rule-less two-column tables among the words outside the tables already found (``taken``)."""
    rows = group_rows([w for w in words if not (taken and inside(w, taken))])
    tables: list[Table] = []
    used: set[int] = set()
    for x, _n in _column_starts(rows):
        i = 0
        while i < len(rows):
            if i in used or not _splits(rows[i], x):
                i += 1
                continue
            j = i
            while j + 1 < len(rows) and j + 1 not in used and _follows(rows[j], rows[j + 1]):
                if _crosses(rows[j + 1], x):
                    break
                j += 1
            run = rows[i : j + 1]
            table = _table(run, x, page_no, size)
            if table is not None:
                tables.append(table)
                used.update(range(i, j + 1))
            i = j + 1
    return tables


def _column_starts(rows: list[Row]) -> list[tuple[float, int]]:
    """x positions where a word starts after a wide gap, with how many lines have one there."""
    starts: Counter[int] = Counter()
    for row in rows:
        for a, b in zip(row, row[1:]):
            if b["x0"] - a["x1"] >= MIN_GAP:
                starts[round(b["x0"])] += 1
    return [(float(x), n) for x, n in starts.most_common() if n >= MIN_SPLIT_LINES]


def _splits(row: Row, x: float) -> bool:
    """Words on both sides of the gutter: one starts at x after a wide gap."""
    return any(abs(b["x0"] - x) <= ALIGN and b["x0"] - a["x1"] >= MIN_GAP for a, b in zip(row, row[1:]))


def _crosses(row: Row, x: float) -> bool:
    return any(w["x0"] < x - ALIGN and w["x1"] > x - MIN_GAP / 2 for w in row)


def _height(row: Row) -> float:
    return max(w["bottom"] for w in row) - min(w["top"] for w in row)


def _follows(above: Row, below: Row) -> bool:
    return _top(below) - _top(above) <= MAX_PITCH * max(_height(above), 1.0)


def _top(row: Row) -> float:
    return min(w["top"] for w in row)


def _table(run: list[Row], x: float, page_no: int, size: tuple[float, float]) -> Table | None:
    if sum(_splits(r, x) for r in run) < MIN_SPLIT_LINES:
        return None
    tops = [_top(r) for r in run]
    pitches = [b - a for a, b in zip(tops, tops[1:])]
    if not pitches:
        return None
    closest = min(pitches)
    groups: list[list[Row]] = [[run[0]]]
    for row, pitch in zip(run[1:], pitches):
        if pitch > ROW_GAP * closest:
            groups.append([row])
        else:
            groups[-1].append(row)
    if len(groups) < 2:
        return None
    cells: list[list[list[Line] | None]] = []
    full = 0
    for group in groups:
        left = [w for r in group for w in r if w["x0"] < x - ALIGN]
        right = [w for r in group for w in r if w["x0"] >= x - ALIGN]
        full += (len(left) >= MIN_CELL_WORDS) + (len(right) >= MIN_CELL_WORDS)
        cells.append(
            [words_to_lines(left, page_no, size) or None, words_to_lines(right, page_no, size) or None]
        )
    if full < 2:
        return None
    every = [w for r in run for w in r]
    return Table(
        page=page_no,
        top=min(w["top"] for w in every),
        bottom=max(w["bottom"] for w in every),
        x0=min(w["x0"] for w in every),
        x1=max(w["x1"] for w in every),
        cells=cells,
    )
