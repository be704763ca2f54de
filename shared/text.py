"""Text helpers the services share."""

from __future__ import annotations

from collections.abc import Iterable

#: Between the headings of a heading path written as one line (exports, the classifier's input).
HEADING_SEPARATOR = " > "


def heading_path_text(heading_path: Iterable[str] | None) -> str:
    """A heading path as one line, outermost heading first: ``"Innledning > Utfordringer"``. Headings are
    trimmed and empty ones left out."""
    return HEADING_SEPARATOR.join(h.strip() for h in heading_path or () if h and h.strip())
