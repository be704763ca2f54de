"""Event schemas: a CloudEvents-style envelope around one typed payload per topic.

Every value on Kafka is ``Envelope.model_dump_json()``. ``schema_version`` lets a consumer refuse
(and dead-letter) an event it does not understand instead of guessing.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Generic, Literal, TypeVar, get_args, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.ids import event_id_for

SCHEMA_VERSION = 1
SPEC_VERSION = "1.0"
#: The version of extract's rules, the default of ``DocumentExtracted.extractor_version``: its one owner (the
#: extract service stamps it; bump it when a change to services/extract gives a document other segments).
EXTRACTOR_VERSION = "6"

Label = Literal["challenge", "measure", "example", "other"]
LABELS: tuple[str, ...] = get_args(Label)
#: The labels that carry a point of the letter (everything but ``other``): they get themes and make points.
CONTENT_LABELS: tuple[str, ...] = ("challenge", "measure", "example")
SenderKind = Literal[
    "kommune",
    "fylkeskommune",
    "helseforetak",
    "helsefellesskap",
    "organisasjon",
    "statlig",
    "privat",
    "person",
    "ukjent",
]
SENDER_KINDS: tuple[str, ...] = get_args(SenderKind)
#: Segment fields an analyst can correct.
SegmentField = Literal["label", "themes"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DocumentReceived(_Payload):
    id: str
    filename: str
    sha256: str
    bytes: int
    content_type: str
    blob_uri: str
    source: Literal["http", "folder", "replay"]
    received_at: datetime


class Section(_Payload):
    heading_path: list[str]
    page: int
    segment_count: int


class DocumentMetadata(_Payload):
    sender: str | None = None
    sender_kind: SenderKind = "ukjent"
    date: str | None = None
    title: str | None = None


class DocumentExtracted(_Payload):
    document_id: str
    metadata: DocumentMetadata = Field(default_factory=DocumentMetadata)
    page_count: int
    sections: list[Section] = Field(default_factory=list)
    segment_count: int
    ocr_pages: list[int] = Field(default_factory=list)
    extractor_version: str = EXTRACTOR_VERSION


class SegmentExtracted(_Payload):
    segment_id: str
    document_id: str
    seq: int
    page: int
    heading_path: list[str] = Field(default_factory=list)
    text: str
    kind: str = "paragraph"
    ocr: bool = False
    segment_count: int | None = None


class ThemeScore(_Payload):
    """One theme of the taxonomy (its stable id) with the model's score for it."""

    id: str
    score: float


class SegmentClassified(SegmentExtracted):
    label: Label
    scores: dict[str, float]
    themes: list[ThemeScore] = Field(default_factory=list)
    model_version: str
    #: The top score is below the model's review threshold: an analyst should check the label.
    needs_review: bool = False


class SegmentCorrected(_Payload):
    """An analyst's correction of one segment. ``label``/``themes`` are the corrected values (``None``: that
    field is not corrected, or the correction of it is undone when it is named in ``reverted``)."""

    segment_id: str
    document_id: str
    label: Label | None = None
    themes: list[str] | None = None
    reverted: list[SegmentField] = Field(default_factory=list)
    model_label: Label | None = None
    model_themes: list[str] | None = None
    note: str | None = None
    user: str
    at: datetime


#: Document fields an analyst can correct.
DocumentField = Literal["sender", "sender_kind", "date", "title"]
DOCUMENT_FIELDS: tuple[DocumentField, ...] = get_args(DocumentField)


class DocumentCorrected(_Payload):
    """An analyst's correction of one document's metadata, published on ``segments.corrected`` (keyed by
    document_id) beside the segment corrections, so a store rebuilt from the topics keeps it. The corrected
    fields carry the analyst's values (``None``: not corrected by this event); a field named in ``reverted``
    goes back to what extraction found. ``model_*`` are extraction's values when the correction was made."""

    document_id: str
    sender: str | None = None
    sender_kind: SenderKind | None = None
    date: str | None = None
    title: str | None = None
    reverted: list[DocumentField] = Field(default_factory=list)
    model_sender: str | None = None
    model_sender_kind: SenderKind | None = None
    model_date: str | None = None
    model_title: str | None = None
    note: str | None = None
    user: str
    at: datetime


class PointExcluded(_Payload):
    """An analyst took a quote out of a point (``POST /points/{id}/exclusions``), published on
    ``segments.corrected`` (keyed by the segment's document_id) so a store rebuilt from the topics keeps it.
    The segment never again shares a point with the segments in ``apart_from`` (the point's other quotes
    when it was taken out)."""

    segment_id: str
    document_id: str
    point_id: str
    apart_from: list[str]
    note: str | None = None
    user: str
    at: datetime


class PointsMerged(_Payload):
    """An analyst merged two points that make the same point (``POST /points/{id}/merges``), published on
    ``segments.corrected`` (keyed by the document of the kept point's first quote) so a store rebuilt from
    the topics keeps it. The quotes in ``segment_ids`` (both points' quotes when they were merged) share one
    point from then on, named ``point_id``, whatever a later regrouping finds."""

    point_id: str
    merged_point_id: str
    segment_ids: list[str]
    document_id: str
    note: str | None = None
    user: str
    at: datetime


class PointNamed(_Payload):
    """An analyst named a point (``PATCH /points/{id}``), published on ``segments.corrected`` (keyed by the
    document of the point's first quote) so a store rebuilt from the topics keeps it. The name is shown in
    place of the model's summary for as long as the point (its id) lives, through regroupings; ``summary``
    None gives the point back its model's summary."""

    point_id: str
    summary: str | None
    document_id: str
    note: str | None = None
    user: str
    at: datetime


class DocumentFailed(_Payload):
    document_id: str
    stage: Literal["ingest", "extract", "classify", "store"]
    error_code: str
    message: str


class DeadLetter(_Payload):
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    value: str
    error: str
    stage: str


PAYLOADS: dict[str, type[_Payload]] = {
    "innspill.document.received": DocumentReceived,
    "innspill.document.extracted": DocumentExtracted,
    "innspill.segment.extracted": SegmentExtracted,
    "innspill.segment.classified": SegmentClassified,
    "innspill.segment.corrected": SegmentCorrected,
    "innspill.document.corrected": DocumentCorrected,
    "innspill.point.excluded": PointExcluded,
    "innspill.points.merged": PointsMerged,
    "innspill.point.named": PointNamed,
    "innspill.document.failed": DocumentFailed,
    "innspill.deadletter": DeadLetter,
}
TYPE_OF: dict[type[_Payload], str] = {v: k for k, v in PAYLOADS.items()}

P = TypeVar("P", bound=_Payload)


class Envelope(BaseModel, Generic[P]):
    id: str
    type: str
    source: str
    time: datetime
    specversion: str = SPEC_VERSION
    schema_version: int = SCHEMA_VERSION
    data: P


class EventError(ValueError):
    """An event that cannot be decoded or does not match its schema (it goes to the dead-letter topic)."""


def make_event(data: _Payload, source: str, *id_parts: object) -> Envelope[Any]:
    """Wrap a payload. ``id_parts`` make the event id deterministic (defaults to the type and payload)."""
    etype = TYPE_OF[type(data)]
    parts = id_parts or (etype, data.model_dump_json())
    return Envelope(id=event_id_for(etype, *parts), type=etype, source=source, time=utcnow(), data=data)


def encode(event: Envelope[Any]) -> bytes:
    return event.model_dump_json().encode("utf-8")


#: What a consumer expects of a record: one payload type, or one of several (a topic that carries a union).
Expect = type[_Payload] | tuple[type[_Payload], ...]


@overload
def decode(raw: bytes | str | None, expect: type[P]) -> Envelope[P]: ...


@overload
def decode(raw: bytes | str | None, expect: tuple[type[_Payload], ...]) -> Envelope[Any]: ...


def decode(raw: bytes | str | None, expect: Expect) -> Envelope[Any]:
    """Parse and validate one event of the expected payload type, or raise :class:`EventError`.

    ``expect`` may be a tuple of payload types (a topic that carries several): the envelope's ``type`` then
    picks which one the payload is validated as, and any other type is refused."""
    if raw is None:
        raise EventError("empty record value")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise EventError(f"value is not UTF-8: {exc}") from exc
    if isinstance(expect, tuple):
        expect = _pick(text, expect)
    try:
        env = Envelope[expect].model_validate_json(text)  # type: ignore[valid-type]  # a class chosen at run time
    except ValidationError as exc:
        raise EventError(f"invalid {expect.__name__} event: {exc.errors(include_url=False)[:3]}") from exc
    if env.type != TYPE_OF[expect]:
        raise EventError(f"expected event type {TYPE_OF[expect]!r}, got {env.type!r}")
    if env.schema_version > SCHEMA_VERSION:
        raise EventError(f"schema_version {env.schema_version} is newer than supported {SCHEMA_VERSION}")
    return env


def _pick(text: str, expect: tuple[type[_Payload], ...]) -> type[_Payload]:
    """The payload type of ``expect`` named by the envelope's ``type``."""
    if not expect:
        raise ValueError("expect names no payload type")
    try:
        etype = json.loads(text).get("type")
    except (ValueError, AttributeError) as exc:
        raise EventError(f"value is not a JSON event envelope: {exc}") from exc
    for cls in expect:
        if TYPE_OF[cls] == etype:
            return cls
    names = ", ".join(repr(TYPE_OF[c]) for c in expect)
    raise EventError(f"expected one of event types {names}, got {etype!r}")
