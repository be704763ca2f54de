"""Both sides of the store over one engine: :class:`Projection` (writes) and :class:`Queries` (reads)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.store.projection import Projection
from services.store.queries import MAX_OFFSET, DocumentView, Queries, SegmentFilter, SegmentHit

__all__ = ["MAX_OFFSET", "DocumentView", "Repository", "SegmentFilter", "SegmentHit"]


class Repository(Projection, Queries):
    """The store's database: the stream side writes through it, the HTTP side reads through it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
