"""The store's read side: the queries behind the API, the web UI and the exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store import search
from services.store.knowledge_filters import knowledge_filters
from services.store.models import Document, Segment, StatusEvent, table_of
from services.store.read_cache import cached_read
from services.store.status import STATUSES
from shared.events import (
    LABELS,
)

DOCS = table_of(Document)
SEGS = table_of(Segment)
HIST = table_of(StatusEvent)

_CHUNK = 500
T = TypeVar("T")


#: Largest page offset accepted; databases take 64-bit offsets at most, so more is a client error.
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class SegmentFilter:
    label: str | None = None
    q: str | None = None
    document_id: str | None = None
    sender: str | None = None
    scope: str | None = None  # "text": leave out hits only in the heading path (search.SCOPES)
    sort: str | None = None  # "relevance", "order" or "confidence" (search.SORTS)
    theme: str | None = None
    sender_kind: str | None = None
    #: With ``theme``: that theme's score; else the model's score for its label.
    min_score: float | None = None
    needs_review: bool | None = None
    corrected: bool | None = None
    #: Leave out «annet» (letterhead, greetings, signatures...): the UI's default segment list.
    hide_other: bool | None = None

    def as_params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in vars(self).items():
            if isinstance(v, bool):
                out[k] = "true" if v else "false"
            elif v is not None and v != "":
                out[k] = str(v)
        return out


@dataclass(frozen=True)
class SegmentHit:
    segment: Segment
    filename: str | None
    sender: str | None
    sender_kind: str | None = None
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class DocumentView:
    document: Document
    label_counts: dict[str, int]
    segments: list[Segment] = field(default_factory=list)
    history: list[StatusEvent] = field(default_factory=list)


def _hit_select() -> Select[Any]:
    """A segment with the document fields a hit carries (see :class:`SegmentHit`)."""
    stmt: Any = sa_select(
        Segment,
        col(Document.filename),
        col(Document.sender),
        col(Document.sender_kind),
        col(Document.title),
        col(Document.date),
    )
    return stmt


class Queries:
    """Reads for the API, the UI and the exports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ reads

    def _newest_first(self) -> tuple[Any, ...]:
        return (func.coalesce(col(Document.received_at), col(Document.created_at)).desc(), col(Document.id))

    def label_counts(self, document_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """Segments per label for each document (all documents when ``document_ids`` is None)."""
        stmt = select(Segment.document_id, Segment.label, func.count()).group_by(
            Segment.document_id, Segment.label
        )
        if document_ids is not None:
            if not document_ids:
                return {}
            stmt = stmt.where(col(Segment.document_id).in_(document_ids))
        out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LABELS, 0))
        with Session(self.engine) as s:
            for doc_id, label, n in s.exec(stmt):
                out[doc_id][label] = n
        return dict(out)

    def list_documents(
        self,
        *,
        status: str | None = None,
        sender: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[Document], dict[str, dict[str, int]]]:
        stmt = select(Document)
        if status:
            stmt = stmt.where(Document.status == status)
        if sender:
            stmt = stmt.where(Document.sender == sender)
        if q:
            stmt = stmt.where(col(Document.search_text).contains(q.lower(), autoescape=True))
        with Session(self.engine) as s:
            total = s.exec(select(func.count()).select_from(stmt.subquery())).one()
            docs = list(s.exec(stmt.order_by(*self._newest_first()).limit(limit).offset(offset)))
        counts = self.label_counts([d.id for d in docs])
        return int(total), docs, counts

    def get_document(self, document_id: str) -> DocumentView | None:
        with Session(self.engine) as s:
            doc = s.get(Document, document_id)
            if doc is None:
                return None
            segs = list(
                s.exec(
                    select(Segment).where(col(Segment.document_id) == document_id).order_by(col(Segment.seq))
                )
            )
            hist = list(
                s.exec(
                    select(StatusEvent)
                    .where(col(StatusEvent.document_id) == document_id)
                    .order_by(col(StatusEvent.at), col(StatusEvent.id))
                )
            )
        counts = dict.fromkeys(LABELS, 0)
        for seg in segs:
            counts[seg.label] = counts.get(seg.label, 0) + 1
        return DocumentView(doc, counts, segs, hist)

    def _segment_select(self, f: SegmentFilter) -> Select[Any]:
        stmt = _hit_select().join(Document, col(Document.id) == col(Segment.document_id))
        stmt = knowledge_filters(stmt, f)
        if f.label:
            stmt = stmt.where(col(Segment.label) == f.label)
        elif f.hide_other:
            stmt = stmt.where(col(Segment.label) != "other")
        if f.document_id:
            stmt = stmt.where(col(Segment.document_id) == f.document_id)
        if f.sender:
            stmt = stmt.where(col(Document.sender) == f.sender)
        stmt = search.filter_segments(stmt, f, self.engine.dialect.name)  # q (full-text) and scope
        return stmt

    def _count_select(self, f: SegmentFilter, stmt: Select[Any]) -> Select[Any]:
        """How many segments ``stmt`` finds. A plain search (``q``/``scope`` and nothing else) is counted on
        the search index alone: every indexed segment has its segment and document rows, so the joins that
        the other filters need would only cost time (a third of the rows of 1,000 letters may match)."""
        plain = {k for k, v in vars(f).items() if v is not None} <= {"q", "scope", "sort"}
        query = search.parse_query(f.q)
        if plain and query:
            return search.count_matches(self.engine.dialect.name, query, text_only=f.scope == "text")
        return sa_select(func.count()).select_from(stmt.with_only_columns(col(Segment.segment_id)).subquery())

    @cached_read  # bursts of the same read share one query; any write misses it (read_cache.py)
    def search_segments(
        self, f: SegmentFilter, *, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[SegmentHit]]:
        stmt = self._segment_select(f)
        with Session(self.engine) as s:
            total = s.execute(self._count_select(f, stmt)).scalar_one()
            order = search.order_segments(f, (*self._newest_first(), Segment.seq))
            # Rank and cut the page on ids alone (narrow rows), then load only that page's full rows.
            ids_stmt: Select[Any] = stmt.with_only_columns(col(Segment.segment_id))
            page_ids = [r[0] for r in s.execute(ids_stmt.order_by(*order).limit(limit).offset(offset))]
            by_id: dict[str, SegmentHit] = {}
            if page_ids:
                page_stmt = _hit_select().join(Document, col(Document.id) == col(Segment.document_id))
                for row in s.execute(page_stmt.where(col(Segment.segment_id).in_(page_ids))):
                    by_id[row[0].segment_id] = SegmentHit(*row)
            hits = [by_id[i] for i in page_ids if i in by_id]
        return int(total), hits

    def iter_segments(self, f: SegmentFilter, *, batch: int = 500) -> Iterator[SegmentHit]:
        """Every matching segment, streamed (used by the exports)."""
        stmt = self._segment_select(f).order_by(
            *search.order_segments(f, (*self._newest_first(), Segment.seq))
        )
        with Session(self.engine) as s:
            for row in s.execute(stmt.execution_options(yield_per=batch)):
                yield SegmentHit(*row)

    def status_counts(self) -> dict[str, int]:
        with Session(self.engine) as s:
            rows = s.exec(select(Document.status, func.count()).group_by(Document.status))
            out: dict[str, int] = dict.fromkeys(STATUSES, 0)
            out.update({status: n for status, n in rows})
        return out

    def stats(self, documents_limit: int | None = None) -> dict[str, Any]:
        """Totals per label and status, and per document (the newest ``documents_limit`` when given: the
        overview page shows only those, so only their rows and counts are read); ``document_total`` counts
        them all."""
        with Session(self.engine) as s:
            doc_stmt = select(Document).order_by(*self._newest_first())
            if documents_limit is not None:
                doc_stmt = doc_stmt.limit(documents_limit)
            docs = list(s.exec(doc_stmt))
            by_label = dict.fromkeys(LABELS, 0)
            by_label.update(
                {label: n for label, n in s.exec(select(Segment.label, func.count()).group_by(Segment.label))}
            )
        per_doc = self.label_counts(None if documents_limit is None else [d.id for d in docs])
        by_status = self.status_counts()
        return {
            "labels": by_label,
            "segments": sum(by_label.values()),
            "documents_by_status": by_status,
            "document_total": sum(by_status.values()),
            "documents": [
                {
                    "id": d.id,
                    "filename": d.filename,
                    "sender": d.sender,
                    "status": d.status,
                    "segment_count": d.segment_count,
                    "classified_count": d.classified_count,
                    "labels": per_doc.get(d.id, dict.fromkeys(LABELS, 0)),
                }
                for d in docs
            ],
        }

    def senders(self) -> list[str]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(Document.sender)
                .where(col(Document.sender).is_not(None))
                .distinct()
                .order_by(Document.sender)
            )
            return [r for r in rows if r]

    def document_choices(self) -> list[tuple[str, str]]:
        """(id, display name) of every document, for the UI's document filter."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Document.id, Document.filename, Document.title).order_by(*self._newest_first())
            )
            return [(i, fn or title or i) for i, fn, title in rows]
