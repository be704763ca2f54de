"""Parsing the segment filters once, for the JSON API, the web UI and the exports alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.store.queries import SegmentFilter
from shared.events import LABELS


class FilterError(ValueError):
    """A filter value that is not one the store knows (the message says which and what is allowed)."""


def parse_segment_filter(
    label: str | None = None, q: str | None = None, document_id: str | None = None, sender: str | None = None
) -> SegmentFilter:
    """Empty values mean "no filter"; an unknown label raises :class:`FilterError`."""
    if label and label not in LABELS:
        raise FilterError(f"unknown label {label!r}; choose one of {', '.join(LABELS)}")
    return SegmentFilter(label=label or None, q=q or None, document_id=document_id or None, sender=sender or None)


def segment_filter_params(
    label: Annotated[str | None, Query(description="challenge, measure, example or other")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to search for in the segments")] = None,
    document_id: Annotated[str | None, Query(max_length=64)] = None,
    sender: Annotated[str | None, Query(max_length=500, description="Exact sender name")] = None,
) -> dict[str, str | None]:
    """The query parameters of a segment filter, validated for length (FastAPI dependency)."""
    return {"label": label, "q": q, "document_id": document_id, "sender": sender}
