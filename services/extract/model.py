"""The extraction engine's data model: lines in, segments out, and the errors it reports.

Everything here is plain data (picklable), so a sandboxed child process can hand results back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Error codes published on documents.failed (stage "extract").
ENCRYPTED = "encrypted"
CORRUPT = "corrupt"
NO_TEXT = "no_text"
TOO_MANY_PAGES = "too_many_pages"
TIMEOUT = "timeout"
RESOURCE_LIMIT = "resource_limit"
UNSUPPORTED_TYPE = "unsupported_type"
BLOB_MISSING = "blob_missing"

ERROR_CODES = (
    ENCRYPTED,
    CORRUPT,
    NO_TEXT,
    TOO_MANY_PAGES,
    TIMEOUT,
    RESOURCE_LIMIT,
    UNSUPPORTED_TYPE,
    BLOB_MISSING,
)

# Segment kinds.
PARAGRAPH = "paragraph"
LIST_ITEM = "list_item"
LEAD_IN = "lead_in"
HEADING = "heading"
QUESTION = "question"
TITLE = "title"
LETTER = "letter"  # letter furniture: date, addressee, greeting, signature
TABLE_HEADER = "table_header"
TABLE_CELL = "table_cell"
FOOTNOTE = "footnote"
URL = "url"

#: Kinds that open a section and go into the heading path of what follows.
HEADING_KINDS = frozenset({HEADING, QUESTION})


class ExtractionError(Exception):
    """A document that cannot be extracted, with a stable code and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        return (ExtractionError, (self.code, self.message))


@dataclass(frozen=True)
class Limits:
    """Per-document safety limits (from Settings) and OCR switches."""

    timeout_s: float = 120.0
    max_pages: int = 500
    max_memory_mb: int = 2048
    ocr_enabled: bool = True
    ocr_languages: str = "nor+eng"


@dataclass
class Line:
    """One visual line (or one column chunk of a line) on a page, in PDF points from the page's top-left."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False
    ocr: bool = False
    page_width: float = 595.0
    page_height: float = 842.0

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Table:
    """A ruled table found on a page: the lines of each cell (row-major; None where cells merge)."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    cells: list[list[list[Line] | None]]


@dataclass
class Segment:
    """One unit for classification: a paragraph, list item, table cell, heading, question, ..."""

    text: str
    page: int
    kind: str = PARAGRAPH
    heading_path: list[str] = field(default_factory=list)
    ocr: bool = False


@dataclass
class Metadata:
    sender: str | None = None
    date: str | None = None
    title: str | None = None


@dataclass
class SectionInfo:
    heading_path: list[str]
    page: int
    segment_count: int


@dataclass
class ExtractionResult:
    segments: list[Segment]
    page_count: int
    metadata: Metadata = field(default_factory=Metadata)
    ocr_pages: list[int] = field(default_factory=list)
    furniture: list[str] = field(default_factory=list)

    @property
    def sections(self) -> list[SectionInfo]:
        """Consecutive runs of segments that share a heading path, with where they start."""
        out: list[SectionInfo] = []
        for seg in self.segments:
            if seg.kind in HEADING_KINDS:
                continue
            if out and out[-1].heading_path == seg.heading_path:
                out[-1].segment_count += 1
            else:
                out.append(SectionInfo(list(seg.heading_path), seg.page, 1))
        return out
