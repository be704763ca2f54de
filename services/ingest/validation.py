"""What an upload must be: a PDF or a Word (.docx) file, judged by its bytes, not by its claimed type."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_UNSAFE = re.compile(r"[^\w.\- ()æøåÆØÅ]+", re.UNICODE)


class RejectedUpload(Exception):
    """An upload that is refused, with the HTTP status and machine-readable code to report."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def sniff_content_type(head: bytes, path: Path) -> str:
    """Return PDF or DOCX from the file's leading bytes (and zip directory), or raise 415."""
    if head.lstrip(b"\x00\t\r\n \xef\xbb\xbf")[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return PDF
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                if "word/document.xml" in zf.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            pass
        raise RejectedUpload(415, "unsupported_type", "a zip archive that is not a Word (.docx) document")
    raise RejectedUpload(415, "unsupported_type", "only PDF and Word (.docx) documents are accepted")


def sanitize_filename(name: str | None, fallback: str = "document") -> str:
    """A display name only: path parts dropped, control and odd characters replaced, length capped.
    It is never used to build a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    return (base or fallback)[:200]
