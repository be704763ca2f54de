"""Request and response bodies of the correction endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from shared.events import DocumentField, Label, SegmentField, SenderKind


class SegmentPatch(BaseModel):
    """An analyst's correction of one segment. ``revert`` undoes the correction of the named fields (the
    model's value is final again). At least one field must be given."""

    model_config = ConfigDict(extra="forbid")

    label: Label | None = None
    themes: list[StrictStr] | None = Field(default=None, max_length=50)
    note: StrictStr | None = Field(default=None, max_length=2000)
    revert: list[SegmentField] = Field(default_factory=list)


class DocumentPatch(BaseModel):
    """An analyst's correction of a document's metadata; ``revert`` goes back to what extraction found."""

    model_config = ConfigDict(extra="forbid")

    sender: StrictStr | None = Field(default=None, min_length=1, max_length=500)
    sender_kind: SenderKind | None = None
    date: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    title: StrictStr | None = Field(default=None, min_length=1, max_length=1000)
    note: StrictStr | None = Field(default=None, max_length=2000)
    revert: list[DocumentField] = Field(default_factory=list)


class Values(BaseModel):
    label: str
    themes: list[str]


class HistoryItem(BaseModel):
    event_id: str
    user: str
    at: datetime
    note: str | None
    label: str | None
    themes: list[str] | None
    reverted: list[str]
    before: Values
    after: Values


class SegmentHistory(BaseModel):
    segment_id: str
    document_id: str
    model: Values
    final: Values
    corrected: bool
    history: list[HistoryItem]


class DocumentHistoryItem(BaseModel):
    user: str
    at: datetime
    values: dict[str, str | None]
    before: dict[str, str | None]
    note: str | None
