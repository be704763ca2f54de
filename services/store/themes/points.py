"""Points (the same point made by several senders) kept in the store, stable as letters arrive.

The grouping sees the content segments and the latent ones: labelled «other» by the model without
confidence (grouping.latent_label; never one an analyst labelled «other»). A latent segment joins a point
that content segments make; a member shows its own label.

The grouping itself is :mod:`services.store.points.grouping`. Here every point is stored with its members,
singletons included, so that the next letters are added *incrementally* (a new segment joins an existing point
or founds a new one; nothing is reshuffled). A point may hold members of different content labels (the pair
model weighs a label difference); its label is the one most members have. A segment whose label changed (a
correction) or that disappeared makes the stored grouping stale: then, and on demand, the whole grouping is
recomputed, carrying each old point's id over to the new point it shares most members with.

Round 11 (issue 13): a regrouping as the collection grows. Letter by letter, the incremental path lets each
new segment join the first point it reaches and never revisits that choice; on the whole-letter sets it
brought planted points back worse than one grouping of the same letters (points_letters_test from PDF: 2 ->
1 of 9 exact, planted precision 0.632 -> 0.494, recall 0.609 -> 0.400; heldout_k 2 -> 1 of 8, 0.634 ->
0.358). So once the content segments have grown by ``REFIT_GROWTH`` since the last whole grouping, the
next refresh regroups everything, point ids carried over; in between, new letters join incrementally.
Chosen on the training sets (letters_train, _train2, _train3 arriving one letter at a time): growth 0.25
gives 3, 2, 1 exact points, 0.1 gives 1, 2, 1 with twice the regroupings; at each regrouping 96-99 % of the
grouped segments keep their point. On the sets never trained on, 0.25: points_letters_test 1 of 9
(0.674 / 0.582), heldout_k 2 of 8 (0.634 / 0.344, as one grouping). Regroupings get rarer as the
collection grows (about every quarter of growth), so at 2,000 letters a new letter is added incrementally.

Round 17 (issue 13): a small collection is regrouped whole on every refresh (``FULL_UP_TO`` groupable
segments, about 200 letters: a whole grouping takes about 2 s there). With the quarter's-growth rule alone,
what the points looked like after the last letter depended on whether that letter happened to set off a
regrouping. Letters arriving one at a time from PDF (``python -m tools.points.evaluate --set S --pdf
--arrival [--full-up-to 0]``, classifier ``x66e6``), the growth rule alone -> now, planted points exact and precision over pairs
with a planted member; chosen on the training sets: letters_train 4 -> 6 of 9 (0.817 -> 0.839),
letters_train2 4 -> 4 (0.869 -> 0.883), letters_train3 2 -> 2 (0.785 -> 0.821), letters_dev 8 -> 8 (0.920
both). Sets never trained on: letters_test 4 -> 4 of 9 (0.748 both; its last letter set off a regrouping
either way), letters_test2 0 -> 0 of 8 (0.333 -> 0.400, pair recall 0.138 -> 0.150), letters_hard 0 -> 0 of
18 (0.368 -> 0.445, recall 0.192 -> 0.208), heldout_k 2 -> 2 of 8 (0.488 both). The share of grouped
segments a refresh moves to another point stays about the same (0.014-0.042 -> 0.018-0.056 a letter).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from services.store.models import (
    Document,
    Point,
    PointExclusion,
    PointMember,
    PointMerge,
    PointName,
    Segment,
    SegmentVector,
    table_of,
)
from shared.events import CONTENT_LABELS

if TYPE_CHECKING:
    from services.store.points import grouping
    from services.store.points.encoder import TextEncoder

log = logging.getLogger(__name__)

#: A model theme counts for grouping from this score (an analyst's themes have score 1.0). The tagger
#: already keeps only themes over its own per-theme thresholds (0.375-0.525); a floor of 0.5 dropped some
#: of those and split points whose members then had disjoint themes (letters_dev with predicted labels:
#: 3 -> 4 of 10 points exact, pair recall 0.568 -> 0.636, planted precision 0.781 -> 0.800; heldout_k and
#: points_letters_test unchanged; ``python -m tools.points.evaluate --set letters_dev --predicted-labels``).
THEME_MIN_SCORE = 0.3

#: Regroup everything once the content segments have grown by this share since the last whole grouping.
REFIT_GROWTH = 0.25

#: While there are at most this many groupable segments, every refresh regroups them all (point ids carried
#: over): a whole grouping of 5,000 takes about 2 s on the 2-core box (``python -m tools.points.evaluate
#: --scale 200``: 200 letters). The incremental path is for large collections, where a regrouping costs
#: 20-30 s; below this size it only makes the points depend on the order letters came in.
FULL_UP_TO = 5000


def regroup_all(total: int, fitted_on: int, full_up_to: int = FULL_UP_TO) -> bool:
    """Whether a refresh that found only new segments regroups everything: while the collection is small
    (``full_up_to``), and once it has grown by ``REFIT_GROWTH`` since the last whole grouping (``fitted_on``
    segments then)."""
    return total <= full_up_to or total - fitted_on >= REFIT_GROWTH * max(fitted_on, 1)


#: Segments embedded per transaction when their encoder vectors are made (about 20 ms each).
EMBED_BATCH = 256

#: Point ids per ``IN (...)`` list when reading the points' members and names.
IDS_PER_QUERY = 500


class PointNotFound(LookupError):
    """No stored point has that id."""


class NotAMember(ValueError):
    """The segment is not a quote of that point (or is its only one)."""


class SamePoint(ValueError):
    """A point cannot be merged with itself."""


@dataclass(frozen=True)
class RefreshResult:
    mode: str  # "none", "incremental" or "full"
    added: int
    points: int


def _groupable() -> ColumnElement[bool]:
    """Segments the grouping may see: content labels, and «other» the model gave at most
    grouping.LATENT_MAX_OTHER (never one an analyst set: a correction to «other» is final)."""
    from services.store.points.grouping import LATENT_MAX_OTHER

    latent = and_(
        col(Segment.label) == "other",
        col(Segment.corrected).is_(False),
        col(Segment.confidence) <= LATENT_MAX_OTHER,
    )
    return or_(col(Segment.label).in_(CONTENT_LABELS), latent)


def _theme_ids(themes: list[dict[str, Any]] | None) -> tuple[str, ...]:
    return tuple(str(t["id"]) for t in themes or [] if float(t.get("score", 1.0)) >= THEME_MIN_SCORE)


class PointStore:
    def __init__(
        self, engine: Engine, config: grouping.Config | None = None, full_up_to: int = FULL_UP_TO
    ) -> None:
        self.engine = engine
        self.config = config
        #: Groupable segments up to which every refresh regroups them all (``regroup_all``).
        self.full_up_to = full_up_to
        self._lock = threading.Lock()  # one grouping at a time per process
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="points")
        self._started_lock = threading.Lock()
        self._started: Future[RefreshResult] | None = None
        self._embedding: Future[int] | None = None
        self._signature: tuple[Any, ...] | None = None
        #: Content segments at the last whole grouping (None: not since this process started; the stored
        #: points then count as one).
        self._fitted_on: int | None = None

    # ------------------------------------------------------------------ inputs
    def _content_segments(self) -> list[grouping.Segment]:
        """Every groupable segment in arrival order (documents by receipt, then reading order): the content
        segments, and the latent ones (grouping.latent_label: called «other», but not with confidence)."""
        from services.store.points import grouping  # imported when used: a heavy library (numpy, scipy)
        from services.store.points.encoder import MODEL_NAME, text_hash

        stmt = (
            select(
                col(Segment.segment_id),
                col(Segment.document_id),
                col(Document.sender),
                col(Segment.label),
                col(Segment.scores),
                col(Segment.themes),
                col(Segment.text),
                col(Segment.page),
                col(SegmentVector.vector),
                col(SegmentVector.text_hash),
                col(SegmentVector.model),
            )
            .join(Document, col(Document.id) == col(Segment.document_id))
            .outerjoin(SegmentVector, col(SegmentVector.segment_id) == col(Segment.segment_id))
            .where(_groupable())
            .order_by(col(Document.received_at), col(Document.created_at), col(Document.id), col(Segment.seq))
        )
        out: list[grouping.Segment] = []
        with self.engine.connect() as conn:
            for r in conn.execute(stmt):
                grouped = grouping.grouped_as(r.label, r.scores)
                if grouped is None:
                    continue
                vector = None
                if r.vector is not None and r.model == MODEL_NAME and r.text_hash == text_hash(r.text):
                    vector = np.frombuffer(r.vector, dtype="<f2").astype(np.float32)
                out.append(
                    grouping.Segment(
                        segment_id=r.segment_id,
                        document_id=r.document_id,
                        sender=r.sender,
                        label=grouped[0],
                        themes=_theme_ids(r.themes),
                        text=r.text,
                        page=r.page,
                        latent=grouped[1],
                        vector=vector,
                    )
                )
        return out

    def _encoder(self) -> TextEncoder | None:
        """The grouping's sentence encoder, or None when the configuration or the installation has none."""
        from services.store.points.encoder import load_encoder

        if self.config is not None and not self.config.encoder:
            return None
        return load_encoder()

    def _embed_missing(self, segs: list[grouping.Segment]) -> list[grouping.Segment]:
        """Make and keep the encoder vectors the segments lack (new, or with changed text), so that every
        later regrouping only reads them; the segments come back with their vectors."""
        from services.store.points.encoder import text_hash

        missing = [k for k, s in enumerate(segs) if s.vector is None]
        encoder = self._encoder() if missing else None
        if encoder is None:
            return segs
        out = list(segs)
        started = time.perf_counter()
        table = table_of(SegmentVector)
        for start in range(0, len(missing), EMBED_BATCH):
            idx = missing[start : start + EMBED_BATCH]
            raw = encoder.raw([segs[k].text for k in idx])
            rows = [
                {
                    "segment_id": segs[k].segment_id,
                    "text_hash": text_hash(segs[k].text),
                    "model": encoder.name,
                    "vector": raw[n].astype("<f2").tobytes(),
                }
                for n, k in enumerate(idx)
            ]
            with self.engine.begin() as conn:
                conn.execute(
                    delete(SegmentVector).where(
                        col(SegmentVector.segment_id).in_([r["segment_id"] for r in rows])
                    )
                )
                conn.execute(insert(table), rows)
            for n, k in enumerate(idx):
                out[k] = dataclasses.replace(segs[k], vector=raw[n])
            log.info(
                "points: embedded %d of %d new segments (%.0f s)",
                min(start + EMBED_BATCH, len(missing)),
                len(missing),
                time.perf_counter() - started,
            )
        return out

    def _stored(self, by_id: dict[str, grouping.Segment]) -> tuple[list[grouping.Point], bool]:
        """The stored points as the library's points (members as they are now), and whether they are stale."""
        from services.store.points import grouping

        with self.engine.connect() as conn:
            rows = list(conn.execute(select(Point)))
            members: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
            for pid, sid, label in conn.execute(
                select(col(PointMember.point_id), col(PointMember.segment_id), col(PointMember.label))
            ):
                members[pid].append((sid, label))
        stale = False
        points: list[grouping.Point] = []
        for r in rows:
            segs = []
            for sid, label in members.get(r.id, []):
                seg = by_id.get(sid)
                # a member whose label changed (a correction) or that is gone: the grouping is stale.
                # A point may mix labels; rows from before revision 0006 have no label of their own.
                if seg is None or seg.label != (label or r.label):
                    stale = True
                    continue
                segs.append(seg)
            if segs:
                points.append(
                    grouping.Point(
                        r.id,
                        r.label,
                        list(r.themes or []),
                        r.summary,
                        list(r.keywords or []),
                        r.sender_count,
                        segs,
                    )
                )
            else:
                stale = True
        return points, stale

    # ------------------------------------------------------------------ refresh
    def refresh(self, *, full: bool = False) -> RefreshResult:
        """Bring the stored points up to date: incremental when only new segments arrived to a large
        collection (``regroup_all``), else (or when ``full``) a recompute that keeps point ids."""
        from services.store.points import grouping

        with self._lock:
            signature = self._current_signature()
            if not full and signature == self._signature:
                return RefreshResult("none", 0, -1)
            segs = self._embed_missing(self._content_segments())
            by_id = {s.segment_id: s for s in segs}
            stored, stale = self._stored(by_id)
            grouped = {m.segment_id for p in stored for m in p.members}
            new = [s for s in segs if s.segment_id not in grouped]
            if not full and not stale and not new:  # corrections may have come in from the topic
                return RefreshResult("none", 0, len(self._write_corrected(stored)))
            base = self._fitted_on if self._fitted_on is not None else len(grouped)
            if full or stale or not stored or regroup_all(len(segs), base, self.full_up_to):
                g = grouping.PointGrouper(self.config)
                g.fit(segs, previous=stored or None)
                mode = "full"
                self._fitted_on = len(segs)
            else:
                g = grouping.PointGrouper.from_points(stored, self.config)
                g.add(new)
                mode = "incremental"
            points = g.points(min_senders=1)  # every point, singletons too: the next letters join them
            points = grouping.corrected(points, self._corrections(), self.config)
            self._write(points)
            self._signature = self._current_signature()
            return RefreshResult(mode, len(new), len(points))

    # ------------------------------------------------------------------ analysts' corrections
    def _corrections(self) -> list[grouping.Correction]:
        """Every exclusion and merge, in the order the analysts made them (a later one wins)."""
        from services.store.points import grouping

        made: list[tuple[datetime, int, grouping.Correction]] = []
        with self.engine.connect() as conn:
            for at, sid, apart in conn.execute(
                select(
                    col(PointExclusion.created_at),
                    col(PointExclusion.segment_id),
                    col(PointExclusion.apart_from),
                )
            ):
                made.append((at, 0, grouping.Apart(sid, frozenset(apart or []))))
            for at, pid, together in conn.execute(
                select(col(PointMerge.created_at), col(PointMerge.point_id), col(PointMerge.segment_ids))
            ):
                made.append((at, 1, grouping.Together(pid, frozenset(together or []))))
        made.sort(key=lambda m: (m[0], m[1]))
        return [c for _at, _kind, c in made]

    def _quotes(self, *point_ids: str) -> dict[str, list[tuple[str, str]]]:
        """Each point's quotes as (segment id, document id), in segment order. Raises PointNotFound for a
        point with none (a stored point always has some)."""
        quotes: dict[str, list[tuple[str, str]]] = {pid: [] for pid in point_ids}
        with self.engine.connect() as conn:
            for pid, sid, doc in conn.execute(
                select(col(PointMember.point_id), col(PointMember.segment_id), col(Segment.document_id))
                .join(Segment, col(Segment.segment_id) == col(PointMember.segment_id))
                .where(col(PointMember.point_id).in_(point_ids))
                .order_by(col(PointMember.segment_id))
            ):
                quotes[pid].append((sid, doc))
        for pid in point_ids:
            if not quotes[pid]:
                raise PointNotFound(pid)
        return quotes

    def exclusion_of(self, point_id: str, segment_id: str) -> tuple[str, list[str]]:
        """(the segment's document id, the point's other quotes) for taking a quote out of a point. Raises
        PointNotFound, or NotAMember when the segment is not one of the point's quotes or is its only one."""
        members = dict(self._quotes(point_id)[point_id])
        if segment_id not in members:
            raise NotAMember(f"segment {segment_id!r} is not a quote of point {point_id!r}")
        others = sorted(m for m in members if m != segment_id)
        if not others:
            raise NotAMember(f"segment {segment_id!r} is the only quote of point {point_id!r}")
        return members[segment_id], others

    def merge_of(self, point_id: str, other_id: str) -> tuple[str, list[str]]:
        """(the document of the point's first quote, both points' quotes) for merging ``other_id`` into
        ``point_id``. Raises PointNotFound for an unknown point, SamePoint for a point merged with itself."""
        if point_id == other_id:
            raise SamePoint(f"point {point_id!r} cannot be merged with itself")
        quotes = self._quotes(point_id, other_id)
        return quotes[point_id][0][1], sorted(sid for pid in quotes for sid, _doc in quotes[pid])

    def first_document(self, point_id: str) -> str:
        """The document of a point's first quote (the key its corrections are published under). Raises
        PointNotFound."""
        return self._quotes(point_id)[point_id][0][1]

    def _write_corrected(self, stored: list[grouping.Point]) -> list[grouping.Point]:
        """The stored points with the corrections applied, written when that changed them (lock held)."""
        from services.store.points import grouping

        after = grouping.corrected(stored, self._corrections(), self.config)
        if len(after) != len(stored) or any(a is not b for a, b in zip(after, stored, strict=True)):
            self._write(after)
        self._signature = self._current_signature()
        return after

    def names(self) -> list[dict[str, Any]]:
        """Every name analysts gave a point, newest first (the audit trail; a null name is a revert)."""
        return [
            {**r, "summary": r["summary"] or None} for r in self._audit(PointName, ("point_id", "summary"))
        ]

    def _names_of(self, conn: Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
        """Point id -> (name, who) for the points an analyst named; the newest name wins, an empty one
        gives the point back its model's summary."""
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(ids), IDS_PER_QUERY):
            stmt = (
                select(col(PointName.point_id), col(PointName.summary), col(PointName.user))
                .where(col(PointName.point_id).in_(ids[i : i + IDS_PER_QUERY]))
                .order_by(col(PointName.created_at), col(PointName.id))
            )
            for pid, summary, user in conn.execute(stmt):
                if summary:
                    out[pid] = (summary, user)
                else:
                    out.pop(pid, None)
        return out

    def merges(self) -> list[dict[str, Any]]:
        """Every merge of two points, newest first (the audit trail)."""
        return self._audit(PointMerge, ("point_id", "merged_point_id", "segment_ids"))

    def exclusions(self) -> list[dict[str, Any]]:
        """Every exclusion, newest first (the audit trail)."""
        return self._audit(PointExclusion, ("segment_id", "point_id", "apart_from"))

    def _audit(
        self, model: type[PointExclusion | PointMerge | PointName], fields: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """An analysts' correction table, newest first: its own ``fields``, who, when and why."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(model).order_by(col(model.id).desc()))
            return [
                {
                    **{f: getattr(r, f) for f in fields},
                    "user": r.user,
                    "note": r.note,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    def refresh_started(self) -> Future[RefreshResult]:
        """A ``refresh`` running in a background thread: the one under way, or a new one. Pages wait for it
        only briefly (a whole regrouping at 1,000 letters takes 20-30 s) and show the stored points in the
        meantime; ``GET /points`` still refreshes before it answers."""
        with self._started_lock:
            if self._started is None or self._started.done():
                self._started = self._background.submit(self.refresh)
            return self._started

    def embed_started(self) -> None:
        """Embed the groupable segments that have no vector yet, in the background, so that the next
        grouping finds them ready (at about 20 ms a segment, a hundred letters take a minute or two).
        Called after every batch the store writes; while one run is queued or under way, no other starts."""
        with self._started_lock:
            if self._embedding is not None and not self._embedding.done():
                return
            self._embedding = self._background.submit(self.embed_pending)

    def embed_pending(self) -> int:
        """Make the vectors the groupable segments lack; returns how many were made."""
        from services.store.points import grouping

        if self._encoder() is None:
            return 0
        stmt = (
            select(
                col(Segment.segment_id),
                col(Segment.document_id),
                col(Segment.label),
                col(Segment.scores),
                col(Segment.text),
            )
            .outerjoin(SegmentVector, col(SegmentVector.segment_id) == col(Segment.segment_id))
            .where(_groupable(), col(SegmentVector.segment_id).is_(None))
            .order_by(col(Segment.document_id), col(Segment.seq))
        )
        with self._lock:  # one writer of vectors at a time: a grouping embeds what it still lacks
            with self.engine.connect() as conn:
                rows = [r for r in conn.execute(stmt) if grouping.grouped_as(r.label, r.scores) is not None]
            todo = [grouping.Segment(r.segment_id, r.document_id, None, r.label, (), r.text) for r in rows]
            try:
                return sum(1 for s in self._embed_missing(todo) if s.vector is not None)
            except Exception:  # a failed embedding is made again by the next grouping
                log.exception("points: embedding new segments failed")
                return 0

    def _current_signature(self) -> tuple[Any, ...]:
        """What changes whenever the grouping's input may have changed (a cheap check before the real one):
        content segments (count, newest classification, newest correction), the stored members, the
        documents and the analysts' exclusions and merges."""
        seg = (
            select(func.count(), func.max(col(Segment.classified_at)), func.max(col(Segment.corrected_at)))
            .select_from(Segment)
            .where(_groupable())
        )
        with self.engine.connect() as conn:
            a = tuple(conn.execute(seg).one())
            counts = tuple(
                conn.execute(
                    select(
                        *(
                            select(func.count()).select_from(t).scalar_subquery()
                            for t in (PointMember, Document, PointExclusion, PointMerge)
                        )
                    )
                ).one()
            )
        return (*a, *counts)

    def _write(self, points: list[grouping.Point]) -> None:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(delete(PointMember))
            conn.execute(delete(Point))
            if not points:
                return
            conn.execute(
                insert(Point),
                [
                    {
                        "id": p.id,
                        "label": p.label,
                        "themes": list(p.themes),
                        "summary": p.summary,
                        "keywords": list(p.keywords),
                        "sender_count": p.sender_count,
                        "segment_count": len(p.members),
                        "updated_at": now,
                    }
                    for p in points
                ],
            )
            conn.execute(
                insert(PointMember),
                [
                    {"point_id": p.id, "segment_id": m.segment_id, "label": m.label}
                    for p in points
                    for m in p.members
                ],
            )

    # ------------------------------------------------------------------ reads
    def points(
        self,
        *,
        theme: str | None = None,
        label: str | None = None,
        min_senders: int = 2,
        sender_kind: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Stored points as in DESIGN.md, most senders first. With ``sender_kind``, only members from senders
        of that kind count (and a point needs ``min_senders`` of them)."""
        stmt = select(Point).where(col(Point.sender_count) >= min_senders)
        if label:
            stmt = stmt.where(col(Point.label) == label)
        stmt = stmt.order_by(col(Point.sender_count).desc(), col(Point.segment_count).desc(), col(Point.id))
        with self.engine.connect() as conn:
            rows = [r for r in conn.execute(stmt) if not theme or theme in (r.themes or [])]
            members: dict[str, list[dict[str, Any]]] = defaultdict(list)
            ids = [r.id for r in rows]
            for i in range(0, len(ids), IDS_PER_QUERY):
                q = (
                    select(
                        col(PointMember.point_id),
                        col(Segment.segment_id),
                        col(Segment.document_id),
                        col(Document.sender),
                        col(Document.sender_kind),
                        col(Document.filename),
                        col(Segment.page),
                        col(Segment.text),
                        col(Segment.seq),
                        col(Segment.label),
                    )
                    .join(Segment, col(Segment.segment_id) == col(PointMember.segment_id))
                    .join(Document, col(Document.id) == col(Segment.document_id))
                    .where(col(PointMember.point_id).in_(ids[i : i + IDS_PER_QUERY]))
                    .order_by(col(Document.sender), col(Segment.document_id), col(Segment.seq))
                )
                for m in conn.execute(q):
                    members[m.point_id].append(
                        {
                            "segment_id": m.segment_id,
                            "document_id": m.document_id,
                            "sender": m.sender,
                            "sender_kind": m.sender_kind or "ukjent",
                            "filename": m.filename,
                            "page": m.page,
                            "label": m.label,
                            "text": m.text,
                        }
                    )
            named = self._names_of(conn, ids)
        out = []
        for r in rows:
            segs = members.get(r.id, [])
            if sender_kind:
                segs = [s for s in segs if s["sender_kind"] == sender_kind]
            senders = {(s["sender"] or "").strip().casefold() or f"doc:{s['document_id']}" for s in segs}
            if len(senders) < min_senders or not segs:
                continue
            out.append(
                {
                    "id": r.id,
                    "label": r.label,
                    "themes": list(r.themes or []),
                    "summary": named[r.id][0] if r.id in named else r.summary,
                    "model_summary": r.summary,
                    "named_by": named[r.id][1] if r.id in named else None,
                    "keywords": list(r.keywords or []),
                    "sender_count": len(senders),
                    "segments": segs,
                }
            )
        out.sort(key=lambda p: (-p["sender_count"], -len(p["segments"]), p["id"]))
        return out[:limit] if limit else out
