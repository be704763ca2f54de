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
    sender_kind: str = "ukjent"
    #: Fields an analyst corrected ({field: {by, at}}); absent when none.
    corrected: dict[str, dict[str, str]] | None = None
    #: What extraction found, shown beside corrected values.
    model: dict[str, str | None] | None = None


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


class ThemeOut(BaseModel):
    id: str
    score: float


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
    themes: list[ThemeOut] = []
    needs_review: bool = False
    corrected: bool = False
    corrected_by: str | None = None
    corrected_at: datetime | None = None
    #: The model's own label and themes (they differ from the final ones when corrected).
    model_label: str | None = None
    model_themes: list[ThemeOut] = []


class SegmentHitOut(SegmentOut):
    filename: str | None
    sender: str | None
    sender_kind: str | None = None


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
        source=doc.source,
        received_at=doc.received_at,
        metadata=metadata_of(doc),
        counts=Counts(
            segments=doc.segment_count, classified=doc.classified_count, labels=labels or _zero_counts()
        ),
        error=error_of(doc),
        updated_at=doc.updated_at,
    )


def metadata_of(doc: Document) -> Metadata:
    marks = doc.corrected_fields or None
    model = (
        {
            "sender": doc.model_sender,
            "sender_kind": doc.model_sender_kind,
            "date": doc.model_date,
            "title": doc.model_title,
        }
        if marks
        else None
    )
    return Metadata(
        sender=doc.sender,
        date=doc.date,
        title=doc.title,
        page_count=doc.page_count,
        sender_kind=doc.sender_kind or "ukjent",
        corrected=marks,
        model=model,
    )


def _themes(raw: list[dict[str, object]] | None) -> list[ThemeOut]:
    return [ThemeOut.model_validate(t) for t in raw or []]


def segment_out(seg: Segment) -> SegmentOut:
    return SegmentOut(
        segment_id=seg.segment_id,
        document_id=seg.document_id,
        seq=seg.seq,
        page=seg.page,
        heading_path=list(seg.heading_path or []),
        text=seg.text,
        kind=seg.kind,
        ocr=seg.ocr,
        label=seg.label,
        scores=seg.scores or {},
        model_version=seg.model_version,
        classified_at=seg.classified_at,
        themes=_themes(seg.themes),
        needs_review=bool(seg.needs_review),
        corrected=bool(seg.corrected),
        corrected_by=seg.corrected_by,
        corrected_at=seg.corrected_at,
        model_label=seg.model_label or seg.label,
        model_themes=_themes(seg.model_themes),
    )


def hit_out(hit: SegmentHit) -> SegmentHitOut:
    base = segment_out(hit.segment).model_dump()
    return SegmentHitOut(
        **base, filename=hit.filename, sender=hit.sender, sender_kind=getattr(hit, "sender_kind", None)
    )


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
