"""The extraction engine's data model: lines in, segments out, and the errors it reports.

Everything here is plain data (picklable), so a sandboxed child process can hand results back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
#: The extraction succeeded but a segment is too large for one event on the broker.
OUTPUT_TOO_LARGE = "output_too_large"

_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)

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
    #: Where a flattened table row was cut (``row_labels``): "label" or "cell"; "" for a whole line.
    part: str = ""

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
class Block:
    """The central intermediate: one future segment (a paragraph, list item, table cell, footnote, ...)
    with the lines it came from. Every reader (PDF, Word) produces blocks; heading detection types them
    and gives them heading paths; they become :class:`Segment` s."""

    lines: list[Line]
    text: str
    kind: str = PARAGRAPH
    bullet: bool = False
    numbered: bool = False
    #: Extra heading path inside a table: column header, row label.
    extra_path: list[str] = field(default_factory=list)
    #: Vertical gap before the block, in line pitches (0 at the top of a page).
    gap_before: float = 0.0
    gap_after: float = 0.0
    level: float | None = None
    #: A bare lead-in label ("Premisser:") that heads the list right after it.
    label: bool = False

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def ocr(self) -> bool:
        return any(ln.ocr for ln in self.lines)

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def last(self) -> Line:
        return self.lines[-1]


class Vocabulary:
    """Words of the whole document, to tell a hyphenated line break that split a word from a real
    compound hyphen: the hyphen goes only when the joined word occurs elsewhere and the hyphenated
    form does not."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words: set[str] = set()
        for text in texts:
            self.words.update(w.lower() for w in _WORDS.findall(text))

    def keep_hyphen(self, left: str, right: str) -> bool:
        a = _WORDS.findall(left[:-1])
        b = _WORDS.findall(right)
        if not a or not b:
            return True
        head, tail = a[-1], b[0]
        if head.isupper() or not head[-1:].islower() or not tail[:1].islower():
            return True
        joined = (head + tail).lower()
        hyphenated = f"{head}-{tail}".lower()
        return not (joined in self.words and hyphenated not in self.words)


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
    #: One of ``shared.events.SENDER_KINDS``.
    sender_kind: str = "ukjent"
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
