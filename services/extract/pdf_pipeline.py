"""The PDF path as a pipeline: every page passes through the same list of page stages, then the
document through a list of document stages, each a function of one signature that reads and adds to
the state it is given (as Docling's PDF pipeline passes pages through a list of page models and then
assembles the document).

    PAGE_STAGES:     read_text_layer -> ocr_missing_text -> release_page       (doc, page) -> None
    DOCUMENT_STAGES: check_text -> split_page_furniture -> measure_layout -> assemble_blocks   (doc) -> None

The result is the intermediate every reader produces: :class:`~services.extract.model.Block` s in
reading order, the document's :class:`Layout`, and its page furniture; ``engine`` turns those into
segments and metadata, as it does for Word files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.extract import guards, ocr
from services.extract.borderless import borderless_tables
from services.extract.furniture import BAND, split_furniture
from services.extract.layout import Layout
from services.extract.model import (
    CORRUPT,
    ENCRYPTED,
    NO_TEXT,
    TOO_MANY_PAGES,
    Block,
    ExtractionError,
    Limits,
    Line,
    Table,
    Vocabulary,
)
from services.extract.pdf_lines import inside, page_words, words_to_lines
from services.extract.row_labels import mark_row_blocks, split_row_labels
from services.extract.segmenter import BlockBuilder, footnote_blocks, split_footnotes
from services.extract.tables import continues, find_tables, join_tables, table_blocks, table_boxes

log = logging.getLogger(__name__)


@dataclass
class PdfPage:
    """One page on its way through the page stages."""

    index: int
    source: Any  # the pdfplumber page, or None where only PDFium sees the page
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    has_text: bool = False
    #: Set by a stage when nothing more can be read from the page (the later stages are skipped).
    done: bool = False

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass
class PdfDocument:
    """The document's state: what the stages have found so far."""

    path: Path
    limits: Limits
    pdf: Any = None
    page_count: int = 0
    ocr_ok: bool = False
    title: str | None = None
    per_page: list[list[Line]] = field(default_factory=list)
    tables: dict[int, list[Table]] = field(default_factory=dict)
    ocr_pages: list[int] = field(default_factory=list)
    failed_pages: int = 0
    needs_ocr: int = 0
    body: list[list[Line]] = field(default_factory=list)
    furniture: list[Line] = field(default_factory=list)
    layout: Layout = field(default_factory=Layout)
    blocks: list[Block] = field(default_factory=list)


PageStage = Callable[[PdfDocument, PdfPage], None]
DocumentStage = Callable[[PdfDocument], None]


# -- opening ---------------------------------------------------------------------------------------------
def _open_pdf(path: Path) -> Any:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(path)
        pages = pdf.pages
    except MemoryError:
        raise
    except Exception as exc:
        # pdfplumber wraps pdfminer's errors; look at the wrapped one too.
        causes = [exc, *[a for a in exc.args if isinstance(a, BaseException)], exc.__cause__, exc.__context__]
        if any(isinstance(c, (PDFPasswordIncorrect, PDFEncryptionError)) for c in causes):
            raise ExtractionError(ENCRYPTED, "the PDF is password-protected") from exc
        if any(isinstance(c, RecursionError) for c in causes):
            raise ExtractionError(CORRUPT, "the PDF's structure is nested too deeply to parse") from exc
        inner = next((c for c in causes[1:] if c is not None), exc)
        raise ExtractionError(
            CORRUPT, f"the PDF cannot be parsed ({type(inner).__name__}: {inner})"[:300]
        ) from exc
    return pdf, pages


def _pdfium_page_count(path: Path) -> int:
    try:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(path))
        try:
            return len(doc)
        finally:
            doc.close()
    except Exception:
        return 0


def _page_size(path: Path, index: int) -> tuple[float, float]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        w, h = doc[index].get_size()
        return float(w), float(h)
    finally:
        doc.close()


# -- page stages -----------------------------------------------------------------------------------------
def read_text_layer(doc: PdfDocument, page: PdfPage) -> None:
    """Words, ruled tables and the lines outside them; whether the page has body text at all."""
    if page.source is None:
        return
    try:
        words = page_words(page.source)
        size = (float(page.source.width), float(page.source.height))
        found = find_tables(page.source, page.number, words)
        found += borderless_tables(words, page.number, size, table_boxes(found))
        boxes = table_boxes(found)
        page.lines = words_to_lines([w for w in words if not (boxes and inside(w, boxes))], page.number, size)
        page.tables = found
        page.has_text = bool(found) or _has_body_text(page.source, page.lines)
    except MemoryError:
        raise
    except Exception as exc:
        if "memory" in str(exc).lower():
            raise MemoryError(str(exc)) from exc
        log.warning("page unreadable", extra={"page": page.number, "error": repr(exc)})
        doc.failed_pages += 1
        page.has_text = False
        if isinstance(exc, RecursionError):
            page.lines, page.done = [], True


def ocr_missing_text(doc: PdfDocument, page: PdfPage) -> None:
    """A page without a text layer worth reading goes through OCR, where OCR is available."""
    if page.has_text:
        return
    doc.needs_ocr += 1
    if not doc.ocr_ok:
        return
    limits = doc.limits
    try:
        size = (
            (float(page.source.width), float(page.source.height))
            if page.source is not None
            else _page_size(doc.path, page.index)
        )
        found_lines = ocr.ocr_page(
            doc.path, page.index, size, limits.ocr_languages, timeout_s=limits.timeout_s
        )
        # Keep the text layer's own lines (stamped headers); OCR fills in the rest.
        found_lines = [
            o
            for o in found_lines
            if not any(min(o.bottom, ln.bottom) - max(o.top, ln.top) > 0 for ln in page.lines)
        ]
        if found_lines:
            doc.ocr_pages.append(page.number)
            page.lines = sorted(page.lines + found_lines, key=lambda ln: (ln.top, ln.x0))
    except MemoryError:
        raise
    except Exception as exc:
        log.warning("OCR failed", extra={"page": page.number, "error": repr(exc)})


def release_page(doc: PdfDocument, page: PdfPage) -> None:
    if page.source is not None:
        page.source.close()  # frees pdfplumber's per-page caches


PAGE_STAGES: list[PageStage] = [read_text_layer, ocr_missing_text, release_page]


def _has_body_text(page: Any, lines: list[Line]) -> bool:
    """Whether the page has a text layer worth reading. A page whose only text sits in the header and
    footer bands over a page-sized image is a scan with stamped furniture: it needs OCR too."""
    body = [ln for ln in lines if not _in_band(ln)]
    if body:
        return True
    if not lines:
        return False
    area = float(page.width) * float(page.height)
    covered = sum(float(im["width"]) * float(im["height"]) for im in page.images) if area else 0.0
    return covered < 0.4 * area


def _in_band(line: Line) -> bool:
    return line.top < BAND * line.page_height or line.bottom > (1 - BAND) * line.page_height


# -- document stages -------------------------------------------------------------------------------------
def check_text(doc: PdfDocument) -> None:
    """Fail clearly when no page could be read or no text was found."""
    if doc.failed_pages and doc.failed_pages == doc.page_count:
        raise ExtractionError(CORRUPT, "no page of the PDF could be read")
    if not any(doc.per_page) and not doc.tables:
        if doc.needs_ocr and not doc.ocr_ok:
            raise ExtractionError(NO_TEXT, "the PDF has no text layer and OCR is not available")
        raise ExtractionError(
            NO_TEXT,
            "no text found in the PDF (OCR found none either)"
            if doc.needs_ocr
            else "no text found in the PDF",
        )


def split_page_furniture(doc: PdfDocument) -> None:
    """Running headers, footers and page numbers apart from the body."""
    doc.body, doc.furniture = split_furniture(doc.per_page)
    if not any(doc.body):
        # Every line repeats on every page: that repetition is the document, not furniture around it.
        doc.body, doc.furniture = doc.per_page, []


def measure_layout(doc: PdfDocument) -> None:
    doc.layout = Layout.measure([ln for page in doc.body for ln in page])


def cut_row_labels(doc: PdfDocument) -> None:
    """Row labels of tables flattened into text lines apart from their cells (``row_labels``)."""
    doc.body = split_row_labels(doc.body, doc.layout)


def assemble_blocks(doc: PdfDocument) -> None:
    """Body lines and tables into blocks in reading order."""
    vocab = Vocabulary(ln.text for page in doc.body for ln in page)
    doc.blocks = build_blocks(doc.body, doc.tables, doc.layout, vocab)
    mark_row_blocks(doc.blocks)
    if not doc.blocks:
        raise ExtractionError(NO_TEXT, "the PDF holds only page furniture (headers, footers, page numbers)")


DOCUMENT_STAGES: list[DocumentStage] = [
    check_text,
    split_page_furniture,
    measure_layout,
    cut_row_labels,
    assemble_blocks,
]


def run(path: Path, limits: Limits) -> PdfDocument:
    """Open the PDF, pass every page through ``PAGE_STAGES`` and the document through
    ``DOCUMENT_STAGES``; raise :class:`ExtractionError` for a document that cannot be extracted."""
    guards.install()
    doc = PdfDocument(path=Path(path), limits=limits)
    pdf, pages = _open_pdf(doc.path)
    with pdf:
        doc.pdf = pdf
        doc.page_count = len(pages)
        if doc.page_count == 0:
            doc.page_count = _pdfium_page_count(doc.path)  # pdfminer misses some page trees PDFium reads
            pages = []
        if doc.page_count > limits.max_pages:
            raise ExtractionError(
                TOO_MANY_PAGES, f"the PDF has {doc.page_count} pages; the limit is {limits.max_pages}"
            )
        doc.ocr_ok = limits.ocr_enabled and ocr.available(limits.ocr_languages)
        for index in range(doc.page_count):
            page = PdfPage(index=index, source=pages[index] if index < len(pages) else None)
            for page_stage in PAGE_STAGES:
                page_stage(doc, page)
                if page.done:
                    break
            doc.per_page.append(page.lines)
            if page.tables:
                doc.tables[page.number] = page.tables
        doc.title = _as_text((pdf.metadata or {}).get("Title")) if hasattr(pdf, "metadata") else None
    for document_stage in DOCUMENT_STAGES:
        document_stage(doc)
    return doc


def _as_text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


# -- reading order ---------------------------------------------------------------------------------------
def build_blocks(
    pages: list[list[Line]], tables: dict[int, list[Table]], layout: Layout, vocab: Vocabulary
) -> list[Block]:
    """All blocks of the document in reading order; a paragraph may run across a page break, and so may
    a table (its blocks are made once nothing can continue it)."""
    builder = BlockBuilder(layout, vocab)
    prev: Line | None = None
    pending_notes: list[Block] = []
    open_table: Table | None = None

    def flush_table() -> None:
        nonlocal open_table
        if open_table is not None:
            builder.blocks.extend(table_blocks(open_table, layout, vocab))
            open_table = None

    for index, page_lines in enumerate(pages):
        page_no = index + 1
        body, notes = split_footnotes(page_lines, layout)
        items: list[tuple[float, int, Line | Table]] = [(ln.top, 0, ln) for ln in body]
        items += [(t.top, 1, t) for t in tables.get(page_no, [])]
        items.sort(key=lambda it: (it[0], it[1]))
        for _, _, item in items:
            if isinstance(item, Table):
                if open_table is not None and continues(open_table, item):
                    open_table = join_tables(open_table, item)
                    continue
                flush_table()
                builder.close()
                builder.blocks.extend(pending_notes)
                pending_notes = []
                open_table = item
                prev = None
                continue
            flush_table()
            if pending_notes and (
                builder.current is None or prev is None or builder.new_block(builder.current, prev, item)
            ):
                builder.close()
                builder.blocks.extend(pending_notes)
                pending_notes = []
            builder.feed(item, prev)
            prev = item
        pending_notes.extend(footnote_blocks(notes, layout, vocab))
    flush_table()
    builder.close()
    builder.blocks.extend(pending_notes)
    return builder.blocks
