"""The store's write side: project events into rows, idempotently.

:meth:`Projection.apply` takes any mix of decoded events and stores them in one transaction. Every write is
an upsert keyed by document id, segment id or event id, and conflicting versions are resolved by event time
(earliest ``received``, latest ``extracted``/``failed``/classification), so the same events in any order,
any number of times, leave the same rows. The document row is created by whichever event arrives first, and
its status is recomputed from stored facts (:mod:`.status`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from services.store.corrections.rules import (
    CorrectionFacts,
    DocumentCorrectionFacts,
    document_befores,
    fold_document,
    fold_segment,
)
from services.store.models import (
    Correction,
    Document,
    DocumentCorrection,
    PointExclusion,
    PointMerge,
    PointName,
    Segment,
    SegmentTheme,
    StatusEvent,
    table_of,
)
from services.store.search import index_segments
from services.store.status import DocumentFacts, compute_status, is_complete
from shared.events import (
    DOCUMENT_FIELDS,
    DocumentCorrected,
    DocumentExtracted,
    DocumentFailed,
    DocumentReceived,
    Envelope,
    PointExcluded,
    PointNamed,
    PointsMerged,
    SegmentClassified,
    SegmentCorrected,
)
from shared.ids import event_id_for
from shared.review import REVIEW_BUDGET, within_budget

DOCS: Table = table_of(Document)
SEGS: Table = table_of(Segment)
HIST: Table = table_of(StatusEvent)
CORR: Table = table_of(Correction)
DOC_CORR: Table = table_of(DocumentCorrection)
EXCLUSIONS: Table = table_of(PointExclusion)
MERGES: Table = table_of(PointMerge)
NAMES: Table = table_of(PointName)
#: Each kind of correction of the points: the table that keeps it and its own columns (event id, who, when
#: and note are common to all).
POINT_CORRECTIONS: dict[type[Any], tuple[Table, Callable[[Any], dict[str, Any]]]] = {
    PointExcluded: (
        EXCLUSIONS,
        lambda d: {"segment_id": d.segment_id, "point_id": d.point_id, "apart_from": list(d.apart_from)},
    ),
    PointsMerged: (
        MERGES,
        lambda d: {
            "point_id": d.point_id,
            "merged_point_id": d.merged_point_id,
            "segment_ids": list(d.segment_ids),
        },
    ),
    PointNamed: (NAMES, lambda d: {"point_id": d.point_id, "summary": d.summary or ""}),
}
SEG_THEMES: Table = table_of(SegmentTheme)

_CHUNK = 500
T = TypeVar("T")


#: Largest page offset accepted; databases take 64-bit offsets at most, so more is a client error.
MAX_OFFSET = 2**31 - 1


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def search_text(*parts: str | None) -> str:
    """The lower-cased haystack for free-text search (Python lower() is Unicode-aware; SQLite's is not)."""
    return "\n".join(p for p in parts if p).lower()


@dataclass
class _Batch:
    """A batch of events sorted by kind, with duplicates of one key reduced to the winning version."""

    received: dict[str, Envelope[DocumentReceived]] = field(default_factory=dict)
    extracted: dict[str, Envelope[DocumentExtracted]] = field(default_factory=dict)
    failed: dict[str, Envelope[DocumentFailed]] = field(default_factory=dict)
    segments: dict[str, Envelope[SegmentClassified]] = field(default_factory=dict)
    #: Corrections by event id (every one is kept: together they are the segment's correction history).
    corrections: dict[str, Envelope[SegmentCorrected]] = field(default_factory=dict)
    #: Document corrections by event id (likewise every one kept: the document's audit).
    document_corrections: dict[str, Envelope[DocumentCorrected]] = field(default_factory=dict)
    #: Corrections of the points (quotes taken out, points merged, points named), by event id.
    point_corrections: dict[str, Envelope[Any]] = field(default_factory=dict)
    #: Every distinct document-level event (by event id), losers included: each one is a history entry.
    history: dict[str, Envelope[Any]] = field(default_factory=dict)

    @property
    def document_ids(self) -> set[str]:
        ids = set(self.received) | set(self.extracted) | set(self.failed)
        ids |= {e.data.document_id for e in self.segments.values()}
        ids |= {e.data.document_id for e in self.document_corrections.values()}
        ids |= {e.data.document_id for e in self.point_corrections.values()}
        return ids | {e.data.document_id for e in self.corrections.values()}

    @property
    def segmented_document_ids(self) -> set[str]:
        """Documents whose segments or segment count this batch may change (the review budget's input)."""
        return set(self.extracted) | {e.data.document_id for e in self.segments.values()}

    @property
    def segment_ids(self) -> set[str]:
        return set(self.segments) | {e.data.segment_id for e in self.corrections.values()}

    @classmethod
    def of(cls, events: Iterable[Envelope[Any]]) -> _Batch:
        b = cls()
        for env in events:
            data = env.data
            if isinstance(data, (DocumentReceived, DocumentExtracted, DocumentFailed)):
                b.history.setdefault(env.id, env)
            if isinstance(data, DocumentReceived):
                old = b.received.get(data.id)
                if old is None or data.received_at < old.data.received_at:
                    b.received[data.id] = env
            elif isinstance(data, DocumentExtracted):
                _keep_latest(b.extracted, data.document_id, env)
            elif isinstance(data, DocumentFailed):
                _keep_latest(b.failed, data.document_id, env)
            elif isinstance(data, SegmentClassified):
                _keep_latest(b.segments, data.segment_id, env)
            elif isinstance(data, SegmentCorrected):
                b.corrections.setdefault(env.id, env)
            elif isinstance(data, DocumentCorrected):
                b.document_corrections.setdefault(env.id, env)
            elif isinstance(data, tuple(POINT_CORRECTIONS)):
                b.point_corrections.setdefault(env.id, env)
            else:
                raise TypeError(f"the store does not handle {type(data).__name__} events")
        return b


def _keep_latest(into: dict[str, Envelope[Any]], key: str, env: Envelope[Any]) -> None:
    old = into.get(key)
    if old is None or env.time >= old.time:
        into[key] = env


def _history_row(env: Envelope[Any]) -> dict[str, Any]:
    d = env.data
    if isinstance(d, DocumentReceived):
        return {
            "event_id": env.id,
            "document_id": d.id,
            "status": "received",
            "at": d.received_at,
            "detail": f"{d.filename} ({d.bytes} bytes, via {d.source})",
        }
    if isinstance(d, DocumentExtracted):
        return {
            "event_id": env.id,
            "document_id": d.document_id,
            "status": "extracted",
            "at": env.time,
            "detail": f"{d.page_count} pages, {d.segment_count} segments",
        }
    assert isinstance(d, DocumentFailed)
    return {
        "event_id": env.id,
        "document_id": d.document_id,
        "status": "failed",
        "at": env.time,
        "detail": f"{d.stage}: {d.error_code}: {d.message}",
    }


def document_correction_values(c: DocumentCorrected) -> dict[str, Any]:
    """The stored form of a document correction: {field: analyst's value, or None when reverted}."""
    values: dict[str, Any] = {f: getattr(c, f) for f in DOCUMENT_FIELDS if getattr(c, f) is not None}
    values.update({f: None for f in c.reverted})
    return values


def correction_facts(row: Any) -> CorrectionFacts:
    """A stored ``corrections`` row as the fold's input."""
    return CorrectionFacts(
        event_id=row.event_id,
        at=row.at,
        user=row.user,
        label=row.label,
        themes=row.themes,
        reverted=tuple(row.reverted or ()),
    )


class Projection:
    """Writes events into the database."""

    def __init__(self, engine: Engine, review_budget: float = REVIEW_BUDGET) -> None:
        self.engine = engine
        self.review_budget = review_budget

    # ------------------------------------------------------------------ writes

    def apply(self, events: Iterable[Envelope[Any]]) -> set[str]:
        """Store a batch of events in one transaction; returns the ids of the documents touched."""
        batch = _Batch.of(events)
        ids = sorted(batch.document_ids)  # one lock order for every writer: no deadlocks between replicas
        if not ids:
            return set()
        now = _utcnow()
        with self.engine.begin() as conn:
            self._touch(conn, ids, now)
            self._received(conn, list(batch.received.values()))
            self._extracted(conn, list(batch.extracted.values()))
            self._failed(conn, list(batch.failed.values()))
            self._segments(conn, list(batch.segments.values()))
            index_segments(conn, [e.data.segment_id for e in batch.segments.values()])  # full-text index
            self._corrections(conn, list(batch.corrections.values()))
            self._finalise_segments(conn, sorted(batch.segment_ids))
            self._document_corrections(conn, list(batch.document_corrections.values()))
            self._point_corrections(conn, list(batch.point_corrections.values()))
            corrected_docs = {e.data.document_id for e in batch.document_corrections.values()}
            if batch.extracted or corrected_docs:
                self._finalise_documents(conn, sorted(set(batch.extracted) | corrected_docs))
            self._history(conn, [_history_row(e) for e in batch.history.values()])
            self._refresh(conn, ids, now, batch.segmented_document_ids)
        return set(ids)

    def _insert(self, conn: Connection, table: Any) -> Any:
        return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)

    def _touch(self, conn: Connection, ids: list[str], now: datetime) -> None:
        """Create missing document rows and lock the existing ones (an upsert that updates locks the row
        on PostgreSQL; SQLite takes its database write lock)."""
        ins = self._insert(conn, DOCS)
        conn.execute(
            ins.on_conflict_do_update(index_elements=["id"], set_={"updated_at": ins.excluded.updated_at}),
            [
                {
                    "id": i,
                    "status": "received",
                    "classified_count": 0,
                    "search_text": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in ids
            ],
        )

    def _history(self, conn: Connection, rows: list[dict[str, Any]], *, overwrite: bool = False) -> None:
        if not rows:
            return
        ins = self._insert(conn, HIST)
        if overwrite:
            stmt = ins.on_conflict_do_update(
                index_elements=["event_id"], set_={"at": ins.excluded.at, "detail": ins.excluded.detail}
            )
        else:
            stmt = ins.on_conflict_do_nothing(index_elements=["event_id"])
        conn.execute(stmt, rows)

    def _received(self, conn: Connection, events: list[Envelope[DocumentReceived]]) -> None:
        if not events:
            return
        # The earliest receipt wins: a later replay (source "replay") keeps the original filename and time.
        stmt = (
            update(DOCS)
            .where(DOCS.c.id == bindparam("b_id"))
            .where(or_(DOCS.c.received_at.is_(None), DOCS.c.received_at > bindparam("b_received_at")))
            .values(
                filename=bindparam("b_filename"),
                sha256=bindparam("b_sha256"),
                bytes=bindparam("b_bytes"),
                content_type=bindparam("b_content_type"),
                blob_uri=bindparam("b_blob_uri"),
                source=bindparam("b_source"),
                received_at=bindparam("b_received_at"),
            )
        )
        conn.execute(stmt, [{f"b_{k}": v for k, v in e.data.model_dump().items()} for e in events])

    def _extracted(self, conn: Connection, events: list[Envelope[DocumentExtracted]]) -> None:
        if not events:
            return
        stmt = (
            update(DOCS)
            .where(DOCS.c.id == bindparam("b_id"))
            .where(or_(DOCS.c.extracted_at.is_(None), DOCS.c.extracted_at <= bindparam("b_at")))
            .values(
                sender=bindparam("b_sender"),
                date=bindparam("b_date"),
                title=bindparam("b_title"),
                sender_kind=bindparam("b_kind"),
                model_sender=bindparam("b_sender"),
                model_date=bindparam("b_date"),
                model_title=bindparam("b_title"),
                model_sender_kind=bindparam("b_kind"),
                page_count=bindparam("b_page_count"),
                segment_count=bindparam("b_segment_count"),
                extracted_at=bindparam("b_at"),
            )
        )
        # Written as final values too; _finalise_documents then puts corrected fields back.
        conn.execute(
            stmt,
            [
                {
                    "b_id": e.data.document_id,
                    "b_at": e.time,
                    "b_sender": e.data.metadata.sender,
                    "b_date": e.data.metadata.date,
                    "b_title": e.data.metadata.title,
                    "b_kind": e.data.metadata.sender_kind,
                    "b_page_count": e.data.page_count,
                    "b_segment_count": e.data.segment_count,
                }
                for e in events
            ],
        )

    def _failed(self, conn: Connection, events: list[Envelope[DocumentFailed]]) -> None:
        if not events:
            return
        stmt = (
            update(DOCS)
            .where(DOCS.c.id == bindparam("b_id"))
            .where(or_(DOCS.c.failed_at.is_(None), DOCS.c.failed_at <= bindparam("b_at")))
            .values(
                failed_stage=bindparam("b_stage"),
                error_code=bindparam("b_code"),
                error_message=bindparam("b_message"),
                failed_at=bindparam("b_at"),
            )
        )
        conn.execute(
            stmt,
            [
                {
                    "b_id": e.data.document_id,
                    "b_at": e.time,
                    "b_stage": e.data.stage,
                    "b_code": e.data.error_code,
                    "b_message": e.data.message,
                }
                for e in events
            ],
        )

    def _segments(self, conn: Connection, events: list[Envelope[SegmentClassified]]) -> None:
        if not events:
            return
        # One compiled statement, executed for many rows (SQLAlchemy batches them as "insertmanyvalues").
        ins = self._insert(conn, SEGS)
        upsert = ins.on_conflict_do_update(
            index_elements=["segment_id"],
            set_={c.name: ins.excluded[c.name] for c in SEGS.columns if c.name != "segment_id"},
            # A re-classification replaces the stored one only if it is at least as new.
            where=SEGS.c.classified_at <= ins.excluded.classified_at,
        )
        conn.execute(
            upsert,
            [
                {
                    "segment_id": s.segment_id,
                    "document_id": s.document_id,
                    "seq": s.seq,
                    "page": s.page,
                    "heading_path": list(s.heading_path),
                    "text": s.text,
                    "kind": s.kind,
                    "ocr": s.ocr,
                    "label": s.label,
                    "scores": dict(s.scores),
                    "model_version": s.model_version,
                    "classified_at": e.time,
                    # The model's values; _finalise_segments then applies any correction in force.
                    "model_label": s.label,
                    "themes": themes,
                    "model_themes": themes,
                    # The model's flag; _refresh keeps it within the letter's review budget.
                    "model_needs_review": bool(s.needs_review),
                    "needs_review": bool(s.needs_review),
                    "confidence": max(s.scores.values()) if s.scores else None,
                    "corrected": False,
                    "corrected_by": None,
                    "corrected_at": None,
                }
                for e in events
                for s in [e.data]
                for themes in [[{"id": t.id, "score": t.score} for t in s.themes]]
            ],
        )
        # Segments carry the document's segment count too; it counts until documents.extracted is seen.
        counts: dict[str, int] = {}
        for e in events:
            if e.data.segment_count is not None:
                counts[e.data.document_id] = max(counts.get(e.data.document_id, 0), e.data.segment_count)
        if counts:
            stmt = (
                update(DOCS)
                .where(DOCS.c.id == bindparam("b_id"), DOCS.c.extracted_at.is_(None))
                .where(or_(DOCS.c.segment_count.is_(None), DOCS.c.segment_count < bindparam("b_n")))
                .values(segment_count=bindparam("b_n"))
            )
            conn.execute(stmt, [{"b_id": k, "b_n": n} for k, n in counts.items()])

    def _corrections(self, conn: Connection, events: list[Envelope[SegmentCorrected]]) -> None:
        """Keep every correction event once (by event id): the audit log and the source of final values."""
        if not events:
            return
        ins = self._insert(conn, CORR).on_conflict_do_nothing(index_elements=["event_id"])
        conn.execute(
            ins,
            [
                {
                    "event_id": e.id,
                    "segment_id": c.segment_id,
                    "document_id": c.document_id,
                    "user": c.user,
                    "at": c.at,
                    "label": c.label,
                    "themes": c.themes,
                    "reverted": list(c.reverted),
                    "model_label": c.model_label,
                    "model_themes": c.model_themes,
                    "note": c.note,
                }
                for e in events
                for c in [e.data]
            ],
        )

    def _finalise_segments(self, conn: Connection, segment_ids: Sequence[str]) -> None:
        """Recompute the final label and themes of these segments from the model's values and every
        correction stored for them, and rewrite their rows in ``segment_themes``."""
        for chunk in _chunks(segment_ids):
            rows = conn.execute(
                core_select(
                    SEGS.c.segment_id,
                    SEGS.c.document_id,
                    SEGS.c.model_label,
                    SEGS.c.label,
                    SEGS.c.model_themes,
                ).where(SEGS.c.segment_id.in_(chunk))
            ).all()
            if not rows:
                continue
            found = [r.segment_id for r in rows]
            facts: dict[str, list[CorrectionFacts]] = {}
            for c in conn.execute(core_select(CORR).where(CORR.c.segment_id.in_(found))):
                facts.setdefault(c.segment_id, []).append(correction_facts(c))
            updates: list[dict[str, Any]] = []
            theme_rows: list[dict[str, Any]] = []
            for r in rows:
                final = fold_segment(r.model_label or r.label, r.model_themes, facts.get(r.segment_id, []))
                updates.append(
                    {
                        "b_id": r.segment_id,
                        "b_label": final.label,
                        "b_themes": final.themes,
                        "b_corrected": final.corrected,
                        "b_by": final.corrected_by,
                        "b_at": final.corrected_at,
                    }
                )
                theme_rows.extend(
                    {
                        "segment_id": r.segment_id,
                        "theme_id": t["id"],
                        "document_id": r.document_id,
                        "score": float(t.get("score", 1.0)),
                    }
                    for t in final.themes
                )
            conn.execute(
                update(SEGS)
                .where(SEGS.c.segment_id == bindparam("b_id"))
                .values(
                    label=bindparam("b_label"),
                    themes=bindparam("b_themes"),
                    corrected=bindparam("b_corrected"),
                    corrected_by=bindparam("b_by"),
                    corrected_at=bindparam("b_at"),
                ),
                updates,
            )
            conn.execute(SEG_THEMES.delete().where(SEG_THEMES.c.segment_id.in_(found)))
            if theme_rows:
                conn.execute(SEG_THEMES.insert(), theme_rows)

    def _finalise_documents(self, conn: Connection, document_ids: Sequence[str]) -> None:
        """Put the analyst's corrected metadata back over what extraction found."""
        for chunk in _chunks(document_ids):
            facts: dict[str, list[DocumentCorrectionFacts]] = {}
            stored_before: dict[str, Any] = {}
            for c in conn.execute(core_select(DOC_CORR).where(DOC_CORR.c.document_id.in_(chunk))):
                facts.setdefault(c.document_id, []).append(
                    DocumentCorrectionFacts(c.event_id, c.at, c.user, c.values or {})
                )
                stored_before[c.event_id] = c.before
            if not facts:
                continue
            updates = []
            befores: list[dict[str, Any]] = []
            for d in conn.execute(core_select(DOCS).where(DOCS.c.id.in_(list(facts)))):
                model = {
                    "sender": d.model_sender,
                    "sender_kind": d.model_sender_kind,
                    "date": d.model_date,
                    "title": d.model_title,
                }
                final, marks = fold_document(model, facts[d.id])
                # Each correction's "before" (the values it replaced), derived from extraction's values and the
                # corrections before it, so it does not depend on the order the events arrived in.
                for event_id, before in document_befores(model, facts[d.id]).items():
                    if stored_before.get(event_id) != before:
                        befores.append({"b_event_id": event_id, "b_before": before})
                updates.append(
                    {"b_id": d.id, **{f"b_{k}": v for k, v in final.items()}, "b_marks": marks or None}
                )
            conn.execute(
                update(DOCS)
                .where(DOCS.c.id == bindparam("b_id"))
                .values(
                    sender=bindparam("b_sender"),
                    sender_kind=bindparam("b_sender_kind"),
                    date=bindparam("b_date"),
                    title=bindparam("b_title"),
                    corrected_fields=bindparam("b_marks"),
                ),
                updates,
            )
            if befores:
                conn.execute(
                    update(DOC_CORR)
                    .where(DOC_CORR.c.event_id == bindparam("b_event_id"))
                    .values(before=bindparam("b_before")),
                    befores,
                )

    def _document_corrections(self, conn: Connection, events: list[Envelope[DocumentCorrected]]) -> None:
        """Keep every document correction event once (by event id). ``values`` holds the corrected fields, a
        ``None`` value for a reverted one; ``before`` is filled in by :meth:`_finalise_documents`."""
        if not events:
            return
        ins = self._insert(conn, DOC_CORR).on_conflict_do_nothing(index_elements=["event_id"])
        conn.execute(
            ins,
            [
                {
                    "event_id": e.id,
                    "document_id": e.data.document_id,
                    "user": e.data.user,
                    "at": e.data.at,
                    "values": document_correction_values(e.data),
                    "before": {},
                    "note": e.data.note,
                }
                for e in events
            ],
        )

    def _point_corrections(self, conn: Connection, events: list[Envelope[Any]]) -> None:
        """Keep every correction of the points once (by event id), each kind in its table; the point
        grouping applies them at its next write (services/store/themes/points.py)."""
        for kind, (table, columns) in POINT_CORRECTIONS.items():
            rows = [
                {
                    "event_id": e.id,
                    **columns(e.data),
                    "user": e.data.user,
                    "note": e.data.note or "",
                    "created_at": e.data.at,
                }
                for e in events
                if isinstance(e.data, kind)
            ]
            if rows:
                conn.execute(
                    self._insert(conn, table).on_conflict_do_nothing(index_elements=["event_id"]), rows
                )

    def _drop_stale_segments(self, conn: Connection, ids: Sequence[str]) -> None:
        """Once an extraction is known, segments numbered beyond its segment count belong to an older
        extraction of the same bytes (a replay with a changed extractor) and are removed."""
        known = conn.execute(
            core_select(DOCS.c.id, DOCS.c.segment_count).where(
                DOCS.c.id.in_(ids), DOCS.c.extracted_at.is_not(None), DOCS.c.segment_count.is_not(None)
            )
        ).all()
        if known:
            conn.execute(
                SEGS.delete().where(SEGS.c.document_id == bindparam("b_id"), SEGS.c.seq >= bindparam("b_n")),
                [{"b_id": i, "b_n": n} for i, n in known],
            )
            live = core_select(SEGS.c.segment_id).where(SEGS.c.document_id == bindparam("b_id"))
            conn.execute(
                SEG_THEMES.delete().where(
                    SEG_THEMES.c.document_id == bindparam("b_id"), SEG_THEMES.c.segment_id.not_in(live)
                ),
                [{"b_id": i} for i, _ in known],
            )

    def _apply_review_budget(self, conn: Connection, ids: Sequence[str]) -> None:
        """Show the model's review flag only on the least confident segments of each letter, within the
        budget (shared/review.py); worked out again from the model's flags whenever a letter's segments
        change."""
        if not ids:
            return
        rows: dict[str, list[Any]] = {}
        for r in conn.execute(
            core_select(
                SEGS.c.segment_id,
                SEGS.c.document_id,
                SEGS.c.confidence,
                SEGS.c.model_needs_review,
                SEGS.c.needs_review,
            )
            .where(SEGS.c.document_id.in_(ids))
            .order_by(SEGS.c.document_id, SEGS.c.seq)
        ):
            rows.setdefault(r.document_id, []).append(r)
        totals = {
            d.id: d.segment_count
            for d in conn.execute(core_select(DOCS.c.id, DOCS.c.segment_count).where(DOCS.c.id.in_(ids)))
        }
        changed: list[dict[str, Any]] = []
        for doc, segs in rows.items():
            shown = within_budget(
                [r.confidence for r in segs],
                [bool(r.model_needs_review) for r in segs],
                self.review_budget,
                totals.get(doc),
            )
            changed.extend(
                {"b_sid": r.segment_id, "b_flag": flag}
                for r, flag in zip(segs, shown, strict=True)
                if bool(r.needs_review) != flag
            )
        if changed:
            conn.execute(
                update(SEGS)
                .where(SEGS.c.segment_id == bindparam("b_sid"))
                .values(needs_review=bindparam("b_flag")),
                changed,
            )

    def _refresh(self, conn: Connection, ids: list[str], now: datetime, segmented: set[str]) -> None:
        """Recompute counts, status and search text of the touched documents from the stored rows, and the
        review budget of those whose segments changed (``segmented``)."""
        updates: list[dict[str, Any]] = []
        done: list[dict[str, Any]] = []
        not_done: list[str] = []
        for chunk in _chunks(ids):
            self._drop_stale_segments(conn, chunk)
            self._apply_review_budget(conn, [i for i in chunk if i in segmented])
            counted = {
                r.document_id: (r.n, r.last)
                for r in conn.execute(
                    core_select(
                        SEGS.c.document_id,
                        func.count().label("n"),
                        func.max(SEGS.c.classified_at).label("last"),
                    )
                    .where(SEGS.c.document_id.in_(chunk))
                    .group_by(SEGS.c.document_id)
                )
            }
            for d in conn.execute(core_select(DOCS).where(DOCS.c.id.in_(chunk))):
                n, last = counted.get(d.id, (0, None))
                facts = DocumentFacts(d.extracted_at, d.failed_at, d.segment_count, n, last)
                updates.append(
                    {
                        "b_id": d.id,
                        "b_status": compute_status(facts),
                        "b_n": n,
                        "b_last": last,
                        "b_search": search_text(d.filename, d.title),
                        "b_now": now,
                    }
                )
                marker = event_id_for("store", "classified", d.id)
                if is_complete(facts):
                    done.append(
                        {
                            "event_id": marker,
                            "document_id": d.id,
                            "status": "classified",
                            "at": last or d.extracted_at or now,
                            "detail": f"{n} of {d.segment_count} segments classified",
                        }
                    )
                else:
                    not_done.append(marker)
        conn.execute(
            update(DOCS)
            .where(DOCS.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                classified_count=bindparam("b_n"),
                last_classified_at=bindparam("b_last"),
                search_text=bindparam("b_search"),
                updated_at=bindparam("b_now"),
            ),
            updates,
        )
        # One derived "classified" entry per complete document, moved forward by re-classifications,
        # and removed again if a larger segment count arrives later (so it never depends on arrival order).
        if done:
            self._history(conn, done, overwrite=True)
        for chunk in _chunks(not_done):
            conn.execute(HIST.delete().where(HIST.c.event_id.in_(chunk)))
