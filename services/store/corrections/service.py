"""Taking a correction (of a segment or of a document): validate, publish it to ``segments.corrected``, then
apply it to the database.

Publishing comes first and must be acknowledged by the broker: if the broker is down the request fails with
503 and nothing is written anywhere. Once published, the store's own consumer would apply the event too (the
write is idempotent by event id), so the direct write below only makes the answer show the new state at once.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from services.store.corrections.repository import CorrectionReads
from services.store.corrections.rules import CorrectionFacts, segment_history
from services.store.corrections.schemas import (
    DocumentPatch,
    HistoryItem,
    SegmentHistory,
    SegmentPatch,
    Values,
)
from services.store.models import Segment
from services.store.projection import Projection
from services.store.themes.taxonomy import load_taxonomy
from shared.events import DocumentCorrected, Envelope, SegmentCorrected, make_event
from shared.http import ApiError
from shared.kafka import BrokerUnavailable, Publisher
from shared.settings import Settings
from shared.topics import topics_for

USER_HEADER = "x-innspill-user"
PUBLISH_TIMEOUT_S = 15.0


def user_of(request: Request, settings: Settings) -> str:
    """Who corrects: the ``X-Innspill-User`` header when given; with auth on and no header, the token's
    identity (a short hash of it, never the token); else ``anonym``."""
    named = (request.headers.get(USER_HEADER) or "").strip()
    if named:
        return named[:200]
    token = settings.token
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:8]
    return "anonym"


def _theme_ids(raw: list[dict[str, Any]] | None) -> list[str]:
    return [str(t["id"]) for t in raw or []]


async def publish_correction(
    settings: Settings, publisher: Publisher, document_id: str, event: Envelope[Any]
) -> None:
    """Publish an analyst's correction to ``segments.corrected``, keyed by document id, before anything is
    stored: 503 when the broker does not take it (nothing is written then)."""
    topic = topics_for(settings).segments_corrected
    try:
        await asyncio.wait_for(publisher.publish(topic, document_id, event), PUBLISH_TIMEOUT_S)
    except (BrokerUnavailable, TimeoutError) as exc:
        raise ApiError(503, "broker_unavailable", f"the correction was not saved: {exc}") from exc


class CorrectionService:
    def __init__(
        self, settings: Settings, projection: Projection, reads: CorrectionReads, publisher: Publisher
    ) -> None:
        self.settings = settings
        self.projection = projection
        self.reads = reads
        self.publisher = publisher

    def _check_themes(self, themes: list[str] | None) -> None:
        if themes is None:
            return
        known = set(load_taxonomy(self.settings.taxonomy).ids)
        unknown = [t for t in themes if t not in known]
        if unknown:
            raise ApiError(422, "unknown_theme", f"unknown theme id(s) {', '.join(map(repr, unknown))}")

    async def correct_segment(self, segment_id: str, patch: SegmentPatch, user: str) -> Segment:
        if patch.label is None and patch.themes is None and not patch.revert:
            raise ApiError(422, "empty_correction", "give label, themes or revert")
        both = (
            {"label", "themes"}
            & set(patch.revert)
            & {k for k in ("label", "themes") if getattr(patch, k) is not None}
        )
        if both:
            raise ApiError(
                422, "conflicting_correction", f"cannot both set and revert {', '.join(sorted(both))}"
            )
        self._check_themes(patch.themes)
        record = await asyncio.to_thread(self.reads.segment, segment_id)
        if record is None:
            raise ApiError(404, "not_found", f"no segment with id {segment_id!r}")
        seg = record.segment
        payload = SegmentCorrected(
            segment_id=seg.segment_id,
            document_id=seg.document_id,
            label=patch.label,
            themes=list(dict.fromkeys(patch.themes)) if patch.themes is not None else None,
            reverted=list(dict.fromkeys(patch.revert)),
            model_label=seg.model_label or seg.label,
            model_themes=_theme_ids(seg.model_themes),
            note=patch.note,
            user=user,
            at=datetime.now(UTC),
        )
        await self._publish_and_apply(seg.document_id, make_event(payload, "innspill/store"))
        after = await asyncio.to_thread(self.reads.segment, segment_id)
        assert after is not None
        return after.segment

    async def history(self, segment_id: str) -> SegmentHistory:
        record = await asyncio.to_thread(self.reads.segment, segment_id)
        if record is None:
            raise ApiError(404, "not_found", f"no segment with id {segment_id!r}")
        rows = await asyncio.to_thread(self.reads.corrections, segment_id)
        seg = record.segment
        model_label = seg.model_label or seg.label
        facts = [
            (
                CorrectionFacts(
                    r.event_id,
                    r.at,
                    r.user,
                    r.label,
                    r.themes,
                    tuple(r.reverted or ()),
                    r.model_label,
                    r.model_themes,
                ),
                r.note,
            )
            for r in rows
        ]
        steps = segment_history(model_label, seg.model_themes, facts)
        return SegmentHistory(
            segment_id=seg.segment_id,
            document_id=seg.document_id,
            model=Values(label=model_label, themes=_theme_ids(seg.model_themes)),
            final=Values(label=seg.label, themes=_theme_ids(seg.themes)),
            corrected=bool(seg.corrected),
            history=[
                HistoryItem(
                    event_id=st.facts.event_id,
                    user=st.facts.user,
                    at=st.facts.at,
                    note=st.note,
                    label=st.facts.label,
                    themes=list(st.facts.themes) if st.facts.themes is not None else None,
                    reverted=list(st.facts.reverted),
                    before=Values(label=st.before.label, themes=[t["id"] for t in st.before.themes]),
                    after=Values(label=st.after.label, themes=[t["id"] for t in st.after.themes]),
                )
                for st in steps
            ],
        )

    async def correct_document(self, document_id: str, patch: DocumentPatch, user: str) -> None:
        """Validate, publish a ``DocumentCorrected`` event to ``segments.corrected`` (keyed by document id, so
        a store rebuilt from the topics keeps it), then apply it (idempotent by event id)."""
        fields = ("sender", "sender_kind", "date", "title")
        values: dict[str, Any] = {f: getattr(patch, f) for f in fields if getattr(patch, f) is not None}
        clash = set(values) & set(patch.revert)
        if clash:
            raise ApiError(
                422, "conflicting_correction", f"cannot both set and revert {', '.join(sorted(clash))}"
            )
        if not values and not patch.revert:
            raise ApiError(422, "empty_correction", "give sender, sender_kind, date, title or revert")
        doc = await asyncio.to_thread(self.reads.document, document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"no document with id {document_id!r}")
        payload = DocumentCorrected(
            document_id=document_id,
            **values,
            reverted=list(dict.fromkeys(patch.revert)),
            model_sender=doc.model_sender,
            model_sender_kind=doc.model_sender_kind,
            model_date=doc.model_date,
            model_title=doc.model_title,
            note=patch.note,
            user=user,
            at=datetime.now(UTC),
        )
        await self._publish_and_apply(document_id, make_event(payload, "innspill/store"))

    async def _publish_and_apply(self, document_id: str, event: Envelope[Any]) -> None:
        """Publish (``publish_correction``), then write it at once so the answer shows the new state."""
        await publish_correction(self.settings, self.publisher, document_id, event)
        await asyncio.to_thread(self.projection.apply, [event])
