"""The extraction engine: a PDF or Word file in, segments with heading paths and metadata out.

Each format has a reader that produces the same intermediate, :class:`~services.extract.model.Block` s
in reading order with the document's :class:`Layout` (``pdf_pipeline`` for PDF, a list of page and
document stages; ``docx_reader`` for Word); ``_finish`` types the blocks (headings, questions, letter
furniture), gives them heading paths, finds the metadata and makes the segments.

A pure library: no Kafka, no settings object. ``extract_document`` raises :class:`ExtractionError`
with a stable code for every document it cannot handle. Run it through ``sandbox.extract_in_sandbox``
to bound its time and memory.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

from services.extract import pdf_pipeline
from services.extract.docx_reader import read_docx
from services.extract.headings import classify_blocks
from services.extract.layout import Layout
from services.extract.metadata import find_metadata
from services.extract.model import (
    CORRUPT,
    NO_TEXT,
    RESOURCE_LIMIT,
    UNSUPPORTED_TYPE,
    Block,
    ExtractionError,
    ExtractionResult,
    Limits,
    Line,
    Metadata,
    Segment,
)
from shared.events import EXTRACTOR_VERSION
from shared.filetypes import FileKind, read_head
from shared.filetypes import sniff as sniff_bytes

log = logging.getLogger(__name__)

#: pdfminer.six releases before this one unpickle CMap files named by a PDF (CVE-2025-64512).
PDFMINER_MIN = 20251107


def check_pdfminer() -> None:
    """Refuse to run on a pdfminer.six that loads pickled CMaps."""
    installed = version("pdfminer.six")
    if int(installed.split(".")[0]) < PDFMINER_MIN:
        raise RuntimeError(
            f"pdfminer.six {installed} is vulnerable to CVE-2025-64512; need >= {PDFMINER_MIN}"
        )


def sniff(path: Path, filename: str | None = None, content_type: str | None = None) -> FileKind:
    """ "pdf" or "docx", judged by the bytes first and the declared name/type second."""
    kind = sniff_bytes(read_head(path), path)
    if kind is not None:
        return kind
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
def _extract_pdf(path: Path, limits: Limits) -> ExtractionResult:
    check_pdfminer()
    doc = pdf_pipeline.run(path, limits)
    return _finish(doc.blocks, doc.layout, doc.furniture, doc.page_count, doc.ocr_pages, doc.title)


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
    "EXTRACTOR_VERSION",
    "RESOURCE_LIMIT",
    "ExtractionError",
    "ExtractionResult",
    "Limits",
    "check_pdfminer",
    "extract_document",
    "sniff",
]
