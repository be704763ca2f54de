"""What kind of document a file is, judged by its bytes: the one sniffer ingest and extract share.

Ingest refuses anything else with a 415; extract turns it into its own error codes. Both read the same
leading bytes (:data:`HEAD_BYTES`) and ask the same question, so a file ingest accepted is one extract
recognises.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

FileKind = Literal["pdf", "docx"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: The media type of each kind of document innspill reads.
MEDIA_TYPES: dict[FileKind, str] = {"pdf": PDF, "docx": DOCX}

#: How many leading bytes the sniffer looks at (a PDF header may follow some junk within them).
HEAD_BYTES = 1024


def read_head(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` of a file."""
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def is_zip(head: bytes) -> bool:
    """The bytes open a zip archive (every .docx is one, but not every zip is a .docx)."""
    return head[:4] == b"PK\x03\x04"


def sniff(head: bytes, path: Path) -> FileKind | None:
    """``"pdf"`` or ``"docx"`` from the file's leading bytes (and, for a zip, its directory); ``None`` when
    it is neither. ``head`` is the start of the file at ``path`` (at least :data:`HEAD_BYTES` of it when the
    file is that long)."""
    if b"%PDF-" in head[:HEAD_BYTES]:
        return "pdf"
    if is_zip(head):
        try:
            with zipfile.ZipFile(path) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
    return None
