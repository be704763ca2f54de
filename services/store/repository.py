"""Both sides of the store over one engine: :class:`Projection` (writes) and :class:`Queries` (reads)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.store.projection import Projection
from services.store.queries import MAX_OFFSET, DocumentView, Queries, SegmentFilter, SegmentHit
from shared.review import REVIEW_BUDGET

__all__ = ["MAX_OFFSET", "DocumentView", "Repository", "SegmentFilter", "SegmentHit"]


class Repository(Projection, Queries):
    """The store's database: the stream side writes through it, the HTTP side reads through it."""

    def __init__(self, engine: Engine, review_budget: float = REVIEW_BUDGET) -> None:
        Projection.__init__(self, engine, review_budget)
