"""Counts per theme: segments and distinct senders, per label and per sender kind (``GET /themes``).

A letter without a known sender counts as its own sender (its document id stands in), so distinct-sender
counts never merge unknown senders into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.store.models import Document, Segment, SegmentTheme
from services.store.themes.taxonomy import Taxonomy
from shared.events import LABELS, SENDER_KINDS

Cell = dict[str, int]


def _zero() -> Cell:
    return {"segments": 0, "senders": 0}


class ThemeCounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _grouped(self, by: Sequence[Any]) -> list[Any]:
        sender = func.coalesce(col(Document.sender), col(Document.id))
        stmt = (
            select(*by, func.count(col(SegmentTheme.segment_id)), func.count(sender.distinct()))
            .select_from(SegmentTheme)
            .join(Segment, col(Segment.segment_id) == col(SegmentTheme.segment_id))
            .join(Document, col(Document.id) == col(Segment.document_id))
            .group_by(*by)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt))

    def themes(self, taxonomy: Taxonomy) -> dict[str, Any]:
        theme, label, kind = col(SegmentTheme.theme_id), col(Segment.label), col(Document.sender_kind)
        out: dict[str, dict[str, Any]] = {
            t.id: {
                "id": t.id,
                "name": t.name,
                **_zero(),
                "labels": {lb: _zero() for lb in LABELS},
                "sender_kinds": {},
            }
            for t in taxonomy.themes
        }

        def entry(theme_id: str) -> dict[str, Any]:
            # A theme no longer in the taxonomy still shows (its id as its name) rather than vanish.
            return out.setdefault(
                theme_id,
                {
                    "id": theme_id,
                    "name": theme_id,
                    **_zero(),
                    "labels": {lb: _zero() for lb in LABELS},
                    "sender_kinds": {},
                },
            )

        def kind_entry(theme_id: str, k: str) -> dict[str, Any]:
            kinds = entry(theme_id)["sender_kinds"]
            return kinds.setdefault(k, {**_zero(), "labels": {lb: _zero() for lb in LABELS}})

        for t, n, s in self._grouped([theme]):
            entry(t).update(segments=n, senders=s)
        for t, lb, n, s in self._grouped([theme, label]):
            entry(t)["labels"][lb] = {"segments": n, "senders": s}
        for t, k, n, s in self._grouped([theme, kind]):
            kind_entry(t, k or "ukjent").update(segments=n, senders=s)
        for t, k, lb, n, s in self._grouped([theme, kind, label]):
            kind_entry(t, k or "ukjent")["labels"][lb] = {"segments": n, "senders": s}
        return {"labels": list(LABELS), "sender_kinds": list(SENDER_KINDS), "themes": list(out.values())}
