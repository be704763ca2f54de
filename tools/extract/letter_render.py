"""Render a labelled letter (``data/labelled/*.jsonl`` rows) to PDF the way an office suite would.

Each letter becomes a flat ODT: letterhead lines at the top of page 1, a running header and a
"Side X av Y" footer on every page, a bold title, bold headings and questions, wrapped body text, real
bullet and numbered lists, ruled tables with a header row, and real footnotes anchored where the text
carries their mark. LibreOffice converts a whole folder of them to PDF in one headless run.

That is the original house style, ``Variant()``. Other styles (:class:`Variant`, one per letter from
:func:`variant_for`) differ the way letters from Word, LibreOffice and case-handling systems do: in
paragraph separation, font, heading size and numbering, header and footer, table rules and the
signature block.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tools.extract.render import ODF_OPEN, fodt_to_pdf, odf_page_layout

_HEAD = (
    ODF_OPEN
    + """ <office:font-face-decls>
  <style:font-face style:name="Liberation Sans" svg:font-family="'Liberation Sans'"
   style:font-family-generic="swiss"/>
  <style:font-face style:name="Liberation Serif" svg:font-family="'Liberation Serif'"
   style:font-family-generic="roman"/>
  <style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'"
   style:font-family-generic="swiss"/>
  <style:font-face style:name="DejaVu Serif" svg:font-family="'DejaVu Serif'"
   style:font-family-generic="roman"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:orphans="2" fo:widows="2"/>
   <style:text-properties style:font-name="{font}" fo:font-size="{size}" fo:language="{lang}"
    fo:country="NO" fo:hyphenate="false"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph"/>
  <style:style style:name="Body" style:family="paragraph">
   <style:paragraph-properties {body} fo:text-align="{align}"/>
  </style:style>
  <style:style style:name="Letterhead" style:family="paragraph">
   <style:text-properties fo:font-size="10pt" fo:font-weight="{letterhead_weight}"/>
  </style:style>
  <style:style style:name="Date" style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0.4cm" fo:text-align="end"/>
  </style:style>
  <style:style style:name="Reference" style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0.2cm" fo:margin-bottom="0.2cm"/>
  </style:style>
  <style:style style:name="Title" style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0.5cm" fo:margin-bottom="0.35cm" fo:keep-with-next="always"/>
   <style:text-properties fo:font-size="{title_size}" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Heading1" style:family="paragraph">
   <style:paragraph-properties {h1} fo:keep-with-next="always"/>
   <style:text-properties fo:font-size="{h1_size}" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Heading2" style:family="paragraph">
   <style:paragraph-properties {h2} fo:keep-with-next="always"/>
   <style:text-properties fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="ListPara" style:family="paragraph">
   <style:paragraph-properties {list}/>
  </style:style>
  <style:style style:name="Closing" style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0.5cm" fo:margin-bottom="0.9cm"/>
  </style:style>
  <style:style style:name="TableText" style:family="paragraph">
   <style:text-properties fo:font-size="10pt"/>
  </style:style>
  <style:style style:name="TableHead" style:family="paragraph">
   <style:text-properties fo:font-size="10pt" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Footnote" style:family="paragraph">
   <style:paragraph-properties fo:margin-left="0.5cm" fo:text-indent="-0.5cm"/>
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
  <style:style style:name="Header" style:family="paragraph">
   <style:paragraph-properties><style:tab-stops><style:tab-stop style:position="16cm" style:type="right"/>
   </style:tab-stops></style:paragraph-properties>
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
  <style:style style:name="Logo" style:family="paragraph">
   <style:text-properties fo:font-size="16pt" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Footer" style:family="paragraph">
   <style:paragraph-properties fo:text-align="{footer_align}"/>
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
  <text:list-style style:name="Bullets">
   <text:list-level-style-bullet text:level="1" text:bullet-char="{bullet}">
    <style:list-level-properties text:list-level-position-and-space-mode="label-alignment">
     <style:list-level-label-alignment text:label-followed-by="listtab" text:list-tab-stop-position="1.1cm"
      fo:text-indent="-0.5cm" fo:margin-left="1.1cm"/>
    </style:list-level-properties>
   </text:list-level-style-bullet>
  </text:list-style>
  <text:list-style style:name="Numbers">
   <text:list-level-style-number text:level="1" style:num-format="1" style:num-suffix=".">
    <style:list-level-properties text:list-level-position-and-space-mode="label-alignment">
     <style:list-level-label-alignment text:label-followed-by="listtab" text:list-tab-stop-position="1.1cm"
      fo:text-indent="-0.6cm" fo:margin-left="1.1cm"/>
    </style:list-level-properties>
   </text:list-level-style-number>
  </text:list-style>
  <text:notes-configuration text:note-class="footnote" style:num-format="1" text:start-value="0"
   text:footnotes-position="page" text:start-numbering-at="document"/>
 </office:styles>
 <office:automatic-styles>
  <style:style style:name="Tbl" style:family="table">
   <style:table-properties style:width="16cm" table:align="margins" fo:margin-top="0.15cm"
    fo:margin-bottom="0.3cm"/>
  </style:style>
  <style:style style:name="Cell" style:family="table-cell">
   <style:table-cell-properties {cell} fo:padding="0.1cm"/>
  </style:style>
  <style:style style:name="HeadCell" style:family="table-cell">
   <style:table-cell-properties {head_cell} fo:padding="0.1cm"/>
  </style:style>
"""
    + odf_page_layout("2.5cm", "0.8cm")
    + """ </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   {furniture}
  </style:master-page>
 </office:master-styles>
 <office:body><office:text>
"""
)
_TAIL = " </office:text></office:body>\n</office:document>\n"

_STYLE = {
    "letterhead": "Letterhead",
    "date": "Date",
    "reference": "Reference",
    "title": "Title",
    "closing": "Closing",
    "signature": "Standard",
}
_TABLE = ("table_header", "table_cell")
_NUMBER = re.compile(r"^(\d{1,2})\.\s+")

Row = dict
#: Row index -> (start, end, note xml) for every footnote anchored in that row's text.
Anchors = dict[int, list[tuple[int, int, str]]]


@dataclass(frozen=True)
class Variant:
    """One letter's house style. The defaults are the original one: 6 pt after paragraphs at 115 %,
    Liberation Sans 11 pt, bold headings a point larger, "Høringsinnspill fra …" on every page, "Side X
    av Y", fully ruled tables, and the signature on one line."""

    spacing: str = "after6"  # after6 | blank (empty paragraph between) | indent (1 cm, no space) | word
    font: str = "Liberation Sans"
    size: float = 11.0
    headings: str = "sized"  # sized (bold, larger) | bold (bold at body size) | numbered ("1.", "1.1")
    header: str = "sender"  # sender | sender_date | logo (bold sender line on page 1 only) | none
    footer: str = "side"  # side ("Side X av Y") | number ("2") | slash ("2/3")
    table: str = "grid"  # grid | rules (horizontal rules only) | none (no borders)
    signature: str = "one"  # one ("Name, title") | two (name and title on separate lines)


#: The choices of each style, the original one first.
CHOICES: dict[str, tuple] = {
    "spacing": ("after6", "blank", "indent", "word"),
    "font": ("Liberation Sans", "Liberation Serif", "DejaVu Sans", "DejaVu Serif"),
    "size": (11.0, 10.5, 12.0),
    "headings": ("sized", "bold", "numbered"),
    "header": ("sender", "sender_date", "logo", "none"),
    "footer": ("side", "number", "slash"),
    "table": ("grid", "rules", "none"),
    "signature": ("one", "two"),
}
#: Paragraph separation -> properties of body paragraphs, list items, heading 1 and heading 2.
_SPACING = {
    "after6": (
        'fo:margin-bottom="0.21cm" fo:line-height="115%"',
        'fo:margin-bottom="0.08cm" fo:line-height="115%"',
        'fo:margin-top="0.42cm" fo:margin-bottom="0.14cm"',
        'fo:margin-top="0.3cm" fo:margin-bottom="0.1cm"',
    ),
    "blank": ('fo:line-height="115%"', 'fo:line-height="115%"', "", ""),
    "indent": ('fo:text-indent="1cm"', "", "", ""),
    "word": (
        'fo:margin-bottom="0.35cm"',
        "",
        'fo:margin-top="0.42cm" fo:margin-bottom="0.14cm"',
        'fo:margin-top="0.35cm" fo:margin-bottom="0.1cm"',
    ),
}
_RULE = "0.5pt solid #000000"
#: Table style -> properties of body cells and header cells.
_CELLS = {
    "grid": (f'fo:border="{_RULE}"', f'fo:border="{_RULE}" fo:background-color="#d9d9d9"'),
    "rules": (
        f'fo:border="none" fo:border-bottom="{_RULE}"',
        f'fo:border="none" fo:border-top="{_RULE}" fo:border-bottom="1pt solid #000000"',
    ),
    "none": ('fo:border="none"', 'fo:border="none"'),
}
_PAGE = '<text:page-number text:select-page="current"/>'
_FOOTERS = {
    "side": f"Side {_PAGE} av <text:page-count/>",
    "number": _PAGE,
    "slash": f"{_PAGE}/<text:page-count/>",
}


#: Picked so that the 30 and 40 letters ``fidelity --letters`` scores see every choice at least 5 times.
_SALT = "186:"


def variant_for(doc: str) -> Variant:
    """The house style of one letter, from hashes of its name (one per style axis, so they vary
    independently). The Word-like spacing comes with a sans font, as Word's default does."""

    def choose(axis: str, options: tuple[Any, ...]) -> Any:
        digest = hashlib.sha256(f"{_SALT}{axis}:{doc}".encode()).digest()  # CRCs of similar keys correlate
        return options[int.from_bytes(digest[:4], "big") % len(options)]

    pick = {axis: choose(axis, options) for axis, options in CHOICES.items()}
    if pick["spacing"] == "word" and "Sans" not in pick["font"]:
        pick["font"] = pick["font"].replace("Serif", "Sans")
    return Variant(**pick)


def as_printed(rows: list[Row], variant: Variant) -> list[Row]:
    """The rows as the letter prints them. With numbered headings, an unnumbered top-level heading
    gets the next "N." and a heading under it "N.M"; the heading paths below follow."""
    if variant.headings != "numbered":
        return rows
    open_: list[tuple[str, str]] = []  # the headings in force: (labelled text, printed text)
    top = sub = 0
    out: list[Row] = []
    for row in rows:
        path = row.get("heading_path", [])
        path = [open_[k][1] if k < len(open_) and h == open_[k][0] else h for k, h in enumerate(path)]
        row = {**row, "heading_path": path}
        if row["kind"] in ("heading", "question"):
            m = _NUMBER.match(row["text"])
            if path:
                sub += 1
                number = "" if m else f"{top}.{sub} "
            else:
                top, sub = (int(m.group(1)) if m else top + 1), 0
                number = "" if m else f"{top}. "
            open_ = [*open_[: len(path)], (row["text"], number + row["text"])]
            row["text"] = number + row["text"]
        out.append(row)
    return out


def read_letters(paths: Iterable[Path]) -> dict[str, list[Row]]:
    """Labelled rows of each letter, by document name, in ``seq`` order."""
    letters: dict[str, list[Row]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                letters.setdefault(row["doc"], []).append(row)
    return {doc: sorted(rows, key=lambda r: r["seq"]) for doc, rows in letters.items()}


def running_header(rows: list[Row]) -> str:
    """The header line on every page (page furniture)."""
    nynorsk = rows[0].get("lang") == "nn"
    return (
        f"{'Høyringsinnspel frå' if nynorsk else 'Høringsinnspill fra'} {rows[0].get('sender', '')}".strip()
    )


def _note(row: Row, mark: str) -> str:
    body = escape(row["text"][len(mark) :].strip())
    label = "" if mark.isdigit() else f' text:label="{escape(mark)}"'
    return (
        f'<text:note text:note-class="footnote"><text:note-citation{label}>{escape(mark)}'
        f'</text:note-citation><text:note-body><text:p text:style-name="Footnote">{body}</text:p>'
        "</text:note-body></text:note>"
    )


def _anchors(rows: list[Row]) -> Anchors:
    """Anchor each footnote at its mark ("…hjemme»1 ved") in the nearest earlier row that has one, else
    at the end of the nearest earlier text row."""
    out: Anchors = {}
    for i, row in enumerate(rows):
        if row["kind"] != "footnote" or not row["text"].split():
            continue
        mark = row["text"].split()[0]
        pattern = re.compile(rf"(?<=[^\s\d])(?<!\d\.){re.escape(mark)}(?!\d)")  # not the "1" of "1.1"
        earlier = [j for j in range(i - 1, -1, -1) if rows[j]["kind"] not in ("footnote", "table_header")]
        for j in earlier:
            m = pattern.search(rows[j]["text"])
            if m:
                out.setdefault(j, []).append((m.start(), m.end(), _note(row, mark)))
                break
        else:
            carrier: int | None = next(
                (k for k in earlier if rows[k]["kind"] in ("paragraph", "lead_in", "bullet", "table_cell")),
                earlier[0] if earlier else None,
            )
            if carrier is not None:
                end = len(rows[carrier]["text"])
                out.setdefault(carrier, []).append((end, end, _note(row, mark)))
    return out


def _inline(text: str, notes: list[tuple[int, int, str]]) -> str:
    out, at = [], 0
    for start, end, xml in sorted(notes):
        out += [escape(text[at:start]), xml]
        at = end
    return "".join([*out, escape(text[at:])])


def _para(style: str, content: str) -> str:
    return f'  <text:p text:style-name="{style}">{content}</text:p>\n'


def _list(items: list[tuple[int, Row]], anchors: Anchors) -> str:
    """A bullet list, or a numbered list where the items are written "1. …", "2. …" in sequence."""
    numbers = [_NUMBER.match(r["text"]) for _, r in items]
    values = [int(m.group(1)) for m in numbers if m is not None]
    numbered = len(values) == len(numbers) and all(n == values[0] + k for k, n in enumerate(values))
    out = [f'  <text:list text:style-name="{"Numbers" if numbered else "Bullets"}">']
    for k, ((i, row), m) in enumerate(zip(items, numbers)):
        cut = m.end() if numbered and m else 0
        notes = [(s - cut, e - cut, x) for s, e, x in anchors.get(i, [])]
        start = f' text:start-value="{m.group(1)}"' if numbered and m and k == 0 else ""
        out.append(
            f"<text:list-item{start}>{_para('ListPara', _inline(row['text'][cut:], notes)).strip()}"
            "</text:list-item>"
        )
    return "\n".join(out) + "</text:list>\n"


def _table(items: list[tuple[int, Row]], anchors: Anchors) -> str:
    """A ruled table: the ``table_header`` rows as a repeated header row, then cells by row and column.
    A header row with fewer texts than columns lets its last text span the rest."""
    heads = [r for _, r in items if r["kind"] == "table_header"]
    cells: dict[int, dict[int, list[str]]] = {}
    for i, row in items:
        if row["kind"] == "table_cell":
            para = _para("TableText", _inline(row["text"], anchors.get(i, [])))
            cells.setdefault(int(row.get("row", 0)), {}).setdefault(int(row.get("col", 0)), []).append(para)
    ncols = max([len(heads)] + [c + 1 for cols in cells.values() for c in cols])
    out = [
        f'  <table:table table:style-name="Tbl"><table:table-column table:number-columns-repeated="{ncols}"/>\n'
    ]
    if heads:
        out.append("<table:table-header-rows><table:table-row>")
        for k, head in enumerate(heads):
            span = ncols - len(heads) + 1 if k == len(heads) - 1 else 1
            out.append(
                f'<table:table-cell table:style-name="HeadCell" table:number-columns-spanned="{span}" '
                f'office:value-type="string">{_para("TableHead", escape(head["text"])).strip()}'
                "</table:table-cell>" + "<table:covered-table-cell/>" * (span - 1)
            )
        out.append("</table:table-row></table:table-header-rows>\n")
    for r in sorted(cells):
        out.append("<table:table-row>")
        for c in range(ncols):
            content = "".join(cells[r].get(c, [])) or _para("TableText", "")
            out.append(
                f'<table:table-cell table:style-name="Cell" office:value-type="string">{content}'
                "</table:table-cell>"
            )
        out.append("</table:table-row>\n")
    return "".join(out) + "  </table:table>\n"


def _runs(rows: list[Row]) -> list[tuple[str, list[tuple[int, Row]]]]:
    """Consecutive rows grouped into lists, tables and single paragraphs (footnotes left out)."""
    runs: list[tuple[str, list[tuple[int, Row]]]] = []
    for i, row in enumerate(rows):
        kind = row["kind"]
        group = "list" if kind == "bullet" else "table" if kind in _TABLE else "para"
        if kind == "footnote":
            continue
        last = runs[-1] if runs else None
        if last and group != "para" and last[0] == group and not _new_table(last[1][-1][1], row):
            last[1].append((i, row))
        else:
            runs.append((group, [(i, row)]))
    return runs


def _new_table(prev: Row, row: Row) -> bool:
    """A header after body cells, or a row number going back, starts another table."""
    if row["kind"] not in _TABLE:
        return False
    if row["kind"] == "table_header":
        return prev["kind"] == "table_cell"
    return prev["kind"] == "table_cell" and int(row.get("row", 0)) < int(prev.get("row", 0))


def _size(points: float) -> str:
    return f"{points:g}pt"


def _furniture(rows: list[Row], variant: Variant) -> str:
    """The master page's header and footer. The header is the running header line, the sender and the
    letter's date (tabbed to the right edge), a bold sender line on the first page only, or nothing."""
    footer = f'<text:p text:style-name="Footer">{_FOOTERS[variant.footer]}</text:p>'
    footers = f"<style:footer>{footer}</style:footer>"
    if variant.header == "none" or not rows:
        return footers
    sender = escape(rows[0].get("sender", ""))
    if variant.header == "logo":  # a first page of its own needs its own footer too
        return (
            f'<style:header><text:p text:style-name="Header"/></style:header><style:header-first><text:p '
            f'text:style-name="Logo">{sender}</text:p></style:header-first>{footers}'
            f"<style:footer-first>{footer}</style:footer-first>"
        )
    text = escape(running_header(rows))
    if variant.header == "sender_date":
        date = re.sub(r"^Dato:\s*", "", next((r["text"] for r in rows if r["kind"] == "date"), ""))
        text = f"{sender}<text:tab/>{escape(date)}"
    return f'<style:header><text:p text:style-name="Header">{text}</text:p></style:header>{footers}'


def _signature(text: str, variant: Variant) -> str:
    """A signature on one line, or name and title on two ("Kari Nordmann" / "kommunalsjef")."""
    name, comma, title = text.partition(", ")
    if variant.signature == "two" and comma:
        return _para("Standard", escape(name)) + _para("Standard", escape(title))
    return _para("Standard", escape(text))


def _blank_before(prev: Row | None, row: Row) -> bool:
    """Where a letter that separates paragraphs by empty lines has one: between blocks, but not under a
    heading, between letterhead lines, or in the signature block."""
    if prev is None or prev["kind"] in ("heading", "question") or row["kind"] == "signature":
        return False
    return not (prev["kind"] == row["kind"] == "letterhead")


def letter_fodt(rows: list[Row], variant: Variant | None = None) -> str:
    """The flat ODT of one letter in a house style (the original one unless given; a letter's own is
    :func:`variant_for`). Its body alignment, bullet glyph and letterhead weight vary by document in
    every style: justified or ragged; "•" or, for a third, "–"; a bold letterhead for another third."""
    doc = rows[0]["doc"] if rows else ""
    variant = variant or Variant()
    rows = as_printed(rows, variant)
    pick = zlib.crc32(doc.encode()) if rows else 0
    body_props, list_props, h1, h2 = _SPACING[variant.spacing]
    cell, head_cell = _CELLS[variant.table]
    head = _HEAD.format(
        lang="nn" if rows and rows[0].get("lang") == "nn" else "nb",
        align="justify" if pick % 2 else "start",
        bullet="–" if pick % 3 == 0 else "•",
        letterhead_weight="bold" if pick % 3 == 1 else "normal",
        font=variant.font,
        size=_size(variant.size),
        title_size=_size(variant.size + 3),
        body=body_props,
        list=list_props,
        h1=h1,
        h2=h2,
        cell=cell,
        head_cell=head_cell,
        h1_size=_size(variant.size + (0 if variant.headings == "bold" else 1)),
        furniture=_furniture(rows, variant),
        footer_align="end" if variant.footer == "number" else "center",
    )
    anchors = _anchors(rows)
    body: list[str] = []
    prev: Row | None = None
    for group, items in _runs(rows):
        i, row = items[0]
        if variant.spacing == "blank" and _blank_before(prev, row):
            body.append(_para("Body", ""))
        prev = items[-1][1]
        if group == "list":
            body.append(_list(items, anchors))
        elif group == "table":
            body.append(_table(items, anchors))
        elif row["kind"] == "signature" and i not in anchors:
            body.append(_signature(row["text"], variant))
        else:
            style = _STYLE.get(row["kind"], "Body")
            if row["kind"] in ("heading", "question"):
                style = "Heading2" if row.get("heading_path") else "Heading1"
            body.append(_para(style, _inline(row["text"], anchors.get(i, []))))
    return head + "".join(body) + _TAIL


def render_letters(
    letters: dict[str, list[Row]],
    out_dir: Path,
    timeout_s: float = 900,
    variants: dict[str, Variant] | None = None,
) -> dict[str, Path]:
    """Every letter as a PDF in ``out_dir`` (in its house style from ``variants``, else the original
    one), converted in one LibreOffice run; returns name -> PDF path."""
    variants = variants or {}
    return fodt_to_pdf(
        {name: letter_fodt(rows, variants.get(name)) for name, rows in letters.items()}, out_dir, timeout_s
    )
