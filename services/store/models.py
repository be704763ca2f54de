"""Tables of the store: documents, their classified segments, and a status history; analyst corrections
(an audit log that is also the source of truth for every corrected value); final themes per segment; points.

Besides the contract columns there are a few bookkeeping columns that make out-of-order and replayed
events converge: the event times of the last extraction, failure and classification, and a document's
lower-cased ``search_text`` (filename and title) so its free-text filter behaves the same (Unicode-aware) on
SQLite and PostgreSQL. Segment search has its own index (:mod:`services.store.search`).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, LargeBinary, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware.

    SQLite has no time zone type, so values go in as naive UTC there; text comparison of the stored
    ISO strings then orders them correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    id: str = Field(primary_key=True, max_length=64)
    filename: str | None = Field(default=None, sa_type=Text)
    sha256: str | None = Field(default=None, max_length=64)
    bytes: int | None = Field(default=None, sa_type=BigInteger)
    content_type: str | None = Field(default=None, max_length=255)
    blob_uri: str | None = Field(default=None, sa_type=Text)
    source: str | None = Field(default=None, max_length=32)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="received", max_length=16, index=True)
    failed_stage: str | None = Field(default=None, max_length=32)
    error_code: str | None = Field(default=None, max_length=128)
    error_message: str | None = Field(default=None, sa_type=Text)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sender: str | None = Field(default=None, sa_type=Text, index=True)
    date: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, sa_type=Text)
    sender_kind: str = Field(default="ukjent", max_length=32, index=True)
    # What extraction found; the columns above are the final values (an analyst's correction wins).
    model_sender: str | None = Field(default=None, sa_type=Text)
    model_sender_kind: str | None = Field(default=None, max_length=32)
    model_date: str | None = Field(default=None, max_length=64)
    model_title: str | None = Field(default=None, sa_type=Text)
    #: Fields an analyst corrected: {field: {"by": user, "at": iso time}}.
    corrected_fields: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    page_count: int | None = None
    segment_count: int | None = None
    classified_count: int = 0
    extracted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_classified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    search_text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Segment(SQLModel, table=True):
    __tablename__ = "segments"
    # (document_id, seq) serves both "segments of a document" and their reading order; the review index the
    # review queue (uncorrected, needs_review first, least confident first).
    __table_args__ = (
        Index("ix_segments_document_id_seq", "document_id", "seq"),
        Index("ix_segments_review", "corrected", "needs_review", "confidence", "segment_id"),
    )

    segment_id: str = Field(primary_key=True, max_length=80)
    document_id: str = Field(max_length=64)
    seq: int
    page: int
    heading_path: list[str] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(sa_type=Text)
    kind: str = Field(default="paragraph", max_length=32)
    ocr: bool = False
    label: str = Field(max_length=16, index=True)
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    model_version: str = Field(max_length=128)
    classified_at: datetime = Field(sa_type=UTCDateTime)
    #: Final themes [{id, score}] (the analyst's when corrected; a corrected theme carries score 1.0).
    themes: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    # The model's own values; ``label``/``themes`` above are final.
    model_label: str | None = Field(default=None, max_length=16)
    model_themes: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    #: The model's flag (top score under its review threshold) and the one shown: the model's, kept for the
    #: least confident segments of the letter within the review budget (shared/review.py).
    model_needs_review: bool = False
    needs_review: bool = False
    #: The model's highest label score (the review queue shows the least confident first).
    confidence: float | None = Field(default=None, sa_type=Float)
    corrected: bool = Field(default=False, index=True)
    corrected_by: str | None = Field(default=None, max_length=200)
    corrected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StatusEvent(SQLModel, table=True):
    __tablename__ = "status_events"
    __table_args__ = (Index("ux_status_events_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    document_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)
    detail: str | None = Field(default=None, sa_type=Text)


class SegmentTheme(SQLModel, table=True):
    """The final themes of each segment, one row per theme: what theme filters and counts read."""

    __tablename__ = "segment_themes"
    __table_args__ = (Index("ix_segment_themes_theme_id", "theme_id"),)

    segment_id: str = Field(primary_key=True, max_length=80)
    theme_id: str = Field(primary_key=True, max_length=64)
    document_id: str = Field(max_length=64, index=True)
    score: float = Field(default=1.0, sa_type=Float)


class Correction(SQLModel, table=True):
    """One ``segments.corrected`` event: the audit log, and the source of every corrected value (the final
    values are folded from these rows in time order, so any arrival order gives the same result)."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ux_corrections_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    segment_id: str = Field(max_length=80, index=True)
    document_id: str = Field(max_length=64, index=True)
    user: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    label: str | None = Field(default=None, max_length=16)
    themes: list[str] | None = Field(default=None, sa_type=JSON)
    reverted: list[str] = Field(default_factory=list, sa_type=JSON)
    model_label: str | None = Field(default=None, max_length=16)
    model_themes: list[str] | None = Field(default=None, sa_type=JSON)
    note: str | None = Field(default=None, sa_type=Text)


class DocumentCorrection(SQLModel, table=True):
    """An analyst's correction of a document's metadata: ``values`` holds the corrected fields (a ``None``
    value reverts that field to what extraction found)."""

    __tablename__ = "document_corrections"
    __table_args__ = (Index("ux_document_corrections_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    document_id: str = Field(max_length=64, index=True)
    user: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)
    values: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    before: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    note: str | None = Field(default=None, sa_type=Text)


class Point(SQLModel, table=True):
    """A group of segments from different letters that make the same point (stable ids across runs)."""

    __tablename__ = "points"

    id: str = Field(primary_key=True, max_length=64)
    label: str = Field(max_length=16, index=True)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    summary: str = Field(default="", sa_type=Text)
    keywords: list[str] = Field(default_factory=list, sa_type=JSON)
    sender_count: int = 0
    segment_count: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PointMember(SQLModel, table=True):
    __tablename__ = "point_members"

    point_id: str = Field(primary_key=True, max_length=64)
    segment_id: str = Field(primary_key=True, max_length=80, index=True)
    label: str | None = Field(default=None, max_length=16)  # the member's label when grouped (0006)


class SegmentVector(SQLModel, table=True):
    """The point grouping's sentence-encoder vector of a groupable segment (0008): embedded once, read by
    every regrouping. ``text_hash`` says which text it was made from; ``model`` which encoder made it."""

    __tablename__ = "segment_vectors"

    segment_id: str = Field(primary_key=True, max_length=80)
    text_hash: str = Field(max_length=16)
    model: str = Field(max_length=64)
    vector: bytes = Field(sa_type=LargeBinary)  # float16, little-endian


class PointExclusion(SQLModel, table=True):
    """An analyst took a quote out of a point (0009; a ``PointExcluded`` event on ``segments.corrected``,
    kept once by event id). The segment never again shares a point with the segments it was taken away from
    (``apart_from``), whatever a later regrouping finds."""

    __tablename__ = "point_exclusions"
    __table_args__ = (Index("ux_point_exclusions_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    segment_id: str = Field(max_length=80, index=True)
    point_id: str = Field(max_length=64)
    apart_from: list[str] = Field(default_factory=list, sa_type=JSON)
    user: str = Field(max_length=200)
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PointMerge(SQLModel, table=True):
    """An analyst merged two points (0010; a ``PointsMerged`` event on ``segments.corrected``, kept once by
    event id). The quotes in ``segment_ids`` share one point, named ``point_id``, whatever a later regrouping
    finds, until a later exclusion takes one of them out."""

    __tablename__ = "point_merges"
    __table_args__ = (Index("ux_point_merges_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    point_id: str = Field(max_length=64)
    merged_point_id: str = Field(max_length=64)
    segment_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    user: str = Field(max_length=200)
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PointName(SQLModel, table=True):
    """An analyst named a point (0011; a ``PointNamed`` event on ``segments.corrected``, kept once by event
    id). The newest name of a point id is shown in place of the model's summary; an empty ``summary`` gives
    it back the model's."""

    __tablename__ = "point_names"
    __table_args__ = (Index("ux_point_names_event_id", "event_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    point_id: str = Field(max_length=64, index=True)
    summary: str = Field(default="", sa_type=Text)
    user: str = Field(max_length=200)
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for SQLAlchemy Core statements (SQLModel's ``__table__`` is not
    declared to type checkers)."""
    return model.metadata.tables[str(model.__tablename__)]
