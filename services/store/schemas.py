"""Response bodies of the store API, and their construction from stored rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.store.models import Document, Segment, StatusEvent
from services.store.queries import DocumentView, SegmentHit
from services.store.status import Status
from shared.events import LABELS


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys(LABELS, 0)


class ErrorInfo(BaseModel):
    stage: str | None
    code: str | None
    message: str | None
    at: datetime | None


class Metadata(BaseModel):
    sender: str | None
    date: str | None
    title: str | None
    page_count: int | None


class Counts(BaseModel):
    segments: int | None  # as reported by extraction (None until known)
    classified: int
    labels: dict[str, int]


class DocumentSummary(BaseModel):
    id: str
    filename: str | None
    status: Status
    source: str | None
    received_at: datetime | None
    metadata: Metadata
    counts: Counts
    error: ErrorInfo | None
    updated_at: datetime


class DocumentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DocumentSummary]


class SegmentOut(BaseModel):
    segment_id: str
    document_id: str
    seq: int
    page: int
    heading_path: list[str]
    text: str
    kind: str
    ocr: bool
    label: str
    scores: dict[str, float]
    model_version: str
    classified_at: datetime


class SegmentHitOut(SegmentOut):
    filename: str | None
    sender: str | None


class SegmentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SegmentHitOut]


class HistoryEntry(BaseModel):
    status: str
    at: datetime
    detail: str | None


class DocumentDetail(DocumentSummary):
    sha256: str | None
    bytes: int | None
    content_type: str | None
    blob_uri: str | None
    created_at: datetime
    segments: list[SegmentOut]
    history: list[HistoryEntry]


class DocumentStats(BaseModel):
    id: str
    filename: str | None
    sender: str | None
    status: Status
    segment_count: int | None
    classified_count: int
    labels: dict[str, int]


class Stats(BaseModel):
    labels: dict[str, int]
    segments: int
    documents_by_status: dict[str, int]
    documents: list[DocumentStats]


def error_of(doc: Document) -> ErrorInfo | None:
    """The failure behind a ``failed`` status. A failure that a later success superseded is not an
    error any more; it stays visible in the document's history."""
    if doc.status != "failed" or doc.failed_at is None:
        return None
    return ErrorInfo(stage=doc.failed_stage, code=doc.error_code, message=doc.error_message, at=doc.failed_at)


def summary(doc: Document, labels: dict[str, int] | None) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id,
        filename=doc.filename,
        status=doc.status,
        source=doc.source,  # type: ignore[arg-type]
        received_at=doc.received_at,
        metadata=Metadata(sender=doc.sender, date=doc.date, title=doc.title, page_count=doc.page_count),
        counts=Counts(
            segments=doc.segment_count, classified=doc.classified_count, labels=labels or _zero_counts()
        ),
        error=error_of(doc),
        updated_at=doc.updated_at,
    )


def segment_out(seg: Segment) -> SegmentOut:
    return SegmentOut.model_validate(seg, from_attributes=True)


def hit_out(hit: SegmentHit) -> SegmentHitOut:
    base = segment_out(hit.segment).model_dump()
    return SegmentHitOut(**base, filename=hit.filename, sender=hit.sender)


def history_out(ev: StatusEvent) -> HistoryEntry:
    return HistoryEntry(status=ev.status, at=ev.at, detail=ev.detail)


def detail(view: DocumentView) -> DocumentDetail:
    doc = view.document
    return DocumentDetail(
        **summary(doc, view.label_counts).model_dump(),
        sha256=doc.sha256,
        bytes=doc.bytes,
        content_type=doc.content_type,
        blob_uri=doc.blob_uri,
        created_at=doc.created_at,
        segments=[segment_out(s) for s in view.segments],
        history=[history_out(h) for h in view.history],
    )
