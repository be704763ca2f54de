"""Decoding a topic that carries several payload types (``segments.corrected``: segment and document
corrections): the envelope's type picks the payload model, anything else is refused as an EventError."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.events import (
    DocumentCorrected,
    EventError,
    SegmentClassified,
    SegmentCorrected,
    decode,
    encode,
    make_event,
)

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
UNION = (SegmentCorrected, DocumentCorrected)


def test_each_member_decodes_as_its_own_model() -> None:
    seg = make_event(
        SegmentCorrected(segment_id="s", document_id="d", label="measure", user="kari", at=NOW), "t"
    )
    doc = make_event(DocumentCorrected(document_id="d", sender="Fjellby kommune", user="kari", at=NOW), "t")
    got_seg = decode(encode(seg), UNION)
    got_doc = decode(encode(doc).decode(), UNION)
    assert isinstance(got_seg.data, SegmentCorrected) and got_seg.data.label == "measure"
    assert isinstance(got_doc.data, DocumentCorrected) and got_doc.data.sender == "Fjellby kommune"
    assert got_doc.type == "innspill.document.corrected" and got_doc.id == doc.id


@pytest.mark.parametrize(
    "raw, message",
    [
        (None, "empty"),
        (b"\xff", "UTF-8"),
        (b"not json", "JSON event envelope"),
        (b"[1, 2]", "JSON event envelope"),
        (json.dumps({"type": "innspill.segment.classified"}).encode(), "expected one of event types"),
    ],
)
def test_bad_records_are_event_errors(raw: bytes | None, message: str) -> None:
    with pytest.raises(EventError, match=message):
        decode(raw, UNION)


def test_a_member_type_with_a_payload_that_does_not_fit_is_refused() -> None:
    doc = make_event(DocumentCorrected(document_id="d", user="kari", at=NOW), "t")
    body = json.loads(encode(doc)) | {"type": "innspill.segment.corrected"}
    with pytest.raises(EventError, match="invalid SegmentCorrected"):
        decode(json.dumps(body), UNION)


def test_a_single_type_is_still_checked_by_type() -> None:
    doc = make_event(DocumentCorrected(document_id="d", user="kari", at=NOW), "t")
    with pytest.raises(EventError):
        decode(encode(doc), SegmentClassified)
    seg = make_event(SegmentCorrected(segment_id="s", document_id="d", user="kari", at=NOW), "t")
    with pytest.raises(EventError, match="expected event type"):  # its data would fit, its type does not
        decode(encode(seg), DocumentCorrected)
