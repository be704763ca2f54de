"""The extract service's faust agent on a real broker: a received PDF becomes segments and a document
summary; a poison record goes to the dead-letter topic and the next record is still processed; a
document that cannot be extracted ends on documents.failed."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.extract.app import create_app
from shared.blobstore import LocalBlobStore
from shared.events import DocumentReceived, encode, make_event
from shared.ids import document_id_for, segment_id_for, sha256_hex
from shared.kafka import Publisher
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic
from tools.extract import samples

pytestmark = pytest.mark.integration


@pytest.fixture
def extract_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ocr_enabled": False, "extract_timeout_s": 60.0})


@pytest.fixture
async def service(extract_settings: Settings) -> AsyncIterator[Any]:
    app = create_app(extract_settings)
    async with app.router.lifespan_context(app):
        assert await app.state.runner.wait_running(60), "extract agents did not start"
        yield app


@pytest.fixture
async def publisher(extract_settings: Settings) -> AsyncIterator[Publisher]:
    pub = Publisher(extract_settings, "test-extract")
    await pub.start(timeout_s=20)
    yield pub
    await pub.stop()


def received_event(settings: Settings, data: bytes, name: str) -> Any:
    sha = sha256_hex(data)
    uri = LocalBlobStore(settings.blob_dir).put_bytes(data, sha)
    payload = DocumentReceived(
        id=document_id_for(sha),
        filename=name,
        sha256=sha,
        bytes=len(data),
        content_type="application/pdf",
        blob_uri=uri,
        source="http",
        received_at=datetime.now(UTC),
    )
    return make_event(payload, "test", payload.id)


def for_doc(records: list[dict[str, Any]], doc_id: str) -> list[dict[str, Any]]:
    return [r["value"]["data"] for r in records if r["key"] == doc_id]


async def test_pdf_becomes_segments_then_summary(
    service: Any, publisher: Publisher, extract_settings: Settings, tmp_path: Path
) -> None:
    topics = topics_for(extract_settings)
    event = received_event(extract_settings, samples.letter_pdf(tmp_path / "l.pdf").read_bytes(), "l.pdf")
    doc_id = event.data.id
    await publisher.publish(topics.documents_received, doc_id, event)

    summaries = await read_topic(extract_settings.kafka_bootstrap, topics.documents_extracted, timeout_s=90)
    summary = for_doc(summaries, doc_id)
    assert len(summary) == 1, summaries
    total = summary[0]["segment_count"]
    assert total >= 20 and summary[0]["page_count"] == 2
    assert summary[0]["metadata"] == {
        "sender": samples.SENDER,
        "sender_kind": "kommune",
        "date": "2025-03-12",
        "title": samples.TITLE,
    }

    records = await read_topic(extract_settings.kafka_bootstrap, topics.segments_extracted, min_count=total)
    segs = sorted(for_doc(records, doc_id), key=lambda s: s["seq"])
    assert [s["seq"] for s in segs] == list(range(total))
    assert all(
        s["segment_id"] == segment_id_for(doc_id, s["seq"]) and s["segment_count"] == total for s in segs
    )
    staff = next(s for s in segs if s["text"].startswith("Kommunen mangler sykepleiere"))
    assert staff["heading_path"] == [samples.Q1] and staff["kind"] == "paragraph" and staff["ocr"] is False
    cell = next(s for s in segs if s["text"] == samples.TABLE_ROWS[0][1])
    assert cell["heading_path"] == [samples.Q2, samples.TABLE_HEADER[1]]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://x") as client:
        health = (await client.get("/healthz")).json()
        assert health["status"] == "ok" and health["consumer"] == "running"
        metrics = (await client.get("/metrics")).text
        assert 'innspill_extract_documents_total{outcome="extracted"}' in metrics


async def test_poison_record_is_dead_lettered_and_stream_goes_on(
    service: Any, publisher: Publisher, extract_settings: Settings, tmp_path: Path
) -> None:
    topics = topics_for(extract_settings)
    await publisher.publish_raw(topics.documents_received, "poison", b"\x00\xffnot an event at all")
    good = received_event(extract_settings, samples.letter_pdf(tmp_path / "g.pdf").read_bytes(), "g.pdf")
    await publisher.publish(topics.documents_received, good.data.id, good)

    letters = await read_topic(extract_settings.kafka_bootstrap, topics.deadletter, timeout_s=60)
    assert len(letters) == 1
    dead = letters[0]["value"]["data"]
    assert dead["stage"] == "extract" and dead["topic"] == topics.documents_received and dead["error"]
    summaries = await read_topic(extract_settings.kafka_bootstrap, topics.documents_extracted, timeout_s=90)
    assert len(for_doc(summaries, good.data.id)) == 1


async def test_unreadable_documents_end_failed(
    service: Any, publisher: Publisher, extract_settings: Settings, tmp_path: Path
) -> None:
    from pypdf import PdfReader, PdfWriter

    topics = topics_for(extract_settings)
    writer = PdfWriter(clone_from=PdfReader(samples.letter_pdf(tmp_path / "p.pdf")))
    writer.encrypt(user_password="hemmelig", owner_password="eier")
    locked = tmp_path / "locked.pdf"
    buf = io.BytesIO()
    writer.write(buf)
    locked.write_bytes(buf.getvalue())
    cases = {
        "encrypted": received_event(extract_settings, locked.read_bytes(), "locked.pdf"),
        "corrupt": received_event(extract_settings, b"%PDF-1.4\n garbage", "broken.pdf"),
    }
    missing = received_event(extract_settings, b"%PDF-1.4 stored then lost", "lost.pdf")
    (extract_settings.blob_dir / missing.data.sha256[:2] / missing.data.sha256).unlink()
    cases["blob_missing"] = missing
    for event in cases.values():
        await publisher.publish_raw(topics.documents_received, event.data.id, encode(event))

    failed = await read_topic(
        extract_settings.kafka_bootstrap, topics.documents_failed, min_count=3, timeout_s=90
    )
    for code, event in cases.items():
        got = for_doc(failed, event.data.id)
        assert len(got) == 1 and got[0]["error_code"] == code and got[0]["stage"] == "extract", got
        assert got[0]["message"]
    extracted = await read_topic(
        extract_settings.kafka_bootstrap, topics.segments_extracted, timeout_s=3, min_count=0
    )
    assert not any(r["key"] in {e.data.id for e in cases.values()} for r in extracted)


async def test_documents_are_extracted_concurrently(
    settings: Settings, publisher: Publisher, tmp_path: Path
) -> None:
    """Two workers: a short letter sent after a slow document is extracted while the slow one is still
    in its sandbox (one at a time, it would wait behind it), and both end extracted."""
    from tests.unit.test_extract_errors import dense_pdf

    two = settings.model_copy(update={"ocr_enabled": False, "extract_timeout_s": 60.0, "extract_workers": 2})
    topics = topics_for(two)
    slow = received_event(two, dense_pdf(40_000), "slow.pdf")  # several seconds of parsing
    fast = received_event(two, samples.letter_pdf(tmp_path / "fast.pdf").read_bytes(), "fast.pdf")
    app = create_app(two)
    async with app.router.lifespan_context(app):
        assert await app.state.runner.wait_running(60), "extract agents did not start"
        # One key for both: one partition, so the slow document is first in line.
        await publisher.publish(topics.documents_received, "same-partition", slow)
        await publisher.publish(topics.documents_received, "same-partition", fast)
        first: list[dict[str, Any]] = []
        for _ in range(60):
            first = await read_topic(two.kafka_bootstrap, topics.documents_extracted, timeout_s=2, idle_s=0.2)
            if for_doc(first, fast.data.id):
                break
        assert for_doc(first, fast.data.id), "the short letter was not extracted"
        assert not for_doc(first, slow.data.id), "the short letter waited for the slow document"
        done = await read_topic(two.kafka_bootstrap, topics.documents_extracted, min_count=2, timeout_s=90)
        assert len(for_doc(done, slow.data.id)) == 1 and len(for_doc(done, fast.data.id)) == 1
