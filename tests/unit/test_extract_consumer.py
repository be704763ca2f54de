"""The extract worker's event flow with a recording publisher (no broker): segments first, then the
document summary; failures as documents.failed; ids stable across replays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.extract.consumer import Extractor
from shared.blobstore import LocalBlobStore
from shared.events import DocumentReceived, make_event
from shared.ids import document_id_for, segment_id_for, sha256_hex
from shared.settings import Settings
from shared.topics import topics_for
from tools.extract import samples


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def publish(self, topic: str, key: str, event: Any) -> None:
        self.sent.append((topic, key, event))

    async def publish_many(self, topic: str, items: list[tuple[str, Any]]) -> None:
        self.sent.extend((topic, key, ev) for key, ev in items)


def _received(data: bytes, blobs: LocalBlobStore, name: str = "brev.pdf", store: bool = True) -> Any:
    sha = sha256_hex(data)
    uri = blobs.put_bytes(data, sha) if store else LocalBlobStore.uri_for(sha)
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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:  # overrides the broker-backed fixture: no broker here
    return Settings(data_dir=tmp_path / "var", topic_prefix="unit", ocr_enabled=False, extract_timeout_s=60)


async def test_segments_then_summary(settings: Settings, tmp_path: Path) -> None:
    pub = RecordingPublisher()
    worker = Extractor(settings, pub)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    data = samples.letter_pdf(tmp_path / "l.pdf").read_bytes()
    event = _received(data, worker.blobs)
    await worker.handle(event)
    topics = topics_for(settings)
    assert [t for t, _, _ in pub.sent][-1] == topics.documents_extracted
    segs = [ev.data for t, _, ev in pub.sent if t == topics.segments_extracted]
    doc_id = event.data.id
    assert [s.seq for s in segs] == list(range(len(segs)))
    assert all(s.segment_id == segment_id_for(doc_id, s.seq) and s.segment_count == len(segs) for s in segs)
    assert all(key == doc_id for _, key, _ in pub.sent)
    summary = pub.sent[-1][2].data
    assert summary.segment_count == len(segs) and summary.page_count == 2
    assert summary.metadata.sender == samples.SENDER and summary.metadata.title == samples.TITLE
    assert any(sec.heading_path == [samples.Q1] for sec in summary.sections)

    again = RecordingPublisher()
    await Extractor(settings, again).handle(event)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    assert [ev.id for _, _, ev in again.sent] == [ev.id for _, _, ev in pub.sent], "replays keep event ids"


async def test_failures_are_published_with_codes(settings: Settings) -> None:
    pub = RecordingPublisher()
    worker = Extractor(settings, pub)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    await worker.handle(_received(b"%PDF-1.4 broken", worker.blobs))
    await worker.handle(_received(b"never stored", worker.blobs, store=False))
    failed = [ev.data for t, _, ev in pub.sent]
    assert [f.error_code for f in failed] == ["corrupt", "blob_missing"]
    assert all(f.stage == "extract" and f.message for f in failed)
    assert all(t == topics_for(settings).documents_failed for t, _, _ in pub.sent)


async def test_output_too_large_for_the_broker_is_a_final_failure(settings: Settings, tmp_path: Path) -> None:
    """A Word file with one 5,000,000-character paragraph: no segment goes out, documents.failed does."""
    from tests.unit.test_extract_hostile import huge_paragraph_docx

    pub = RecordingPublisher()
    worker = Extractor(settings, pub)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    data = huge_paragraph_docx(tmp_path / "huge.docx").read_bytes()
    await worker.handle(_received(data, worker.blobs, name="huge.docx"))
    topics = topics_for(settings)
    assert [t for t, _, _ in pub.sent] == [topics.documents_failed]
    failed = pub.sent[0][2].data
    assert failed.error_code == "output_too_large" and "4,99" in failed.message, failed.message
    worker.close()


async def test_documents_are_extracted_concurrently(tmp_path: Path) -> None:
    """Two workers: two documents are in their sandboxes at the same time, in two processes, and every
    output is published."""
    import asyncio

    settings = Settings(
        data_dir=tmp_path / "var",
        topic_prefix="unit",
        ocr_enabled=False,
        extract_timeout_s=60,
        extract_workers=2,
    )
    pub = RecordingPublisher()
    worker = Extractor(settings, pub)  # type: ignore[arg-type]  # a test double or a deliberately loose value
    assert worker.concurrency == 2
    letter = samples.letter_pdf(tmp_path / "l.pdf").read_bytes()
    events = [_received(letter + b"%" + bytes([i]), worker.blobs, f"l{i}.pdf") for i in range(6)]
    await asyncio.gather(*(worker.handle(ev) for ev in events))
    summaries = [ev.data for t, _, ev in pub.sent if t == topics_for(settings).documents_extracted]
    assert len(summaries) == 6
    assert worker.pool.peak == 2, "two documents in flight at once, never more than the pool holds"
    assert worker.pool.started == 2 and len(worker.pool.pids()) == 2, "warm workers are reused"
    worker.close()
