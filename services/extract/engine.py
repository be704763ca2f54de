"""The extraction engine: a PDF or Word file in, segments with heading paths and metadata out.

A pure library: no Kafka, no settings object. ``extract_document`` raises :class:`ExtractionError`
with a stable code for every document it cannot handle. Run it through ``sandbox.extract_in_sandbox``
to bound its time and memory.
"""

from __future__ import annotations

import logging
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from services.extract import ocr
from services.extract.docx_reader import read_docx
from services.extract.furniture import BAND, split_furniture
from services.extract.headings import classify_blocks
from services.extract.layout import Layout
from services.extract.metadata import find_metadata
from services.extract.model import (
    CORRUPT,
    ENCRYPTED,
    NO_TEXT,
    RESOURCE_LIMIT,
    TOO_MANY_PAGES,
    UNSUPPORTED_TYPE,
    ExtractionError,
    ExtractionResult,
    Limits,
    Line,
    Metadata,
    Segment,
    Table,
)
from services.extract.pdf_lines import inside, page_words, words_to_lines
from services.extract.segmenter import Block, Vocabulary, build_blocks
from services.extract.tables import find_tables, table_boxes

log = logging.getLogger(__name__)

#: pdfminer.six releases before this one unpickle CMap files named by a PDF (CVE-2025-64512).
PDFMINER_MIN = 20251107
EXTRACTOR_VERSION = "1"


def check_pdfminer() -> None:
    """Refuse to run on a pdfminer.six that loads pickled CMaps."""
    installed = version("pdfminer.six")
    if int(installed.split(".")[0]) < PDFMINER_MIN:
        raise RuntimeError(
            f"pdfminer.six {installed} is vulnerable to CVE-2025-64512; need >= {PDFMINER_MIN}"
        )


def sniff(path: Path, filename: str | None = None, content_type: str | None = None) -> str:
    """ "pdf" or "docx", judged by the bytes first and the declared name/type second."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" in head:
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
    declared = f"{filename or ''} {content_type or ''}".lower()
    if "pdf" in declared:
        raise ExtractionError(CORRUPT, "the file is declared as PDF but is not a readable PDF")
    if "docx" in declared or "wordprocessingml" in declared:
        raise ExtractionError(CORRUPT, "the file is declared as a Word document but is not a readable .docx")
    raise ExtractionError(UNSUPPORTED_TYPE, "only PDF and Word (.docx) documents can be extracted")


def extract_document(
    path: Path, limits: Limits | None = None, filename: str | None = None, content_type: str | None = None
) -> ExtractionResult:
    limits = limits or Limits()
    path = Path(path)
    if path.stat().st_size == 0:
        raise ExtractionError(CORRUPT, "the file is empty")
    kind = sniff(path, filename, content_type)
    if kind == "docx":
        return _extract_docx(path)
    return _extract_pdf(path, limits)


# -- Word -------------------------------------------------------------------------------------------
def _extract_docx(path: Path) -> ExtractionResult:
    blocks, props, _ = read_docx(path)
    if not any(b.text.strip() for b in blocks):
        raise ExtractionError(NO_TEXT, "the Word document contains no text")
    layout = Layout.measure([ln for b in blocks for ln in b.lines])
    result = _finish(blocks, layout, furniture=[], page_count=1, ocr_pages=[], pdf_title=props.title)
    result.metadata.date = result.metadata.date or props.date
    return result


# -- PDF --------------------------------------------------------------------------------------------
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


def _extract_pdf(path: Path, limits: Limits) -> ExtractionResult:
    check_pdfminer()
    pdf, pages = _open_pdf(path)
    with pdf:
        page_count = len(pages)
        if page_count == 0:
            page_count = _pdfium_page_count(path)  # pdfminer misses some page trees that PDFium reads
            pages = []
        if page_count > limits.max_pages:
            raise ExtractionError(
                TOO_MANY_PAGES, f"the PDF has {page_count} pages; the limit is {limits.max_pages}"
            )
        ocr_ok = limits.ocr_enabled and ocr.available(limits.ocr_languages)
        per_page: list[list[Line]] = []
        tables: dict[int, list[Table]] = {}
        ocr_pages: list[int] = []
        failed_pages = 0
        needs_ocr = 0
        for index in range(page_count):
            page_no = index + 1
            lines: list[Line] = []
            page = pages[index] if index < len(pages) else None
            if page is not None:
                try:
                    words = page_words(page)
                    found = find_tables(page, page_no, words)
                    boxes = table_boxes(found)
                    lines = words_to_lines(
                        [w for w in words if not (boxes and inside(w, boxes))],
                        page_no,
                        (float(page.width), float(page.height)),
                    )
                    if found:
                        tables[page_no] = found
                    has_text = bool(found) or _has_body_text(page, lines)
                except MemoryError:
                    raise
                except Exception as exc:
                    if "memory" in str(exc).lower():
                        raise MemoryError(str(exc)) from exc
                    log.warning("page unreadable", extra={"page": page_no, "error": repr(exc)})
                    failed_pages += 1
                    has_text = False
                    if isinstance(exc, RecursionError):
                        per_page.append([])
                        continue
            else:
                has_text = False
            if not has_text:
                needs_ocr += 1
                if ocr_ok:
                    try:
                        size = (
                            (float(page.width), float(page.height))
                            if page is not None
                            else _page_size(path, index)
                        )
                        found_lines = ocr.ocr_page(
                            path, index, size, limits.ocr_languages, timeout_s=limits.timeout_s
                        )
                        # Keep the text layer's own lines (stamped headers); OCR fills in the rest.
                        found_lines = [
                            o
                            for o in found_lines
                            if not any(min(o.bottom, ln.bottom) - max(o.top, ln.top) > 0 for ln in lines)
                        ]
                        if found_lines:
                            ocr_pages.append(page_no)
                            lines = sorted(lines + found_lines, key=lambda ln: (ln.top, ln.x0))
                    except MemoryError:
                        raise
                    except Exception as exc:
                        log.warning("OCR failed", extra={"page": page_no, "error": repr(exc)})
            per_page.append(lines)
            if page is not None:
                page.close()  # frees pdfplumber's per-page caches
        pdf_title = (pdf.metadata or {}).get("Title") if hasattr(pdf, "metadata") else None

    if failed_pages and failed_pages == page_count:
        raise ExtractionError(CORRUPT, "no page of the PDF could be read")
    if not any(per_page) and not tables:
        if needs_ocr and not ocr_ok:
            raise ExtractionError(NO_TEXT, "the PDF has no text layer and OCR is not available")
        raise ExtractionError(
            NO_TEXT,
            "no text found in the PDF (OCR found none either)" if needs_ocr else "no text found in the PDF",
        )

    body, furniture = split_furniture(per_page)
    if not any(body):
        # Every line repeats on every page: that repetition is the document, not furniture around it.
        body, furniture = per_page, []
    layout = Layout.measure([ln for page in body for ln in page])
    vocab = Vocabulary(ln.text for page in body for ln in page)
    blocks = build_blocks(body, tables, layout, vocab)
    if not blocks:
        raise ExtractionError(NO_TEXT, "the PDF holds only page furniture (headers, footers, page numbers)")
    return _finish(blocks, layout, furniture, page_count, ocr_pages, _as_text(pdf_title))


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


def _as_text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def _finish(
    blocks: list[Block],
    layout: Layout,
    furniture: list[Line],
    page_count: int,
    ocr_pages: list[int],
    pdf_title: str | None,
) -> ExtractionResult:
    paths = classify_blocks(blocks, layout)
    segments = [
        Segment(text=b.text, page=b.page, kind=b.kind, heading_path=path, ocr=b.ocr)
        for b, path in zip(blocks, paths)
        if b.text.strip()
    ]
    metadata: Metadata = find_metadata(blocks, furniture, pdf_title)
    return ExtractionResult(
        segments=segments,
        page_count=page_count,
        metadata=metadata,
        ocr_pages=ocr_pages,
        furniture=[ln.text for ln in furniture],
    )


__all__ = [
    "RESOURCE_LIMIT",
    "ExtractionError",
    "ExtractionResult",
    "Limits",
    "check_pdfminer",
    "extract_document",
    "sniff",
]
