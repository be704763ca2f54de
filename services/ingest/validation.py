"""What an upload must be: a PDF or a Word (.docx) file, judged by its bytes, not by its claimed type."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from shared.filetypes import MEDIA_TYPES, is_zip, sniff

_UNSAFE = re.compile(r"[^\w.\- ()æøåÆØÅ]+", re.UNICODE)


class RejectedUpload(Exception):
    """An upload that is refused, with the HTTP status and machine-readable code to report."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def sniff_content_type(head: bytes, path: Path) -> str:
    """The media type (``shared.filetypes.PDF`` or ``DOCX``) from the file's leading bytes (and zip directory), or raise 415."""
    kind = sniff(head, path)
    if kind is not None:
        return MEDIA_TYPES[kind]
    if is_zip(head):
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
