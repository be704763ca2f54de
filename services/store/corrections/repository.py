"""Reads behind the correction endpoints and the review views (the writes go through the projection)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store.models import Correction, Document, DocumentCorrection, Segment


@dataclass(frozen=True)
class SegmentRecord:
    segment: Segment
    document: Document | None


class CorrectionReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def segment(self, segment_id: str) -> SegmentRecord | None:
        with Session(self.engine) as s:
            seg = s.get(Segment, segment_id)
            if seg is None:
                return None
            return SegmentRecord(seg, s.get(Document, seg.document_id))

    def corrections(self, segment_id: str) -> list[Correction]:
        with Session(self.engine) as s:
            stmt = select(Correction).where(col(Correction.segment_id) == segment_id)
            return list(s.exec(stmt.order_by(col(Correction.at), col(Correction.event_id))))

    def document(self, document_id: str) -> Document | None:
        with Session(self.engine) as s:
            return s.get(Document, document_id)

    def document_corrections(self, document_id: str) -> list[DocumentCorrection]:
        with Session(self.engine) as s:
            stmt = select(DocumentCorrection).where(col(DocumentCorrection.document_id) == document_id)
            return list(s.exec(stmt.order_by(col(DocumentCorrection.at), col(DocumentCorrection.event_id))))
