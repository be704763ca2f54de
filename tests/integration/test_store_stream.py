"""The store's faust agents against a real broker: events in any order end up in the API, replays
do not duplicate, a poison record is dead-lettered and the stream keeps going."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.store.app import create_app
from shared.events import (
    DocumentExtracted,
    DocumentFailed,
    DocumentMetadata,
    DocumentReceived,
    SegmentClassified,
    make_event,
)
from shared.ids import document_id_for, segment_id_for, sha256_hex
from shared.kafka import Publisher, ensure_topics
from shared.settings import Settings
from shared.topics import topics_for
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration

LABEL_CYCLE = ("challenge", "measure", "example", "other")


def _scores(label: str) -> dict[str, float]:
    return {name: (0.7 if name == label else 0.1) for name in LABEL_CYCLE}


def _doc_events(name: str, n: int, model: str = "m-1") -> dict[str, Any]:
    sha = sha256_hex(name.encode())
    doc = document_id_for(sha)
    received = make_event(
        DocumentReceived(
            id=doc,
            filename=f"{name}.pdf",
            sha256=sha,
            bytes=1234,
            content_type="application/pdf",
            blob_uri=f"blob://sha256/{sha}",
            source="http",
            received_at=datetime.now(UTC),
        ),
        "test",
    )
    extracted = make_event(
        DocumentExtracted(
            document_id=doc,
            metadata=DocumentMetadata(sender=f"{name} kommune", title=f"Innspill fra {name}"),
            page_count=2,
            segment_count=n,
        ),
        "test",
    )
    segments = [
        make_event(
            SegmentClassified(
                segment_id=segment_id_for(doc, i),
                document_id=doc,
                seq=i,
                page=1 + i // 3,
                heading_path=["Utfordringer"] if i else [],
                text=f"Avsnitt {i} om samhandling i {name}.",
                label=LABEL_CYCLE[i % 4],
                scores=_scores(LABEL_CYCLE[i % 4]),
                model_version=model,
                segment_count=n,
            ),
            "test",
        )
        for i in range(n)
    ]
    return {"doc": doc, "received": received, "extracted": extracted, "segments": segments}


async def _poll(
    get: Callable[[], Awaitable[httpx.Response]],
    ok: Callable[[dict[str, Any]], bool],
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        resp = await get()
        if resp.status_code == 200:
            last = resp.json()
            if ok(last):
                return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"condition not met before the deadline; last answer: {last}")


async def test_store_consumes_events_in_any_order(settings: Settings) -> None:
    await ensure_topics(settings)
    topics = topics_for(settings)
    good = _doc_events("Stange", 7)
    broken = _doc_events("Hamar", 3)
    failure = make_event(
        DocumentFailed(
            document_id=broken["doc"], stage="extract", error_code="no_text", message="no text layer"
        ),
        "test",
    )

    pub = Publisher(settings, "store-test")
    await pub.start()
    try:
        # Classified segments first, then the extraction, the receipt last: the store must cope.
        await pub.publish_many(topics.segments_classified, [(good["doc"], e) for e in good["segments"]])
        await pub.publish(topics.documents_extracted, good["doc"], good["extracted"])
        await pub.publish(topics.documents_received, good["doc"], good["received"])
        await pub.publish(topics.documents_received, broken["doc"], broken["received"])
        await pub.publish(topics.documents_failed, broken["doc"], failure)
        await pub.publish_raw(topics.segments_classified, "poison", b'{"this is": "not an event"')

        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert await app.state.runner.wait_running(90), "store agents did not start"
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
                body = await _poll(
                    lambda: client.get(f"/documents/{good['doc']}"),
                    lambda b: (
                        b["status"] == "classified" and len(b["segments"]) == 7 and b["filename"] is not None
                    ),
                )
                assert body["filename"] == "Stange.pdf"
                assert body["metadata"] == {
                    "sender": "Stange kommune",
                    "date": None,
                    "title": "Innspill fra Stange",
                    "page_count": 2,
                    "sender_kind": "ukjent",
                    "corrected": None,
                    "model": None,
                }
                assert [s["seq"] for s in body["segments"]] == list(range(7))
                assert body["counts"] == {
                    "segments": 7,
                    "classified": 7,
                    "labels": {"challenge": 2, "measure": 2, "example": 2, "other": 1},
                }
                assert body["segments"][1]["heading_path"] == ["Utfordringer"]
                assert body["segments"][1]["scores"]["measure"] == pytest.approx(0.7)

                failed = await _poll(
                    lambda: client.get(f"/documents/{broken['doc']}"), lambda b: b["status"] == "failed"
                )
                assert failed["error"]["stage"] == "extract" and failed["error"]["code"] == "no_text"

                # A replay of everything plus a re-classification of one segment by a newer model.
                newer = _doc_events("Stange", 7, model="m-2")["segments"][3]
                await pub.publish_many(
                    topics.segments_classified, [(good["doc"], e) for e in good["segments"]]
                )
                await pub.publish(topics.documents_received, good["doc"], good["received"])
                await pub.publish(topics.segments_classified, good["doc"], newer)
                body = await _poll(
                    lambda: client.get(f"/documents/{good['doc']}"),
                    lambda b: b["segments"][3]["model_version"] == "m-2",
                )
                assert len(body["segments"]) == 7 and body["status"] == "classified"
                assert [h["status"] for h in body["history"]].count("received") == 1

                listing = (await client.get("/segments", params={"sender": "Stange kommune"})).json()
                assert listing["total"] == 7
                stats = (await client.get("/stats")).json()
                assert stats["documents_by_status"]["classified"] == 1
                assert stats["documents_by_status"]["failed"] == 1
    finally:
        await pub.stop()

    letters = await read_topic(settings.kafka_bootstrap, topics.deadletter, min_count=1, idle_s=1)
    poison = [r for r in letters if r["key"] == "poison"]
    assert len(poison) >= 1
    data = poison[0]["value"]["data"]
    assert data["stage"] == "store" and data["topic"] == topics.segments_classified
    assert "not an event" in data["value"]


async def test_record_the_database_rejects_is_dead_lettered_and_the_batch_stored(
    settings: Settings, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce column lengths, so nothing is rejected there")
    settings = settings.model_copy(update={"database_url": database_url})
    await ensure_topics(settings)
    topics = topics_for(settings)
    doc = _doc_events("Vik", 4)
    bad = doc["segments"][2].model_copy(deep=True)
    bad.data.model_version = "x" * 500  # longer than the column allows on PostgreSQL
    pub = Publisher(settings, "store-test")
    await pub.start()
    try:
        batch = [doc["segments"][0], doc["segments"][1], bad, doc["segments"][3]]
        await pub.publish_many(topics.segments_classified, [(doc["doc"], e) for e in batch])
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert await app.state.runner.wait_running(90)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
                body = await _poll(
                    lambda: client.get(f"/documents/{doc['doc']}"), lambda b: len(b["segments"]) == 3
                )
                assert [s["seq"] for s in body["segments"]] == [0, 1, 3]
                assert body["status"] == "received"  # 3 of 4 classified
    finally:
        await pub.stop()
    letters = await read_topic(settings.kafka_bootstrap, topics.deadletter, min_count=1, idle_s=1)
    assert len(letters) >= 1
    assert all(r["key"] == doc["doc"] for r in letters)
    assert "x" * 100 in letters[0]["value"]["data"]["value"]
    assert (
        "DataError" in letters[0]["value"]["data"]["error"]
        or "too long" in letters[0]["value"]["data"]["error"]
    )
