"""The store's sweeper against a real broker and real databases (SQLite and, when reachable, PostgreSQL):
a document that stopped short of a final status is re-driven from its blob, with a growing wait, and
after the last try it fails with code ``stuck``; a receipt the store never saw is re-driven too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.store.db import make_engine, migrate
from services.store.repository import Repository
from services.store.sweeper import Sweeper, pending_documents
from shared.blobstore import LocalBlobStore
from shared.events import DocumentExtracted, DocumentReceived, decode, make_event
from shared.ids import document_id_for, sha256_hex
from shared.kafka import Publisher, ensure_topics
from shared.receipts import Receipt, write_receipt
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def received(data: bytes, name: str, at: datetime, source: str = "http") -> DocumentReceived:
    sha = sha256_hex(data)
    return DocumentReceived(
        id=document_id_for(sha),
        filename=name,
        sha256=sha,
        bytes=len(data),
        content_type="application/pdf",
        blob_uri=f"blob://sha256/{sha}",
        source=source,  # type: ignore[arg-type]  # a test double or a deliberately loose value
        received_at=at,
    )


@pytest.fixture
def store(settings: Settings, database_url: str) -> Repository:
    engine = make_engine(database_url)
    migrate(engine)
    return Repository(engine)


async def test_stuck_document_is_redriven_with_growing_wait_then_fails_stuck(
    settings: Settings, store: Repository
) -> None:
    settings = settings.model_copy(update={"redrive_after_s": 60.0, "redrive_max_tries": 2})
    await ensure_topics(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    data = b"%PDF-1.4 a letter that never finished"
    ev = received(data, "brev.pdf", T0)
    blobs.put_bytes(data, ev.sha256)
    store.apply([make_event(ev, "test")])
    # A finished-looking document that is only extracted but whose segments stopped coming also counts.
    other = received(b"%PDF-1.4 extracted only", "annet.pdf", T0)
    blobs.put_bytes(b"%PDF-1.4 extracted only", other.sha256)
    store.apply(
        [
            make_event(other, "test"),
            make_event(DocumentExtracted(document_id=other.id, page_count=1, segment_count=3), "t"),
        ]
    )
    assert {p.document_id: p.tries for p in pending_documents(store.engine)} == {ev.id: 0, other.id: 0}

    publisher = Publisher(settings, "sweeper-test")
    await publisher.start(timeout_s=10)
    try:
        sweeper = Sweeper(settings, store.engine, publisher, blobs)
        now = datetime.now(UTC)
        assert (await sweeper.sweep_once(now + timedelta(seconds=30))).redriven == []  # not yet due
        first = await sweeper.sweep_once(now + timedelta(seconds=61))
        assert sorted(first.redriven) == sorted([ev.id, other.id])
        # Sent, but not consumed yet: not sent again at once.
        assert (await sweeper.sweep_once(now + timedelta(seconds=62))).redriven == []

        topic = topics_for(settings).documents_received
        records = await read_topic(settings.kafka_bootstrap, topic, min_count=2)
        redrives = [r for r in records if r["key"] == ev.id]
        assert len(redrives) == 1
        data_out = redrives[0]["value"]["data"]
        assert data_out["source"] == "replay" and data_out["filename"] == "brev.pdf"
        assert data_out["blob_uri"] == blobs.uri_for(ev.sha256) and data_out["sha256"] == ev.sha256

        # The store consumes the re-drive (as its agent would): one try recorded, the wait doubles.
        store.apply([decode(json.dumps(r["value"]), DocumentReceived) for r in redrives])
        (doc,) = [p for p in pending_documents(store.engine) if p.document_id == ev.id]
        assert doc.tries == 1
        assert ev.id not in (await sweeper.sweep_once(now + timedelta(seconds=61 + 100))).redriven
        assert ev.id in (await sweeper.sweep_once(now + timedelta(seconds=61 + 121))).redriven

        # Two tries recorded = redrive_max_tries: the next sweep after the (quadrupled) wait gives up.
        store.apply(
            [make_event(received(data, "brev.pdf", now + timedelta(seconds=200), "replay"), "t", "x")]
        )
        later = await sweeper.sweep_once(now + timedelta(seconds=61 + 121 + 241))
        assert ev.id in later.stuck
        failed = await read_topic(
            settings.kafka_bootstrap, topics_for(settings).documents_failed, min_count=1
        )
        mine = [r["value"]["data"] for r in failed if r["key"] == ev.id]
        assert mine and mine[0]["error_code"] == "stuck" and mine[0]["stage"] == "store"
    finally:
        await publisher.stop()


async def test_receipt_the_store_never_saw_is_redriven(settings: Settings, store: Repository) -> None:
    settings = settings.model_copy(update={"redrive_after_s": 60.0})
    await ensure_topics(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    data = b"%PDF-1.4 lost with a memory-only broker"
    sha = sha256_hex(data)
    blobs.put_bytes(data, sha)
    receipt = Receipt(
        document_id_for(sha), sha, "tapt.pdf", len(data), "application/pdf", received_at=T0.isoformat()
    )
    write_receipt(blobs, receipt)
    publisher = Publisher(settings, "sweeper-test")
    await publisher.start(timeout_s=10)
    try:
        sweeper = Sweeper(settings, store.engine, publisher, blobs)
        result = await sweeper.sweep_once(T0 + timedelta(seconds=61))
        assert result.redriven == [receipt.document_id]
        records = await read_topic(
            settings.kafka_bootstrap, topics_for(settings).documents_received, min_count=1
        )
        assert [r["value"]["data"]["filename"] for r in records] == ["tapt.pdf"]
    finally:
        await publisher.stop()


async def test_missing_blob_fails_instead_of_redriving(settings: Settings, store: Repository) -> None:
    settings = settings.model_copy(update={"redrive_after_s": 60.0})
    await ensure_topics(settings)
    ev = received(b"bytes that were never stored", "borte.pdf", T0)
    store.apply([make_event(ev, "test")])
    publisher = Publisher(settings, "sweeper-test")
    await publisher.start(timeout_s=10)
    try:
        sweeper = Sweeper(settings, store.engine, publisher, LocalBlobStore(settings.blob_dir))
        result = await sweeper.sweep_once(datetime.now(UTC) + timedelta(seconds=61))
        assert result.redriven == []
        failed = await read_topic(
            settings.kafka_bootstrap, topics_for(settings).documents_failed, min_count=1
        )
        assert [r["value"]["data"]["error_code"] for r in failed] == ["stuck"]
    finally:
        await publisher.stop()


def test_pending_is_empty_for_final_documents(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    assert pending_documents(engine) == []
