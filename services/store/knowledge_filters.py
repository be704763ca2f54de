"""The theme / sender kind / score / review filters of ``GET /segments`` (and the exports), as SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, select
from sqlmodel import col

from services.store.models import Document, Segment, SegmentTheme

if TYPE_CHECKING:
    from services.store.queries import SegmentFilter


def knowledge_filters(stmt: Select[Any], f: SegmentFilter) -> Select[Any]:
    """``stmt`` (segments joined with documents) narrowed by the knowledge filters of ``f``."""
    if f.theme:
        sub = select(col(SegmentTheme.segment_id)).where(
            col(SegmentTheme.segment_id) == col(Segment.segment_id), col(SegmentTheme.theme_id) == f.theme
        )
        if f.min_score is not None:
            sub = sub.where(col(SegmentTheme.score) >= f.min_score)
        stmt = stmt.where(exists(sub))
    elif f.min_score is not None:
        stmt = stmt.where(col(Segment.confidence) >= f.min_score)
    if f.sender_kind:
        stmt = stmt.where(col(Document.sender_kind) == f.sender_kind)
    if f.needs_review is not None:
        stmt = stmt.where(col(Segment.needs_review) == f.needs_review)
    if f.corrected is not None:
        stmt = stmt.where(col(Segment.corrected) == f.corrected)
    return stmt
