"""Ruled tables via pdfplumber's table finder; each cell's words become lines of their own."""

from __future__ import annotations

import logging
from typing import Any

from services.extract.model import Line, Table
from services.extract.pdf_lines import Bbox, inside, words_to_lines

log = logging.getLogger(__name__)

_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3}
#: Pages drawn with more ruling segments than this are vector art (maps, charts), not letter tables;
#: the table finder's cost grows steeply with them.
MAX_EDGES = 1500


def find_tables(page: Any, page_no: int, words: list[dict[str, Any]]) -> list[Table]:
    """Tables with at least two rows and two columns (a single ruled box is a frame, not a table)."""
    try:
        n_edges = len(page.lines) + len(page.rects) + len(page.curves)
        if n_edges == 0 or n_edges > MAX_EDGES:
            return []
        found = page.find_tables(table_settings=_SETTINGS)
    except Exception as exc:
        log.warning("table finder failed", extra={"page": page_no, "error": repr(exc)})
        return []
    size = (float(page.width), float(page.height))
    tables: list[Table] = []
    for t in found:
        rows = t.rows
        if len(rows) < 2 or max((len(r.cells) for r in rows), default=0) < 2:
            continue
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
            continue
        x0, top, x1, bottom = t.bbox
        tables.append(Table(page=page_no, top=float(top), bottom=float(bottom), x0=float(x0), x1=float(x1),
                            cells=cells))
    return tables


def _centre_in(w: dict[str, Any], bbox: Bbox) -> bool:
    cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
    return bbox[0] <= cx <= bbox[2] and bbox[1] <= cy <= bbox[3]


def table_boxes(tables: list[Table]) -> list[Bbox]:
    return [(t.x0, t.top, t.x1, t.bottom) for t in tables]
