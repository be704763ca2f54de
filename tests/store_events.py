"""Builders of store input events for the store tests (deterministic ids, explicit event times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import (
    DocumentExtracted,
    DocumentFailed,
    DocumentMetadata,
    DocumentReceived,
    Envelope,
    SegmentClassified,
    make_event,
)
from shared.ids import document_id_for, segment_id_for, sha256_hex

LABELS = ("challenge", "measure", "example", "other")
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def timed(event: Envelope[Any], when: datetime) -> Envelope[Any]:
    return event.model_copy(update={"time": when})


def doc_id(name: str) -> str:
    return document_id_for(sha256_hex(name.encode()))


def received(
    name: str, minute: float = 0, source: str = "http", filename: str | None = None
) -> Envelope[Any]:
    sha = sha256_hex(name.encode())
    payload = DocumentReceived(
        id=document_id_for(sha),
        filename=filename or f"{name}.pdf",
        sha256=sha,
        bytes=2048,
        content_type="application/pdf",
        blob_uri=f"blob://sha256/{sha}",
        source=source,  # type: ignore[arg-type]  # a test double or a deliberately loose value
        received_at=at(minute),
    )
    return timed(make_event(payload, "test"), at(minute))


def extracted(
    name: str, n: int, minute: float = 1, sender: str | None = None, title: str | None = None
) -> Envelope[Any]:
    payload = DocumentExtracted(
        document_id=doc_id(name),
        page_count=3,
        segment_count=n,
        metadata=DocumentMetadata(sender=sender or f"{name} kommune", date="1. mars 2025", title=title),
    )
    return timed(make_event(payload, "test", "extracted", doc_id(name), minute), at(minute))


def failed(name: str, minute: float, stage: str = "classify", code: str = "model_error") -> Envelope[Any]:
    payload = DocumentFailed(
        document_id=doc_id(name),
        stage=stage,
        error_code=code,  # type: ignore[arg-type]  # a test double or a deliberately loose value
        message=f"{stage} failed",
    )
    return timed(make_event(payload, "test", "failed", doc_id(name), minute), at(minute))


def scores(label: str) -> dict[str, float]:
    return {name: (0.85 if name == label else 0.05) for name in LABELS}


def segment(
    name: str,
    seq: int,
    n: int | None,
    minute: float = 2,
    label: str | None = None,
    model: str = "m-1",
    text: str | None = None,
    heading_path: list[str] | None = None,
) -> Envelope[Any]:
    label = label or LABELS[seq % 4]
    payload = SegmentClassified(
        segment_id=segment_id_for(doc_id(name), seq),
        document_id=doc_id(name),
        seq=seq,
        page=1 + seq // 4,
        heading_path=heading_path if heading_path is not None else (["Utfordringer"] if seq else []),
        text=text or f"Avsnitt {seq} fra {name}.",
        label=label,
        scores=scores(label),  # type: ignore[arg-type]  # a test double or a deliberately loose value
        model_version=model,
        segment_count=n,
    )
    return timed(make_event(payload, "test", "seg", doc_id(name), seq, model, minute), at(minute))


def segments(name: str, n: int, minute: float = 2, model: str = "m-1") -> list[Envelope[Any]]:
    return [segment(name, i, n, minute + i / 100, model=model) for i in range(n)]
