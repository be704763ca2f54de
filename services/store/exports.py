"""CSV and XLSX exports of segments, safe to open in a spreadsheet.

Spreadsheet programs run a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@``
(and some strip a leading tab or carriage return first). Letters are untrusted input, so every such
text cell is prefixed with ``'``, which makes it plain text. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from services.store.queries import SegmentHit
from services.store.web.norwegian import LABEL_NAMES, citation, short_date
from shared.events import LABELS
from shared.text import heading_path_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
THEME_SEPARATOR = "; "

COLUMNS: tuple[str, ...] = (
    "document_id",
    "filename",
    "sender",
    "sender_kind",
    "seq",
    "page",
    "heading_path",
    "label",
    "model_label",
    "corrected",
    "corrected_by",
    "corrected_at",
    "themes",
    "model_themes",
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
        hit.sender_kind or "",
        seg.seq,
        seg.page,
        heading_path_text(seg.heading_path),
        seg.label,
        seg.model_label or seg.label,
        "ja" if seg.corrected else "nei",
        seg.corrected_by or "",
        seg.corrected_at.isoformat() if seg.corrected_at else "",
        THEME_SEPARATOR.join(t["id"] for t in seg.themes or []),
        THEME_SEPARATOR.join(t["id"] for t in seg.model_themes or []),
        *(scores.get(label) for label in LABELS),
        seg.model_version,
        seg.segment_id,
        seg.text,
    ]
    return [neutralise(v) for v in values]


def csv_chunks(
    hits: Iterable[SegmentHit], rows_per_chunk: int = 500, header: Sequence[str] = COLUMNS
) -> Iterator[str]:
    """The export as CSV text pieces: a UTF-8 byte order mark first so Excel reads æøå correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(header)
    for n, hit in enumerate(hits, start=1):
        writer.writerow(row_for(hit))
        if n % rows_per_chunk == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


# ---------------------------------------------------------------------------------------------- points
POINT_COLUMNS: tuple[str, ...] = (
    "point_id",
    "label",
    "themes",
    "sender_count",
    "segment_count",
    "senders",
    "summary",
    "keywords",
)


def point_row(point: dict[str, Any]) -> list[Any]:
    senders = sorted({s["sender"] or s["document_id"] for s in point["segments"]})
    values: list[Any] = [
        point["id"],
        point["label"],
        THEME_SEPARATOR.join(point["themes"]),
        point["sender_count"],
        len(point["segments"]),
        THEME_SEPARATOR.join(senders),
        point["summary"],
        ", ".join(point["keywords"]),
    ]
    return [neutralise(v) for v in values]


def points_csv(points: Iterable[dict[str, Any]]) -> str:
    """One row per point with its sender count and senders (UTF-8 BOM for Excel)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(POINT_COLUMNS)
    for p in points:
        writer.writerow(point_row(p))
    return buf.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    # Excel sheet names: at most 31 characters, none of []:*?/\ and unique.
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "tema"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def points_xlsx(points: Iterable[dict[str, Any]], theme_names: dict[str, str]) -> bytes:
    """Points as a workbook with one sheet per theme (a point with several themes is on each of their
    sheets; points without a theme on «uten tema»)."""
    by_theme: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        for t in p["themes"] or [""]:
            by_theme.setdefault(t, []).append(p)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    order = [t for t in theme_names if t in by_theme] + sorted(t for t in by_theme if t not in theme_names)
    if not order:
        order = []
        wb.create_sheet("punkter").append(list(POINT_COLUMNS))
    for theme in order:
        ws = wb.create_sheet(_sheet_title(theme_names.get(theme, theme or "uten tema"), used))
        header = []
        for name in POINT_COLUMNS:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for p in by_theme[theme]:
            row = []
            for value in point_row(p):
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                row.append(cell)
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------ the report workbook
# The analyst's export (UI): Norwegian headers by default (``lang="en"``: the machine names above), the
# columns a report needs first, one link back to each segment, and a workbook that reads well at once
# (autofilter, frozen header row, column widths, wrapped long text).

#: (machine name, Norwegian header, column width in characters, wrap) in the workbook's order.
REPORT_COLUMNS: tuple[tuple[str, str, float, bool], ...] = (
    ("sender", "Avsender", 26, True),
    ("sender_kind", "Avsendertype", 15, False),
    ("title", "Tittel", 30, True),
    ("date", "Dato", 12, False),
    ("page", "Side", 6, False),
    ("label", "Kategori", 12, False),
    ("themes", "Tema", 28, True),
    ("text", "Tekst", 70, True),
    ("citation", "Kildehenvisning", 40, True),
    ("link", "Lenke", 28, False),
    ("heading_path", "Overskrifter", 30, True),
    ("filename", "Filnavn", 22, False),
    ("seq", "Nr. i brevet", 8, False),
    ("corrected", "Korrigert", 10, False),
    ("model_label", "Modellens kategori", 14, False),
    ("corrected_by", "Korrigert av", 14, False),
    ("corrected_at", "Korrigert tidspunkt", 18, False),
    ("model_themes", "Modellens tema", 24, True),
    *((f"score_{label}", f"Sannsynlighet {LABEL_NAMES[label]}", 12, False) for label in LABELS),
    ("model_version", "Modellversjon", 16, False),
    ("segment_id", "Segment-id", 20, False),
    ("document_id", "Dokument-id", 20, False),
)
#: Norwegian headers of the CSV columns (same order as :data:`COLUMNS`).
CSV_HEADERS_NB: dict[str, str] = {name: header for name, header, _w, _wrap in REPORT_COLUMNS}


def export_lang(lang: str | None) -> str:
    """``en`` for the machine (English) column names; anything else is Norwegian bokmål."""
    return "en" if (lang or "").strip().lower() in ("en", "eng", "english") else "nb"


def csv_header(lang: str) -> list[str]:
    """The CSV header row in ``lang`` ("nb": Norwegian headers, "en": the machine names)."""
    return list(COLUMNS) if lang == "en" else [CSV_HEADERS_NB.get(c, c) for c in COLUMNS]


def report_headers(lang: str) -> list[str]:
    return [name if lang == "en" else header for name, header, _w, _wrap in REPORT_COLUMNS]


def report_row(
    hit: SegmentHit, *, lang: str = "nb", base_url: str = "", theme_names: dict[str, str] | None = None
) -> list[Any]:
    """One segment as a report row (formula-like text neutralised, like every export)."""
    seg = hit.segment
    base = dict(zip(COLUMNS, row_for(hit), strict=True))
    title = getattr(hit, "title", None)
    when = getattr(hit, "date", None)
    names = theme_names or {}
    extra: dict[str, Any] = {
        "title": title or "",
        "date": (short_date(when) if when else "") if lang == "nb" else (when or ""),
        "citation": citation(hit.sender or hit.filename, title, when, seg.page),
        "link": f"{base_url.rstrip('/')}/ui/documents/{seg.document_id}#s{seg.seq}",
    }
    if lang == "nb":
        base["label"] = LABEL_NAMES.get(seg.label, seg.label)
        base["model_label"] = LABEL_NAMES.get(seg.model_label or seg.label, seg.model_label or seg.label)
        base["themes"] = THEME_SEPARATOR.join(names.get(t["id"], t["id"]) for t in seg.themes or [])
        base["model_themes"] = THEME_SEPARATOR.join(
            names.get(t["id"], t["id"]) for t in seg.model_themes or []
        )
    values = {**base, **{k: neutralise(v) for k, v in extra.items()}}
    return [values[name] for name, _h, _w, _wrap in REPORT_COLUMNS]


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def format_report_sheet(ws: Any, n_rows: int) -> None:
    """Autofilter over the header and data, frozen header row, column widths (a write-only sheet: call it
    before the first row is appended)."""
    last = _column_letter(len(REPORT_COLUMNS))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{max(n_rows, 0) + 1}"
    for i, (_name, _header, width, _wrap) in enumerate(REPORT_COLUMNS, start=1):
        ws.column_dimensions[_column_letter(i)].width = width


def xlsx_report(
    hits: Iterable[SegmentHit],
    *,
    lang: str = "nb",
    base_url: str = "",
    theme_names: dict[str, str] | None = None,
    sheet_title: str | None = None,
) -> bytes:
    """The analyst's workbook: report columns, Norwegian headers (``lang="en"``: machine names),
    autofilter, frozen header, widths and wrapped long text; no cell is ever a formula."""
    from openpyxl.styles import Alignment, PatternFill

    rows = [report_row(h, lang=lang, base_url=base_url, theme_names=theme_names) for h in hits]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title or ("segmenter" if lang == "nb" else "segments"))
    format_report_sheet(ws, len(rows))
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE3EA")
    head_align = Alignment(vertical="top", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    header = []
    for text_ in report_headers(lang):
        cell = WriteOnlyCell(ws, value=text_)
        cell.font, cell.fill, cell.alignment = bold, head_fill, head_align
        header.append(cell)
    ws.append(header)
    wraps = [w for _n, _h, _width, w in REPORT_COLUMNS]
    link_col = [n for n, _h, _w, _wr in REPORT_COLUMNS].index("link")
    for values in rows:
        out = []
        for i, value in enumerate(values):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula
            cell.alignment = wrap if wraps[i] else top
            if i == link_col and isinstance(value, str) and value.startswith(("http://", "https://")):
                cell.hyperlink = value
                cell.font = Font(color="1D5FA8", underline="single")
            out.append(cell)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _slug(value: str, limit: int = 40) -> str:
    import unicodedata

    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    text_ = unicodedata.normalize("NFKD", value.translate(table)).encode("ascii", "ignore").decode().lower()
    out = "".join(ch if ch.isalnum() else "-" for ch in text_)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:limit].strip("-")


def export_filename(f: Any, ext: str, *, today: Any = None, lang: str = "nb") -> str:
    """A file name that says what was exported: ``innspill-tiltak-digitalisering-2026-12-05.xlsx``
    (label, theme, sender kind, sender, search words, in that order, when filtered)."""
    from datetime import date as _date

    from services.store.web.norwegian import LABEL_PLURALS

    parts = ["innspill"]
    label = getattr(f, "label", None)
    if label:
        parts.append(LABEL_PLURALS.get(label, label) if lang == "nb" else label)
    for attr in ("theme", "sender_kind", "sender", "q"):
        value = getattr(f, attr, None)
        if value:
            slug = _slug(str(value), 30)
            if slug:
                parts.append(slug)
    if getattr(f, "document_id", None) and not getattr(f, "sender", None):
        parts.append("dokument-" + _slug(str(f.document_id), 12))
    day = today or _date.today()
    return "-".join([*parts, day.isoformat()]) + "." + ext
