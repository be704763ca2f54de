"""Tables: detection on PDF pages (pdfplumber's table finder; each cell's words become lines of their
own) and assembly into blocks (header row and row labels into the cells' heading paths, a table that
runs on over a page break joined into one). Word tables are assembled here too."""

from __future__ import annotations

import logging
from typing import Any

from services.extract import textrules as tr
from services.extract.layout import Layout
from services.extract.model import PARAGRAPH, TABLE_CELL, TABLE_HEADER, Block, Line, Table, Vocabulary
from services.extract.pdf_lines import Bbox, inside, words_to_lines
from services.extract.segmenter import segment_lines

log = logging.getLogger(__name__)

_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3}
#: Pages drawn with more ruling segments than this are vector art (maps, charts), not letter tables;
#: the table finder's cost grows steeply with them.
MAX_EDGES = 1500


#: Tables drawn with horizontal rules only (a common Word and LibreOffice style): rows come from the
#: rules, columns from the gutters no word crosses.
MIN_RULE_WIDTH = 100.0
MIN_GUTTER = 4.0
MAX_COLUMNS = 6


def find_tables(page: Any, page_no: int, words: list[dict[str, Any]]) -> list[Table]:
    """Tables with at least two rows and two columns (a single ruled box is a frame, not a table)."""
    try:
        n_edges = len(page.lines) + len(page.rects) + len(page.curves)
        if n_edges == 0 or n_edges > MAX_EDGES:
            return []
        found = list(page.find_tables(table_settings=_SETTINGS))
        taken = [t.bbox for t in found]
        for region in _rule_only_regions(page, taken):
            cuts = _gutters([w for w in words if inside(w, [region])], region)
            if cuts:
                settings = {
                    "vertical_strategy": "explicit",
                    "horizontal_strategy": "lines",
                    "snap_tolerance": 3,
                    "explicit_vertical_lines": [region[0], *cuts, region[2]],
                }
                found += page.crop(region).find_tables(table_settings=settings)
    except Exception as exc:
        log.warning("table finder failed", extra={"page": page_no, "error": repr(exc)})
        return []
    size = (float(page.width), float(page.height))
    tables: list[Table] = []
    for t in found:
        table = _table(t, page_no, size, words)
        if table is not None:
            tables.append(table)
    return tables


def _rule_only_regions(page: Any, taken: list[Bbox]) -> list[Bbox]:
    """Areas framed by three or more horizontal rules of the same span with no table found there: the
    rows of a table whose column rules were left out."""
    spans: dict[tuple[int, int], list[float]] = {}
    for e in page.horizontal_edges:
        if e["x1"] - e["x0"] >= MIN_RULE_WIDTH:
            spans.setdefault((round(e["x0"]), round(e["x1"])), []).append(float(e["top"]))
    regions: list[Bbox] = []
    for (x0, x1), tops in spans.items():
        tops = sorted(set(round(t, 1) for t in tops))
        if len(tops) < 3:
            continue
        box = (float(x0) - 1, tops[0] - 1, float(x1) + 1, tops[-1] + 1)
        if not any(_overlaps(box, t) for t in taken + regions):
            regions.append(box)
    return regions


def _gutters(words: list[dict[str, Any]], region: Bbox) -> list[float]:
    """x positions of the column gutters: gaps that no word in the region crosses. Cell text wraps
    inside its column, so in a real table the gap between columns stays empty from top to bottom."""
    spans = sorted((float(w["x0"]), float(w["x1"])) for w in words)
    if not spans:
        return []
    merged = [list(spans[0])]
    for x0, x1 in spans[1:]:
        if x0 <= merged[-1][1] + MIN_GUTTER:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    cuts = [(a[1] + b[0]) / 2 for a, b in zip(merged, merged[1:])]
    return cuts if 1 <= len(cuts) < MAX_COLUMNS else []


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _table(t: Any, page_no: int, size: tuple[float, float], words: list[dict[str, Any]]) -> Table | None:
    rows = t.rows
    if len(rows) < 2 or max((len(r.cells) for r in rows), default=0) < 2:
        return None
    in_table = [w for w in words if inside(w, [t.bbox])]
    cells: list[list[list[Line] | None]] = []
    for row in rows:
        out_row: list[list[Line] | None] = []
        for bbox in row.cells:
            if bbox is None:
                out_row.append(None)
                continue
            mine = [w for w in in_table if _centre_in(w, bbox)]
            out_row.append(words_to_lines(mine, page_no, size))
        cells.append(out_row)
    if not any(c for row in cells for c in row):
        return None
    x0, top, x1, bottom = t.bbox
    return Table(page=page_no, top=float(top), bottom=float(bottom), x0=float(x0), x1=float(x1), cells=cells)


def _centre_in(w: dict[str, Any], bbox: Bbox) -> bool:
    cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
    return bbox[0] <= cx <= bbox[2] and bbox[1] <= cy <= bbox[3]


def table_boxes(tables: list[Table]) -> list[Bbox]:
    return [(t.x0, t.top, t.x1, t.bottom) for t in tables]


# -- assembly --------------------------------------------------------------------------------------------
def _cell_text(lines: list[Line] | None) -> str:
    return " ".join(ln.text for ln in lines or []).strip()


def _is_sentence_cell(text: str) -> bool:
    return tr.is_terminated(text) or tr.word_count(text) > 10


def _is_header_cell(text: str) -> bool:
    """A column header: a short label or a short question ("Kva er krevjande?"), not a sentence."""
    return tr.word_count(text) <= 10 and (text.rstrip().endswith("?") or not tr.is_terminated(text))


def table_blocks(table: Table, layout: Layout, vocab: Vocabulary) -> list[Block]:
    """One block per cell paragraph. A first row of short labels is the column header; a first column of
    short labels (no sentences) gives row labels. Both go into the heading path of the cells."""
    rows = [row for row in table.cells if any(_cell_text(c) for c in row)]
    if not rows:
        return []
    ncols = max(len(r) for r in rows)
    first = [_cell_text(c) for c in rows[0]]
    has_header = (
        len(rows) >= 2
        and ncols >= 2
        and sum(bool(t) for t in first) >= 2
        and all(not t or _is_header_cell(t) for t in first)
    )
    headers = first if has_header else [""] * ncols
    body_rows = rows[1:] if has_header else rows
    col0 = [_cell_text(r[0]) if r else "" for r in body_rows]
    row_labels = ncols >= 2 and all(not t or not _is_sentence_cell(t) for t in col0) and any(col0)

    out: list[Block] = []
    if has_header:
        for cell in rows[0]:
            if cell and _cell_text(cell):
                out.append(Block(lines=list(cell), text=_cell_text(cell), kind=TABLE_HEADER))
    for row in body_rows:
        label = _cell_text(row[0]) if row_labels and row else ""
        for col, cell in enumerate(row):
            if not cell:
                continue
            header = headers[col] if col < len(headers) else ""
            path = [header] if header else []
            if row_labels and col == 0:
                blocks = segment_lines(cell, layout, vocab, cell=True)
                for b in blocks:
                    b.kind = TABLE_HEADER
                    b.extra_path = path
                out.extend(blocks)
                continue
            if label:
                path = path + [label]
            for b in segment_lines(cell, layout, vocab, cell=True):
                if b.kind == PARAGRAPH:
                    b.kind = TABLE_CELL
                b.extra_path = path
                out.append(b)
    return out


def continues(before: Table, after: Table) -> bool:
    """``after`` opens the next page with the rest of ``before``: the same columns at the same place."""
    width = max(len(r) for r in before.cells)
    return (
        after.page == before.page + 1
        and max(len(r) for r in after.cells) == width
        and abs(after.x0 - before.x0) < 6
        and abs(after.x1 - before.x1) < 6
    )


def join_tables(before: Table, after: Table) -> Table:
    """One table from a table and its continuation: a repeated header row goes, and a row the page
    break cut in two (a cell left unfinished, its rest starting in lower case) becomes one row again."""
    rows = list(after.cells)
    if rows and [_cell_text(c) for c in rows[0]] == [_cell_text(c) for c in before.cells[0]]:
        rows = rows[1:]
    cells = [list(r) for r in before.cells]
    if rows and cells:
        last, first = cells[-1], rows[0]
        cut = any(
            _cell_text(a) and not tr.is_terminated(_cell_text(a)) and tr.starts_lower(_cell_text(b))
            for a, b in zip(last, first)
        )
        if cut:
            cells[-1] = [(a or []) + (b or []) if (a or b) else None for a, b in zip(last, first)]
            rows = rows[1:]
    return Table(
        page=before.page, top=before.top, bottom=after.bottom, x0=before.x0, x1=before.x1, cells=cells + rows
    )
