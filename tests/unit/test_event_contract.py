"""The published event contract (docs/contract/*.schema.json, docs/asyncapi.yaml) matches the code.

When this fails after a change to shared/events.py or shared/topics.py, that is expected: rerun
``python -m tools.contract.generate`` and commit the regenerated files (downstream teams read them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from shared.events import (
    DeadLetter,
    DocumentCorrected,
    DocumentExtracted,
    DocumentFailed,
    DocumentReceived,
    PointExcluded,
    PointNamed,
    PointsMerged,
    SegmentClassified,
    SegmentCorrected,
    SegmentExtracted,
    ThemeScore,
    make_event,
)
from shared.topics import Topics
from tools.contract import generate

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
REGENERATE = "stale event contract: run `python -m tools.contract.generate` and commit docs/contract, docs/asyncapi.yaml"

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
#: One valid payload per model: each must validate against its topic's generated schema.
SAMPLES: dict[type[BaseModel], BaseModel] = {
    DocumentReceived: DocumentReceived(
        id="d1",
        filename="brev.pdf",
        sha256="ab" * 32,
        bytes=1234,
        content_type="application/pdf",
        blob_uri="s3://innspill-blobs/blobs/ab",
        source="http",
        received_at=NOW,
    ),
    DocumentExtracted: DocumentExtracted(document_id="d1", page_count=2, segment_count=3),
    SegmentExtracted: SegmentExtracted(segment_id="s1", document_id="d1", seq=0, page=1, text="Tekst."),
    SegmentClassified: SegmentClassified(
        segment_id="s1",
        document_id="d1",
        seq=0,
        page=1,
        text="Tekst.",
        label="measure",
        scores={"challenge": 0.1, "measure": 0.7, "example": 0.1, "other": 0.1},
        themes=[ThemeScore(id="theme-1", score=0.8)],
        model_version="m1",
    ),
    SegmentCorrected: SegmentCorrected(
        segment_id="s1", document_id="d1", label="example", model_label="measure", user="analyst", at=NOW
    ),
    DocumentCorrected: DocumentCorrected(
        document_id="d1",
        sender="Fjellby kommune",
        sender_kind="kommune",
        reverted=["title"],
        model_sender="post@example.no",
        model_sender_kind="person",
        user="analyst",
        at=NOW,
    ),
    PointExcluded: PointExcluded(
        segment_id="s1",
        document_id="d1",
        point_id="pt-0123456789ab",
        apart_from=["s7", "s9"],
        note="handler om noe annet",
        user="analyst",
        at=NOW,
    ),
    PointsMerged: PointsMerged(
        point_id="pt-0123456789ab",
        merged_point_id="pt-ba9876543210",
        segment_ids=["s1", "s7", "s9"],
        document_id="d1",
        note="samme forslag",
        user="analyst",
        at=NOW,
    ),
    PointNamed: PointNamed(
        point_id="pt-0123456789ab",
        summary="Felles journal for kommune og sykehus",
        document_id="d1",
        note=None,
        user="analyst",
        at=NOW,
    ),
    DocumentFailed: DocumentFailed(
        document_id="d1", stage="extract", error_code="corrupt", message="unreadable"
    ),
    DeadLetter: DeadLetter(
        topic="innspill.segments.extracted", value="{}", error="bad json", stage="classify"
    ),
}


def test_checked_in_files_are_what_the_code_generates() -> None:
    files = generate.render()
    for rel, text in files.items():
        path = DOCS / rel
        assert path.is_file(), f"missing {path}; {REGENERATE}"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs; {REGENERATE}"
    assert generate.stale(DOCS) == [], REGENERATE


def test_check_flag_names_the_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    assert generate.main(["--docs", str(docs)]) == 0
    assert generate.main(["--check", "--docs", str(docs)]) == 0
    target = docs / "contract" / "segments.classified.schema.json"
    target.write_text(target.read_text(encoding="utf-8").replace('"label"', '"labels"'), encoding="utf-8")
    (docs / "contract" / "gone.schema.json").write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert generate.main(["--check", "--docs", str(docs)]) == 1
    err = capsys.readouterr().err
    assert "segments.classified.schema.json" in err and "gone.schema.json" in err
    assert "asyncapi.yaml" not in err
    generate.main(["--docs", str(docs)])
    assert generate.stale(docs) == [] and not (docs / "contract" / "gone.schema.json").exists()


def test_every_topic_has_a_schema_file_that_real_events_validate_against() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    topics = Topics()
    specs = {getattr(topics, spec.attr): spec for spec in generate.TOPICS}
    assert list(specs) == topics.all(), "generate.TOPICS must cover shared/topics.py"
    for topic, spec in specs.items():
        schema = json.loads((DOCS / "contract" / f"{generate.suffix(topics, topic)}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        for payload in spec.payloads:
            event = make_event(SAMPLES[payload], "innspill/test")  # type: ignore[arg-type]  # a test double or a deliberately loose value
            jsonschema.validate(json.loads(event.model_dump_json()), schema)
            wrong = json.loads(event.model_dump_json()) | {"type": "innspill.something.else"}
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(wrong, schema)
        if spec.also:  # a document correction under the segment correction's type lacks segment_id
            segment_event, document_event = (
                json.loads(make_event(SAMPLES[p], "t").model_dump_json())  # type: ignore[arg-type]  # a test double or a deliberately loose value
                for p in spec.payloads[:2]
            )
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(document_event | {"type": segment_event["type"]}, schema)


def _asyncapi() -> dict[str, Any]:
    doc = yaml.safe_load((DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_asyncapi_has_a_channel_for_every_topic() -> None:
    doc = _asyncapi()
    assert str(doc["asyncapi"]).startswith("3.")
    topics = Topics()
    channels = {c["address"]: c for c in doc["channels"].values()}
    assert set(channels) == set(topics.all())
    for topic, channel in channels.items():
        assert channel["bindings"]["kafka"]["partitions"] >= 1
        assert channel["x-produced-by"], f"{topic}: no producer"
        assert channel["messages"], f"{topic}: no message"
        for message_ref in channel["messages"].values():
            name = message_ref["$ref"].rsplit("/", 1)[1]
            message = doc["components"]["messages"][name]
            assert (DOCS / message["payload"]["$ref"]).is_file(), f"{topic}: payload file missing"
            assert "document_id" in message["bindings"]["kafka"]["key"]["description"]
    corrected = channels[topics.segments_corrected]
    assert set(corrected["messages"]) == {
        "SegmentCorrected",
        "DocumentCorrected",
        "PointExcluded",
        "PointsMerged",
        "PointNamed",
    }
    assert corrected["x-consumed-by"] == ["store"]


def test_asyncapi_references_resolve_and_groups_are_the_services() -> None:
    doc = _asyncapi()
    for op_id, op in doc["operations"].items():
        assert op["action"] in {"send", "receive"}, op_id
        channel_id = op["channel"]["$ref"].removeprefix("#/channels/")
        channel = doc["channels"][channel_id]
        for ref in op["messages"]:
            _, _, cid, _, message = ref["$ref"].split("/")
            assert cid == channel_id and message in channel["messages"], op_id
        if op["action"] == "receive":
            (group,) = op["bindings"]["kafka"]["groupId"]["enum"]
            assert group.startswith("innspill-"), op_id


def test_generator_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's INNSPILL_* variables must not leak into the published files."""
    monkeypatch.setenv("INNSPILL_TOPIC_PREFIX", "other")
    monkeypatch.setenv("INNSPILL_SEGMENT_PARTITIONS", "12")
    monkeypatch.setenv("INNSPILL_KAFKA_BOOTSTRAP", "elsewhere:9092")
    assert generate.stale(DOCS) == []


def test_producers_and_consumers_are_services() -> None:
    services = {p.name for p in (REPO / "services").iterdir() if (p / "__init__.py").is_file()}
    for spec in generate.TOPICS:
        assert set(spec.producers) | set(spec.consumers) <= services, spec.attr


def test_the_generator_runs_as_a_module(tmp_path: Path) -> None:
    """``python -m tools.contract.generate --check`` from the repository root."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS / "contract", docs / "contract")
    shutil.copy(DOCS / "asyncapi.yaml", docs / "asyncapi.yaml")
    out = subprocess.run(
        [sys.executable, "-m", "tools.contract.generate", "--check", "--docs", str(docs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
