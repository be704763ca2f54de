"""``PATCH /segments/{id}``, undo, history, and ``PATCH /documents/{id}``: the analyst's corrections."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.store import schemas
from services.store.corrections.repository import CorrectionReads
from services.store.corrections.review import agreement, review_queue, reviewed_pairs
from services.store.corrections.schemas import (
    DocumentHistoryItem,
    DocumentPatch,
    SegmentHistory,
    SegmentPatch,
)
from services.store.corrections.service import CorrectionService, user_of
from services.store.models import Segment
from services.store.repository import Repository
from shared.http import ApiError
from shared.settings import Settings
from shared.stream_runner import StreamRunner


def _hit(reads: CorrectionReads, seg: Segment) -> schemas.SegmentHitOut:
    doc = reads.document(seg.document_id)
    return schemas.SegmentHitOut(
        **schemas.segment_out(seg).model_dump(),
        filename=doc.filename if doc else None,
        sender=doc.sender if doc else None,
        sender_kind=doc.sender_kind if doc else None,
    )


def make_corrections_router(settings: Settings, repo: Repository, runner: StreamRunner) -> APIRouter:
    router = APIRouter(tags=["corrections"])
    reads = CorrectionReads(repo.engine)
    service = CorrectionService(settings, repo, reads, runner.publisher)

    @router.get("/segments/{segment_id}", response_model=schemas.SegmentHitOut, tags=["segments"])
    async def get_segment(segment_id: str) -> schemas.SegmentHitOut:
        """One segment with its final and model values."""
        record = await asyncio.to_thread(reads.segment, segment_id)
        if record is None:
            raise ApiError(404, "not_found", f"no segment with id {segment_id!r}")
        return await asyncio.to_thread(_hit, reads, record.segment)

    @router.patch("/segments/{segment_id}", response_model=schemas.SegmentHitOut)
    async def correct_segment(
        segment_id: str, patch: SegmentPatch, request: Request
    ) -> schemas.SegmentHitOut:
        """Correct a segment's label and/or themes (or undo with ``revert``). Published to
        ``segments.corrected`` before it is stored; 503 when the broker is down (nothing is written then)."""
        seg = await service.correct_segment(segment_id, patch, user_of(request, settings))
        return await asyncio.to_thread(_hit, reads, seg)

    @router.delete("/segments/{segment_id}/correction", response_model=schemas.SegmentHitOut)
    async def undo_correction(segment_id: str, request: Request) -> schemas.SegmentHitOut:
        """Undo every correction of a segment: the model's label and themes are final again (audited)."""
        patch = SegmentPatch(revert=["label", "themes"])
        seg = await service.correct_segment(segment_id, patch, user_of(request, settings))
        return await asyncio.to_thread(_hit, reads, seg)

    @router.get("/segments/{segment_id}/history", response_model=SegmentHistory)
    async def segment_history(segment_id: str) -> SegmentHistory:
        """Every correction of a segment, oldest first, with the final values before and after it."""
        return await service.history(segment_id)

    @router.patch("/documents/{document_id}", response_model=schemas.DocumentDetail, tags=["documents"])
    async def correct_document(
        document_id: str, patch: DocumentPatch, request: Request
    ) -> schemas.DocumentDetail:
        """Correct a document's sender, sender kind, date or title (``revert`` goes back to extraction's)."""
        await service.correct_document(document_id, patch, user_of(request, settings))
        view = await asyncio.to_thread(repo.get_document, document_id)
        if view is None:
            raise ApiError(404, "not_found", f"no document with id {document_id!r}")
        return schemas.detail(view)

    @router.get(
        "/documents/{document_id}/corrections", response_model=list[DocumentHistoryItem], tags=["documents"]
    )
    async def document_corrections(document_id: str) -> list[DocumentHistoryItem]:
        """The audit of a document's metadata corrections, oldest first."""
        if await asyncio.to_thread(reads.document, document_id) is None:
            raise ApiError(404, "not_found", f"no document with id {document_id!r}")
        rows = await asyncio.to_thread(reads.document_corrections, document_id)
        return [
            DocumentHistoryItem(user=r.user, at=r.at, values=r.values, before=r.before, note=r.note)
            for r in rows
        ]

    return router


def make_review_router(repo: Repository) -> APIRouter:
    router = APIRouter(tags=["corrections"])

    @router.get("/review")
    async def review(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        document_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        """The uncorrected segments most worth checking first, with the reason for each."""
        items = await asyncio.to_thread(review_queue, repo.engine, limit, document_id)
        return {
            "items": [
                {
                    **schemas.segment_out(i.segment).model_dump(mode="json"),
                    "sender": i.sender,
                    "filename": i.filename,
                    "reason": i.reason,
                }
                for i in items
            ]
        }

    @router.get("/agreement")
    async def model_agreement() -> dict[str, Any]:
        """Per-label F1 of the model's labels against the analysts' over reviewed segments (95 % bootstrap
        interval once 30 are reviewed)."""
        pairs = await asyncio.to_thread(reviewed_pairs, repo.engine)
        return agreement(pairs)

    return router
