"""Parsing the segment filters once, for the JSON API, the web UI and the exports alike."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Query

from services.store.queries import SegmentFilter
from services.store.search import SCOPES, SORTS, parse_query
from services.store.themes.taxonomy import load_taxonomy
from shared.events import LABELS, SENDER_KINDS
from shared.settings import Settings


class FilterError(ValueError):
    """A filter value that is not one the store knows (the message says which and what is allowed)."""


def check_choices(
    label: str | None = None,
    theme: str | None = None,
    sender_kind: str | None = None,
    taxonomy: Path | None = None,
) -> None:
    """Raise :class:`FilterError` for a label, theme (of ``taxonomy``, default: the configured one) or sender
    kind the store does not know; empty values are no filter. Segments and points check the same way."""
    if label and label not in LABELS:
        raise FilterError(f"unknown label {label!r}; choose one of {', '.join(LABELS)}")
    if theme:
        known = load_taxonomy(taxonomy or Settings().taxonomy).ids
        if theme not in known:
            raise FilterError(f"unknown theme {theme!r}; choose one of {', '.join(known)}")
    if sender_kind and sender_kind not in SENDER_KINDS:
        raise FilterError(f"unknown sender kind {sender_kind!r}; choose one of {', '.join(SENDER_KINDS)}")


def _bool(name: str, value: str | None) -> bool | None:
    if not value:
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes", "ja"):
        return True
    if v in ("false", "0", "no", "nei"):
        return False
    raise FilterError(f"{name} must be true or false, not {value!r}")


def _score(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        score = float(value)
    except ValueError:
        raise FilterError(f"min_score must be a number between 0 and 1, not {value!r}") from None
    if not 0.0 <= score <= 1.0:
        raise FilterError(f"min_score must be between 0 and 1, not {value!r}")
    return score


def searchable(q: str | None) -> str | None:
    """``q`` when it has something to search for (a word or a number), else None (no text filter)."""
    q = (q or "").strip()
    return q if q and parse_query(q) else None


def parse_segment_filter(
    label: str | None = None,
    q: str | None = None,
    document_id: str | None = None,
    sender: str | None = None,
    theme: str | None = None,
    sender_kind: str | None = None,
    min_score: str | None = None,
    needs_review: str | None = None,
    corrected: str | None = None,
    scope: str | None = None,
    sort: str | None = None,
    hide_other: str | None = None,
) -> SegmentFilter:
    """Empty values mean "no filter"; an unknown label, theme or sender kind raises :class:`FilterError`.

    A search ``q`` with no word in it («%», «*», «?») has nothing to match, so it is no text filter at all, the
    same for the API, the UI and the exports (the UI says so); it is dropped here, once for all of them."""
    check_choices(label, theme, sender_kind)
    if scope and scope not in SCOPES:
        raise FilterError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    if sort and sort not in SORTS:
        raise FilterError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    return SegmentFilter(
        label=label or None,
        q=searchable(q),
        document_id=document_id or None,
        sender=sender or None,
        theme=theme or None,
        sender_kind=sender_kind or None,
        min_score=_score(min_score),
        needs_review=_bool("needs_review", needs_review),
        corrected=_bool("corrected", corrected),
        scope=None if scope in (None, "", "all") else scope,
        sort=sort or None,
        hide_other=_bool("hide_other", hide_other) or None,
    )


async def segment_filter_params(
    label: Annotated[str | None, Query(description="challenge, measure, example or other")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to search for in the segments")] = None,
    document_id: Annotated[str | None, Query(max_length=64)] = None,
    sender: Annotated[str | None, Query(max_length=500, description="Exact sender name")] = None,
    theme: Annotated[str | None, Query(max_length=64, description="Theme id of the taxonomy")] = None,
    sender_kind: Annotated[str | None, Query(max_length=32, description="kommune, organisasjon, ...")] = None,
    min_score: Annotated[
        str | None,
        Query(max_length=20, description="Lowest score (of the theme when given, else of the label)"),
    ] = None,
    needs_review: Annotated[str | None, Query(max_length=5, description="true/false")] = None,
    corrected: Annotated[str | None, Query(max_length=5, description="true/false")] = None,
    scope: Annotated[
        str | None, Query(max_length=8, description="all, or text: no heading-only hits")
    ] = None,
    sort: Annotated[
        str | None, Query(max_length=12, description="relevance (default), order, confidence")
    ] = None,
    hide_other: Annotated[
        str | None, Query(max_length=5, description="true: leave out «other» segments")
    ] = None,
) -> dict[str, str | None]:
    """The query parameters of a segment filter, validated for length (FastAPI dependency; ``async``
    because it does no I/O: a plain ``def`` would cost a thread-pool hop per request)."""
    return {
        "label": label,
        "q": q,
        "document_id": document_id,
        "sender": sender,
        "theme": theme,
        "sender_kind": sender_kind,
        "min_score": min_score,
        "needs_review": needs_review,
        "corrected": corrected,
        "scope": scope,
        "sort": sort,
        "hide_other": hide_other,
    }
